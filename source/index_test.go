package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingRead "reads" a file's date from its name's length, counting reads;
// a name starting with "bad" is an unreadable file, one starting with
// "moving" an animation of 1.5 s.
func countingRead(n *atomic.Int32) func(Slide) (Info, error) {
	return func(s Slide) (Info, error) {
		n.Add(1)
		if filepath.Base(s.Name)[:3] == "bad" {
			return Info{}, errors.New("not a valid JPEG")
		}
		in := Info{Format: "jpeg", Width: 4, Height: 3, Taken: time.Date(2000+len(s.Name), 1, 1, 0, 0, 0, 0, time.UTC)}
		if strings.HasPrefix(filepath.Base(s.Name), "moving") {
			in.Motion, in.Length = "animation", 1500*time.Millisecond
		}
		return in, nil
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
	write(t, dir, "a.jpg", "album/bb.jpg", "album/deeper/ccc.jpg", "bad.jpg", "moving.jpg")
	f := scan(dir, FolderOptions{})
	var reads atomic.Int32
	x := NewIndex(f, IndexOptions{Read: countingRead(&reads), State: state})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	waitIndexed(t, x)
	if n := reads.Load(); n != 5 {
		t.Errorf("%d reads for 5 files", n)
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
	if n := reads.Load(); n != 5 {
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
	// How a slide moves is kept too: pages of a large library read no
	// file to say it.
	list, _ = f.Slides()
	for _, s := range list {
		if info, _, _ := x.Lookup(s); s.Name == "moving.jpg" && (info.Motion != "animation" || info.Length != 1500*time.Millisecond) {
			t.Errorf("after a restart, moving.jpg is %q for %v; want an animation of 1.5s", info.Motion, info.Length)
		}
	}
	if when, ok := x.Taken(Slide{Name: "album/deeper/ccc.jpg"}); ok {
		t.Errorf("Taken answered %v for a slide at another version", when)
	}
}

func chtimes(p string, t time.Time) error { return os.Chtimes(p, t, t) }

// runIndex runs x until the test ends.
func runIndex(t *testing.T, x *Index) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// The state file is a hint. A FIFO in its place must not block the start
// (it used to, for ever, and SIGTERM with it).
func TestIndexStateFileMustBeARegularFile(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "index.gob")
	write(t, dir, "a.jpg", "b.jpg")
	if err := syscall.Mkfifo(state, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	var reads atomic.Int32
	logs := &lockedWriter{}
	x := NewIndex(scan(dir, FolderOptions{}), IndexOptions{Read: countingRead(&reads), State: state,
		Log: slog.New(slog.NewTextHandler(logs, nil))})
	runIndex(t, x)
	waitIndexed(t, x)
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads; want the 2 files read from the photos", n)
	}
	if l := logs.String(); !strings.Contains(l, "not a regular file") {
		t.Errorf("log %q; want it to say the index file is not a regular file", l)
	}
}

// lockedWriter is a log a logger writes and a test reads.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedWriter) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// A state file far larger than the folder (stale, or written to hurt) is
// read only as far as the listing needs, and keeps only the listing's
// files; a header it gives is not trusted where a lie would cost: Checked
// reads the file again.
func TestIndexStateFileIsBoundedAndAHint(t *testing.T) {
	dir, state := t.TempDir(), filepath.Join(t.TempDir(), "index.gob")
	write(t, dir, "a.jpg", "b.jpg", "c.jpg")
	f := scan(dir, FolderOptions{})
	listing, _ := f.Slides()
	var recs []record
	for _, s := range listing {
		recs = append(recs, record{Name: s.Name, Size: s.Size, ModTime: s.ModTime.UnixNano(), Format: "jpeg", Width: 7, Height: 5})
	}
	for i := range 3 * stateSlack {
		recs = append(recs, record{Name: fmt.Sprintf("gone/%d.jpg", i), Size: 1, Format: "jpeg", Width: 1, Height: 1})
	}
	if err := writeState(state, recs); err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int32
	x := NewIndex(f, IndexOptions{Read: countingRead(&reads), State: state})
	n, err := x.load(listing)
	if n != 3 || err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("load of %d records for 3 files kept %d (%v); want 3, and the reason it stopped", len(recs), n, err)
	}
	if len(x.entries) != 3 {
		t.Errorf("%d entries after loading; want the listing's 3", len(x.entries))
	}
	if i, _ := x.Get(listing[0]); i.Width != 7 || reads.Load() != 0 {
		t.Errorf("Get = %dx%d after %d reads; want the state file's 7x5, unread", i.Width, i.Height, reads.Load())
	}
	if i, _ := x.Checked(listing[0]); i.Width != 4 || reads.Load() != 1 {
		t.Errorf("Checked = %dx%d after %d reads; want the file's own 4x3, read once", i.Width, i.Height, reads.Load())
	}
	if i, _ := x.Checked(listing[0]); i.Width != 4 || reads.Load() != 1 {
		t.Errorf("Checked again = %dx%d after %d reads; want no second read", i.Width, i.Height, reads.Load())
	}
}

// A file that could not be read for a moment (permission denied) and is
// then decoded and shown is no longer reported with the old reason: Healed
// reads it again at once.
func TestIndexHealedForgetsAFailureOfTheMoment(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.jpg")
	f := scan(dir, FolderOptions{})
	var denied atomic.Bool
	denied.Store(true)
	x := NewIndex(f, IndexOptions{
		Read: func(s Slide) (Info, error) {
			if denied.Load() {
				return Info{}, errors.New("permission denied")
			}
			return Info{Format: "jpeg", Width: 4, Height: 3}, nil
		},
		Lasting: func(error) bool { return false },
	})
	listing, _ := f.Slides()
	if _, err := x.Get(listing[0]); err == nil {
		t.Fatal("the first read should fail")
	}
	denied.Store(false)
	x.Healed(listing[0])
	if i, err, ok := x.Lookup(listing[0]); !ok || err != nil || i.Width != 4 {
		t.Errorf("after Healed: %+v, %v, known %v; want the file's header and no failure", i, err, ok)
	}
}
