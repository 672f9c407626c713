package play

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"slidestream/internal/urgent"
	"slidestream/source"
)

// fakeSource is a Lister whose listing a test sets.
type fakeSource struct {
	mu      sync.Mutex
	slides  []source.Slide
	changed chan struct{}
}

func newSource(names ...string) *fakeSource {
	f := &fakeSource{changed: make(chan struct{})}
	f.set(names...)
	return f
}

func (f *fakeSource) Slides() ([]source.Slide, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slides, f.changed
}

// set replaces the listing with files of these names, one version each.
func (f *fakeSource) set(names ...string) {
	slides := make([]source.Slide, len(names))
	for i, n := range names {
		slides[i] = source.Slide{Name: n, Size: int64(len(n)), ModTime: time.Unix(1, 0)}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slides = slides
	close(f.changed)
	f.changed = make(chan struct{})
}

// fakeRenderer gives every slide a small real JPEG of its own, fails the
// slides it is told to, and counts what it is asked for by "name@width".
type fakeRenderer struct {
	bad map[string]bool
	// passing counts down the renders of a slide that fail "for now".
	passing map[string]int

	mu        sync.Mutex // protects calls and preparing
	calls     map[string]int
	preparing map[string]int // the calls marked Preparing
}

func newRenderer(bad ...string) *fakeRenderer {
	r := &fakeRenderer{bad: map[string]bool{}, passing: map[string]int{}, calls: map[string]int{}, preparing: map[string]int{}}
	for _, b := range bad {
		r.bad[b] = true
	}
	return r
}

// frame is the JPEG the renderer gives the slide named name: grey, of a
// shade of its own.
func (r *fakeRenderer) frame(name string) []byte {
	m := image.NewGray(image.Rect(0, 0, 8, 8))
	shade := byte(0)
	for _, c := range []byte(name) {
		shade = shade*31 + c
	}
	for i := range m.Pix {
		m.Pix[i] = shade
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, m, nil)
	return buf.Bytes()
}

func (r *fakeRenderer) Render(ctx context.Context, p Picture, width int) ([]byte, error) {
	s := p.Slide
	r.mu.Lock()
	r.calls[fmt.Sprintf("%s@%d", s.Name, width)]++
	if urgent.Is(ctx) {
		r.preparing[fmt.Sprintf("%s@%d", s.Name, width)]++
	}
	passing := r.passing[s.Name] > 0
	if passing {
		r.passing[s.Name]--
	}
	r.mu.Unlock()
	if passing {
		return nil, fmt.Errorf("%s: cannot read it for now", s.Name)
	}
	if r.bad[s.Name] {
		return nil, fmt.Errorf("%s: not a valid JPEG", s.Name)
	}
	return r.frame(s.Name), nil
}

// countPreparing is how many times call was asked for marked Preparing.
func (r *fakeRenderer) countPreparing(call string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.preparing[call]
}

func (r *fakeRenderer) count(call string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[call]
}

// run starts tl until the test ends.
func run(t *testing.T, tl *Timeline) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor returns the first state for which ok holds, failing the test
// after 5 seconds.
func waitFor(t *testing.T, tl *Timeline, what string, ok func(*State) bool) *State {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		st, changed := tl.State()
		if ok(st) {
			return st
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no state %s within 5s; last: %+v", what, st)
		}
	}
}

// shown records the names of the slides shown, in turn, until n are seen.
func shown(t *testing.T, tl *Timeline, n int) []string {
	t.Helper()
	var names []string
	var last *Slot
	waitFor(t, tl, fmt.Sprintf("after %d slides", n), func(st *State) bool {
		if st.Slide != nil && st.Slide != last {
			last = st.Slide
			names = append(names, st.Slide.Slide.Name)
		}
		return len(names) >= n
	})
	return names
}
