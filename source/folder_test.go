package source

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func names(list []Slide) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

func TestFolderListsImagesInNameOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.JPG", "a.png", "c.WebP", "d.jpeg", ".hidden.jpg", "notes.txt", "e.gif", "f.jpg~"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub.jpg"), 0o755)
	os.Symlink(filepath.Join(dir, "a.png"), filepath.Join(dir, "link.png"))
	f := NewFolder(dir, slog.New(slog.DiscardHandler))
	list, _ := f.Slides()
	want := []string{"a.png", "b.JPG", "c.WebP", "d.jpeg", "e.gif", "link.png"}
	if got := names(list); !slices.Equal(got, want) {
		t.Errorf("Slides() = %q; want %q", got, want)
	}
	if s, err := f.Stat("c.WebP"); err != nil || !s.Same(list[2]) || s.Path != filepath.Join(dir, "c.WebP") {
		t.Errorf(`Stat("c.WebP") = %+v, %v; want %+v`, s, err, list[2])
	}
	for _, n := range []string{".hidden.jpg", "notes.txt", "missing.jpg", "sub.jpg", "../b.JPG", "sub.jpg/x.jpg"} {
		if s, err := f.Stat(n); err == nil {
			t.Errorf("Stat(%q) = %+v; want an error: the folder does not list it", n, s)
		}
	}
}

func TestFolderSignalsChanges(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jpg")
	os.WriteFile(a, []byte("one"), 0o644)
	f := NewFolder(dir, slog.New(slog.DiscardHandler))
	before, changed := f.Slides()

	f.Scan() // nothing changed
	select {
	case <-changed:
		t.Fatal("a scan without changes signalled a change")
	default:
	}

	os.WriteFile(a, []byte("three"), 0o644) // same name, new size
	os.Chtimes(a, time.Now(), time.Now().Add(time.Second))
	f.Scan()
	select {
	case <-changed:
	default:
		t.Fatal("replacing a file did not signal a change")
	}
	after, _ := f.Slides()
	if len(after) != 1 || after[0].Same(before[0]) {
		t.Errorf("after replacing a.jpg: %+v; want a new version of it", after)
	}

	os.RemoveAll(dir) // a vanished folder is an empty list, not an error
	f.Scan()
	if list, _ := f.Slides(); len(list) != 0 {
		t.Errorf("Slides() of a deleted folder = %q; want none", names(list))
	}
}
