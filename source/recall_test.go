package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A restart shows the listing the last run kept at once, before the folder
// is listed, and the scan then corrects it: files gone and added since,
// and a folder that became a link (never followed) with what it held.
func TestFolderRecallsTheLastListing(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	write(t, dir, "a.jpg", "b.png", "2024/x.jpg", "2024/trip/y.jpg", "later/z.jpg")
	write(t, elsewhere, "secret.jpg")
	keep := filepath.Join(t.TempDir(), "state", "listing.bin")

	ctx, cancel := context.WithCancel(context.Background())
	first := NewFolder(dir, FolderOptions{Remember: keep})
	var wg sync.WaitGroup
	wg.Go(func() { first.Watch(ctx, 0) })
	<-first.Listed()
	want, _ := first.Slides()
	for {
		if _, err := os.Stat(keep); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	os.Remove(filepath.Join(dir, "a.jpg"))
	write(t, dir, "c.jpg")
	os.RemoveAll(filepath.Join(dir, "later"))
	if err := os.Symlink(elsewhere, filepath.Join(dir, "later")); err != nil {
		t.Fatal(err)
	}

	f := NewFolder(dir, FolderOptions{Remember: keep})
	f.recall()
	if !isClosed(f.Ready()) || isClosed(f.Listed()) {
		t.Fatalf("after recall: ready %v, listed %v; want ready, not listed", isClosed(f.Ready()), isClosed(f.Listed()))
	}
	got, changed := f.Slides()
	wantNames := slices.DeleteFunc(names(want), func(n string) bool { return InAlbum(n, "later") })
	if !slices.Equal(names(got), wantNames) {
		t.Errorf("recalled listing %q; want %q (the last run's, less the folder that is a link now)", names(got), wantNames)
	}
	for i, s := range got {
		if !s.Same(want[i]) {
			t.Errorf("recalled %+v; the last run listed %+v", s, want[i])
		}
	}
	if s, err := f.Stat("2024/trip/y.jpg"); err != nil || s.Name != "2024/trip/y.jpg" {
		t.Errorf("Stat of a recalled slide: %+v, %v", s, err)
	}
	if albums := f.Albums(); len(albums) == 0 {
		t.Error("no albums in the recalled listing")
	}

	f.Scan()
	if !isClosed(f.Listed()) || !isClosed(changed) {
		t.Fatal("the scan after a recall did not mark the folder listed and signal the change")
	}
	after, _ := f.Slides()
	if w := []string{"b.png", "c.jpg", "2024/x.jpg", "2024/trip/y.jpg"}; !slices.Equal(names(after), w) {
		t.Errorf("listing after the scan %q; want %q", names(after), w)
	}

	// A scan that finishes first wins: a recall after it changes nothing.
	g := NewFolder(dir, FolderOptions{Remember: keep})
	g.Scan()
	g.recall()
	if list, _ := g.Slides(); !slices.Equal(names(list), names(after)) {
		t.Errorf("a recall after the scan replaced the listing with %q", names(list))
	}
}

// The listing file is a hint, and may have been written to hurt: names a
// scan could not list (outside the folder, dot and skipped folders, no
// image's) are left out, and a damaged file is no listing at all.
func TestFolderRecallTakesOnlyWhatAScanCouldList(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.jpg", "sub/ok.png", ".hidden/a.jpg", "@eaDir/b.jpg", "sub/.c.jpg")
	keep := filepath.Join(t.TempDir(), "listing.bin")
	when := time.Unix(1_700_000_000, 5)
	var forged []Slide
	for _, n := range []string{"../outside.jpg", "/etc/x.jpg", "ok.jpg", "sub/../ok.jpg", "sub//ok.png", "./ok.jpg",
		".hidden/a.jpg", "@eaDir/b.jpg", "sub/.c.jpg", "notes.txt", "sub/ok.png", "nul\x00.jpg", "sub/", ""} {
		forged = append(forged, Slide{Name: n, Size: 3, ModTime: when})
	}
	if err := writeListing(keep, forged); err != nil {
		t.Fatal(err)
	}
	f := NewFolder(dir, FolderOptions{Remember: keep})
	f.recall()
	list, _ := f.Slides()
	if want := []string{"ok.jpg", "sub/ok.png"}; !slices.Equal(names(list), want) {
		t.Errorf("recalled %q; want %q", names(list), want)
	}
	if len(list) > 0 && (!list[0].ModTime.Equal(when) || list[0].Size != 3) {
		t.Errorf("recalled %+v; want size 3 and time %v", list[0], when)
	}
	flat := NewFolder(dir, FolderOptions{Remember: keep, Flat: true})
	flat.recall()
	if list, _ := flat.Slides(); !slices.Equal(names(list), []string{"ok.jpg"}) {
		t.Errorf("a flat folder recalled %q; want the top folder's only", names(list))
	}

	b, _ := os.ReadFile(keep)
	for _, bad := range [][]byte{b[:len(b)-1], append(b[:len(b):len(b)], 0), []byte("slidestream listing 0\n"), {}} {
		os.WriteFile(keep, bad, 0o600)
		g := NewFolder(dir, FolderOptions{Remember: keep})
		g.recall()
		if isClosed(g.Ready()) {
			list, _ := g.Slides()
			t.Errorf("a damaged listing file (%d bytes) was shown: %q", len(bad), names(list))
		}
	}
	os.Remove(keep)
	syscall.Mkfifo(keep, 0o600) // a FIFO would block a plain open for ever
	g := NewFolder(dir, FolderOptions{Remember: keep})
	g.recall()
	if isClosed(g.Ready()) {
		t.Error("a FIFO in place of the listing file was read as one")
	}
}

// Names are stored as what each adds to the one before, so a small file
// could stand for gigabytes of names: they are bounded in all.
func TestListingNamesAreBoundedInAll(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(listingHeader)
	put := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	const count = 1 << 20
	put(count)
	long := strings.Repeat("a/", maxNameBytes/2-4) + "x.jpg" // one long name, then the same again and again
	put(0)
	put(uint64(len(long)))
	b.WriteString(long)
	put(1)
	b.Write(binary.AppendVarint(nil, 0))
	for range count - 1 {
		put(uint64(len(long)))
		put(0)
		put(1)
		b.Write(binary.AppendVarint(nil, 0))
	}
	f := NewFolder(t.TempDir(), FolderOptions{})
	slides, err := parseListing(b.Bytes(), f.listable)
	if err == nil {
		t.Fatalf("a %d-byte file read as %d slides of %d-byte names", b.Len(), len(slides), len(long))
	}
	t.Logf("%d bytes: %v", b.Len(), err)
}
