package web

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"slidestream/play"
	"slidestream/source"
)

// fakeSource is a Lister of files of these names, one version each, that
// never changes.
type fakeSource []source.Slide

func newSource(names ...string) fakeSource {
	var f fakeSource
	for _, n := range names {
		f = append(f, source.Slide{Name: n, Size: 1})
	}
	return f
}

func (f fakeSource) Slides() ([]source.Slide, <-chan struct{}) { return f, nil }

// fakeRenderer gives every slide a small real JPEG of its own.
type fakeRenderer struct{}

func newRenderer() fakeRenderer { return fakeRenderer{} }

// frame is the JPEG the renderer gives the slide named name: grey, of a
// shade of its own.
func (fakeRenderer) frame(name string) []byte {
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

func (r fakeRenderer) Render(_ context.Context, p play.Picture, _ int) ([]byte, error) {
	return r.frame(p.Slide.Name), nil
}

// run starts tl until the test ends.
func run(t *testing.T, tl *play.Timeline) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor returns the first state for which ok holds, failing the test
// after 5 seconds.
func waitFor(t *testing.T, tl *play.Timeline, what string, ok func(*play.State) bool) *play.State {
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
