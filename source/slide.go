package source

import (
	"slices"
	"strings"
	"time"
)

// Slide is one image file at one version: a replaced file (same name, new
// size or modification time) is a different Slide.
type Slide struct {
	// Name is the path relative to the folder, with / separators: what
	// keys, logs and pages call it. Folder.Path gives the path to open.
	Name    string
	Size    int64
	ModTime time.Time
}

// Same reports whether s and o are the same version of the same file.
func (s Slide) Same(o Slide) bool {
	return s.Name == o.Name && s.Size == o.Size && s.ModTime.Equal(o.ModTime)
}

// List is the slides in play order at one moment, with each slide's place
// by name. It is never modified once made, so it is safe to share.
type List struct {
	slides []Slide
	index  map[string]int
}

// NewList makes a List of slides in the order given. The slice must not be
// modified afterwards. A name given twice keeps its first place.
func NewList(slides []Slide) *List {
	l := &List{slides: slides, index: make(map[string]int, len(slides))}
	for i, s := range slides {
		if _, dup := l.index[s.Name]; !dup {
			l.index[s.Name] = i
		}
	}
	return l
}

// listingList makes a List of a listing in the Folder's order, which needs
// no index: a name is found by binary search.
func listingList(slides []Slide) *List {
	if !slices.IsSortedFunc(slides, func(a, b Slide) int { return ComparePaths(a.Name, b.Name) }) {
		return NewList(slides)
	}
	return &List{slides: slides}
}

// Len is the number of slides.
func (l *List) Len() int { return len(l.slides) }

// At returns the slide at place i, from 0.
func (l *List) At(i int) Slide { return l.slides[i] }

// Find returns the place of the slide named name.
func (l *List) Find(name string) (int, bool) {
	if l.index == nil { // a listing in ComparePaths order
		i, ok := slices.BinarySearchFunc(l.slides, name, func(s Slide, name string) int { return ComparePaths(s.Name, name) })
		return i, ok
	}
	i, ok := l.index[name]
	return i, ok
}

// Slides returns the slides in play order. The slice must not be modified.
func (l *List) Slides() []Slide { return l.slides }

// ValidName reports whether name could name a slide or an album: a
// relative path that stays inside the folder, its parts separated by
// single slashes, none of them empty, starting with a dot (".", "..", dot
// files and folders) or holding a backslash or NUL. Names from peers and
// URLs are checked with it before anything is looked up.
func ValidName(name string) bool {
	if name == "" || len(name) > 4096 {
		return false
	}
	for c := range strings.SplitSeq(name, "/") {
		if c == "" || c[0] == '.' || strings.ContainsAny(c, "\\\x00") {
			return false
		}
	}
	return true
}
