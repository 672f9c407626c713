package source

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzIndexState reads any bytes as the index's state file: a file
// damaged, truncated, written by something else or to hurt. Loading must
// not panic, must keep only files of the listing, and must stay within
// the listing's bound.
func FuzzIndexState(f *testing.F) {
	listing := []Slide{{Name: "a.jpg", Size: 10, ModTime: time.Unix(5, 0)}, {Name: "b/c.png", Size: 20, ModTime: time.Unix(6, 0)}}
	seed := filepath.Join(f.TempDir(), "seed.gob")
	recs := []record{{Name: "a.jpg", Size: 10, ModTime: 5e9, Format: "jpeg", Width: 4000, Height: 3000, Taken: time.Unix(1e9, 0)},
		{Name: "gone.jpg", Size: 1, Format: "png", Width: 1, Height: 1}}
	if err := writeState(seed, recs); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(seed)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		state := filepath.Join(dir, "index.gob")
		if err := os.WriteFile(state, data, 0o600); err != nil {
			t.Fatal(err)
		}
		x := &Index{state: state, entries: map[string]entry{}, failed: map[string]failure{}, changed: make(chan struct{})}
		n, _ := x.load(listing)
		if n > len(listing) || len(x.entries) > len(listing) {
			t.Fatalf("kept %d records (%d entries) for a listing of %d", n, len(x.entries), len(listing))
		}
		for name := range x.entries {
			if name != "a.jpg" && name != "b/c.png" {
				t.Fatalf("kept %q, which the listing does not have", name)
			}
		}
	})
}
