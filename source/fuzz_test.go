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

// FuzzListing reads any bytes as the file a folder keeps its listing in.
// It must not panic, must keep only names a scan could list, and must not
// make more slides, or longer names, than the bytes can describe.
func FuzzListing(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "listing.bin")
	when := time.Unix(1_700_000_000, 0)
	if err := writeListing(seed, []Slide{{Name: "a.jpg", Size: 10, ModTime: when}, {Name: "album/b.png", Size: 20, ModTime: when},
		{Name: "album/c.heic"}, {Name: "../x.jpg", Size: 1, ModTime: when}}); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(seed)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(listingHeader + "\xff\xff\xff\xff\x0f"))
	dir := f.TempDir()
	folder := NewFolder(dir, FolderOptions{})
	f.Fuzz(func(t *testing.T, data []byte) {
		slides, err := parseListing(data, folder.listable)
		if err != nil && slides != nil {
			t.Fatalf("an error (%v) with %d slides", err, len(slides))
		}
		if len(slides) > len(data)/4 {
			t.Fatalf("%d slides from %d bytes", len(slides), len(data))
		}
		names := 0
		for _, s := range slides {
			if !folder.listable(s.Name) || s.Size < 0 {
				t.Fatalf("kept %+v, which no scan lists", s)
			}
			names += len(s.Name)
		}
		if names > namesPerByte*len(data)+maxNameBytes {
			t.Fatalf("%d bytes of names from %d bytes", names, len(data))
		}
	})
}
