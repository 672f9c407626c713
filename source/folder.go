package source

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"slidestream/decode"
)

// Folder keeps the list of slides in a directory up to date by polling it:
// the files whose names decode takes for images (dot files excluded).
// Polling one directory listing a second costs little and, unlike inotify,
// also works on network and FUSE mounts and when the directory itself is
// deleted and made again. It is safe for concurrent use.
type Folder struct {
	dir string
	log *slog.Logger

	mu      sync.Mutex // protects slides, err and changed
	slides  []Slide
	err     error         // why the last scan failed, if it did
	changed chan struct{} // closed when slides changes
}

// NewFolder returns a Folder for dir and scans it once. A nil log discards.
func NewFolder(dir string, log *slog.Logger) *Folder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Folder{dir: dir, log: log, changed: make(chan struct{})}
	f.Scan()
	return f
}

// Dir returns the directory being watched.
func (f *Folder) Dir() string { return f.dir }

// Slides returns the current slides in name order, and a channel that is
// closed when they change.
func (f *Folder) Slides() ([]Slide, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slides, f.changed
}

// Stat returns the slide named name as it is on disk now, or an error if
// there is no such file or the folder would not list it (a dot file, a
// name that is no image's, a directory, a path into a subfolder).
func (f *Folder) Stat(name string) (Slide, error) {
	if strings.HasPrefix(name, ".") || strings.Contains(name, "/") || !decode.IsImageName(name) {
		return Slide{}, fmt.Errorf("%q is not a name the folder lists", name)
	}
	p := filepath.Join(f.dir, name)
	info, err := os.Stat(p)
	if err != nil {
		return Slide{}, err
	}
	if !info.Mode().IsRegular() {
		return Slide{}, fmt.Errorf("%q is not a regular file", name)
	}
	return Slide{Name: name, Path: p, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// Watch rescans every interval until ctx ends.
func (f *Folder) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Scan()
		}
	}
}

// Scan lists the directory now and publishes any change. A missing or
// unreadable directory is an empty list, logged once until it recovers.
func (f *Folder) Scan() {
	slides, err := list(f.dir)
	f.mu.Lock()
	defer f.mu.Unlock()
	if (err == nil) != (f.err == nil) {
		if err != nil {
			f.log.Warn("cannot read the image folder; waiting for it", "dir", f.dir, "err", err)
		} else {
			f.log.Info("image folder is readable again", "dir", f.dir)
		}
	}
	f.err = err
	if slices.EqualFunc(slides, f.slides, Slide.Same) {
		return
	}
	if f.slides == nil {
		f.log.Info("found images", "dir", f.dir, "slides", len(slides))
	} else {
		added, removed, replaced := diff(f.slides, slides)
		f.log.Info("folder changed", "dir", f.dir, "slides", len(slides), "added", added, "removed", removed, "replaced", replaced)
	}
	f.slides = slides
	close(f.changed)
	f.changed = make(chan struct{})
}

func list(dir string) ([]Slide, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Slide
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !decode.IsImageName(name) {
			continue
		}
		p := filepath.Join(dir, name)
		// Stat follows symbolic links: a link to a photo is a photo. Anything
		// that is not a directory stays in the list even if it is not a
		// regular file, so that the decoder can say why it is skipped.
		info, err := os.Stat(p)
		if err != nil || info.IsDir() {
			continue
		}
		var size int64
		var mtime time.Time
		if info.Mode().IsRegular() {
			size, mtime = info.Size(), info.ModTime()
		}
		out = append(out, Slide{Name: name, Path: p, Size: size, ModTime: mtime})
	}
	// os.ReadDir sorts by name already; keep it explicit: it is the
	// listing's order, which ByName plays in.
	slices.SortFunc(out, func(a, b Slide) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func diff(old, cur []Slide) (added, removed, replaced int) {
	byName := make(map[string]Slide, len(old))
	for _, s := range old {
		byName[s.Name] = s
	}
	for _, s := range cur {
		o, ok := byName[s.Name]
		switch {
		case !ok:
			added++
		case !o.Same(s):
			replaced++
		}
		delete(byName, s.Name)
	}
	return added, len(byName), replaced
}
