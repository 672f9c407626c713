package play

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeMover moves slide "b": a clip of ten 100 ms frames, made at once,
// noting when each width's frames start being made.
type fakeMover struct {
	mu      sync.Mutex
	started map[string]time.Time
}

func (f *fakeMover) Moves(p Picture) Moves {
	if p.Slide.Name != "b" {
		return Moves{}
	}
	return Moves{Length: time.Second, Then: HoldLast}
}

func (f *fakeMover) Motion(ctx context.Context, p Picture, width int, each func([]byte, time.Duration) bool) error {
	f.mu.Lock()
	f.started[p.Slide.Name] = time.Now()
	f.mu.Unlock()
	for i := range 10 {
		if !each([]byte{byte(i), 0xD9}, 100*time.Millisecond) {
			return nil
		}
	}
	return nil
}

// A slide that moves has its motion made while it is next, so that its
// first motion frame is there the moment it shows.
func TestMotionIsMadeAhead(t *testing.T) {
	mv := &fakeMover{started: map[string]time.Time{}}
	tl := NewTimeline(newSource("a", "b", "c"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64, Mover: mv})
	run(t, tl)
	waitFor(t, tl, "b prepared", func(st *State) bool { return st.Slide != nil && st.Next != nil && st.Next.Slide.Name == "b" })
	deadline := time.Now().Add(5 * time.Second)
	for {
		mv.mu.Lock()
		_, ahead := mv.started["b"]
		mv.mu.Unlock()
		if ahead {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b's motion was not made while b was next")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := control(t, tl, OpNext); err != nil {
		t.Fatal(err)
	}
	st, _ := tl.State()
	if st.Motion == nil || st.Motion.Slot != st.Slide {
		t.Fatalf("b shows without its motion: %+v", st)
	}
	if b, _, _ := st.Motion.Frame(64, time.Now()); b == nil || b[0] != 0 {
		t.Errorf("b's first motion frame when it shows: %v; want frame 0 at once", b)
	}
	if b, _, _ := st.Motion.Frame(64, time.Now().Add(550*time.Millisecond)); b == nil || b[0] != 5 {
		t.Errorf("b's motion frame 0.55 s in: %v; want frame 5", b)
	}
}
