package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// countingRead "reads" a file's date from its name's length, counting reads;
// a name starting with "bad" is an unreadable file.
func countingRead(n *atomic.Int32) func(Slide) (Info, error) {
	return func(s Slide) (Info, error) {
		n.Add(1)
		if filepath.Base(s.Name)[:3] == "bad" {
			return Info{}, errors.New("not a valid JPEG")
		}
		return Info{Format: "jpeg", Width: 4, Height: 3, Taken: time.Date(2000+len(s.Name), 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	}
}

func waitIndexed(t *testing.T, x *Index) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		listing, changed := x.Slides()
		done := len(listing) > 0 && x.Pending() == 0
		for _, s := range listing {
			if _, _, ok := x.Lookup(s); !ok {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			t.Fatal("the index did not read every file in 5s")
		}
	}
}

func TestIndexReadsOnceAndRemembersAcrossRestarts(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "index.gob")
	write(t, dir, "a.jpg", "album/bb.jpg", "album/deeper/ccc.jpg", "bad.jpg")
	f := scan(dir, FolderOptions{})
	var reads atomic.Int32
	x := NewIndex(f, IndexOptions{Read: countingRead(&reads), State: state})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	waitIndexed(t, x)
	if n := reads.Load(); n != 4 {
		t.Errorf("%d reads for 4 files", n)
	}
	list, _ := f.Slides()
	for _, s := range list {
		info, err := x.Get(s)
		when, ok := x.Taken(s)
		if s.Name == "bad.jpg" {
			if err == nil || ok {
				t.Errorf("bad.jpg: %+v, %v, dated %v", info, err, ok)
			}
			continue
		}
		if err != nil || info.Format != "jpeg" || !ok || when.Year() != 2000+len(s.Name) {
			t.Errorf("%s: %+v, %v, taken %v %v", s.Name, info, err, when, ok)
		}
	}
	if n := reads.Load(); n != 4 {
		t.Errorf("Get read again: %d reads", n)
	}
	cancel()
	<-done // saves

	// A restart reads only what it could not keep: the failure, and a
	// file that changed meanwhile.
	write(t, dir, "album/bb.jpg")
	touch := filepath.Join(dir, "album", "bb.jpg")
	later := time.Now().Add(time.Hour)
	if err := chtimes(touch, later); err != nil {
		t.Fatal(err)
	}
	f = scan(dir, FolderOptions{})
	reads.Store(0)
	x = NewIndex(f, IndexOptions{Read: countingRead(&reads), State: state})
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go x.Run(ctx)
	waitIndexed(t, x)
	if n := reads.Load(); n != 2 {
		t.Errorf("after a restart, %d reads; want 2 (bad.jpg, and album/bb.jpg, which changed)", n)
	}
	if when, ok := x.Taken(Slide{Name: "album/deeper/ccc.jpg"}); ok {
		t.Errorf("Taken answered %v for a slide at another version", when)
	}
}

func chtimes(p string, t time.Time) error { return os.Chtimes(p, t, t) }
