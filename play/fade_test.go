package play

import (
	"context"
	"sync"
	"testing"
	"time"
)

// countingFader mixes nothing: it hands back the target frame for every
// step, and counts the runs it is asked for.
type countingFader struct {
	mu   sync.Mutex
	runs int
}

func (f *countingFader) Fade(ctx context.Context, from, to []byte, steps int, each func(int, []byte) bool) error {
	f.mu.Lock()
	f.runs++
	f.mu.Unlock()
	for i := 1; i < steps; i++ {
		if !each(i, to) {
			break
		}
	}
	return nil
}

func (f *countingFader) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.runs }

// Thirty screens at thirty widths watch a crossfade. A slot renders only
// its prepared widths and a few on demand, and serves the rest the nearest
// prepared frame; so it must fade only the frames it serves, once each,
// not once per width asked (with 4096-wide frames that was 2.7 GB).
func TestFadesAreMadeOncePerServedFrame(t *testing.T) {
	fader := &countingFader{}
	r := newRenderer()
	tl := NewTimeline(newSource("a.jpg", "b.jpg"), r, TimelineOptions{Interval: time.Hour, Width: 640, Fade: 2 * time.Second, Fader: fader})
	run(t, tl)
	for w := 4067; w <= 4096; w++ {
		defer tl.Watch(w)()
	}
	waitFor(t, tl, "showing a.jpg", func(st *State) bool { return st.Slide != nil && st.Next != nil })
	if err := tl.Control(context.Background(), OpNext); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, tl, "fading into b.jpg", func(st *State) bool { return st.Fade != nil })
	f := st.Fade
	served := map[fadePair]bool{}
	for w := 4067; w <= 4096; w++ {
		served[fadePair{f.From.serves(w), f.To.serves(w)}] = true
		if _, done, err := f.Frame(w, 1); err != nil {
			t.Fatalf("frame(%d, 1): %v", w, err)
		} else if done != nil {
			<-done
		}
	}
	// Each slot serves at most its prepared and on-demand widths; the
	// pairs of them met across sorted widths are fewer than both added.
	most := 2 * (maxPreparedWidths + maxOnDemandWidths)
	if n := fader.count(); n != len(served) || n > most {
		t.Errorf("30 widths during a fade made %d fade runs; want one per pair of frames served (%d), at most %d", n, len(served), most)
	}
	t.Logf("30 widths, %d fade runs", fader.count())
}
