package play

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func control(t *testing.T, tl *Timeline, op Op) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return tl.Control(ctx, op)
}

func showing(tl *Timeline) string {
	st, _ := tl.State()
	if st.Slide == nil {
		return ""
	}
	return st.Slide.Slide.Name
}

// Next, previous, pause and resume, as the timeline sees them: each has
// taken effect when Control returns.
func TestTimelineControl(t *testing.T) {
	src := newSource("a", "b", "c", "d")
	tl := NewTimeline(src, newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	waitFor(t, tl, "a", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "a" })
	for _, want := range []string{"b", "c"} {
		if err := control(t, tl, OpNext); err != nil || showing(tl) != want {
			t.Fatalf("next: %v, showing %q; want %q", err, showing(tl), want)
		}
	}
	// Pause: the clock stops, the slide stays; next still moves and stays
	// paused.
	if err := control(t, tl, OpPause); err != nil {
		t.Fatal(err)
	}
	if st, _ := tl.State(); !st.Paused || !st.NextAt.IsZero() || st.Left <= 0 {
		t.Errorf("paused state: paused %v, next at %v, left %v", st.Paused, st.NextAt, st.Left)
	}
	control(t, tl, OpNext)
	if st, _ := tl.State(); showing(tl) != "d" || !st.Paused {
		t.Errorf("next while paused shows %q, paused %v; want d, still paused", showing(tl), st.Paused)
	}
	// Back through what was shown, skipping a slide deleted meanwhile.
	src.set("a", "c", "d")
	if err := control(t, tl, OpPrev); err != nil || showing(tl) != "c" {
		t.Fatalf("prev: %v, showing %q; want c", err, showing(tl))
	}
	if err := control(t, tl, OpPrev); err != nil || showing(tl) != "a" {
		t.Fatalf("prev past the deleted b: %v, showing %q; want a", err, showing(tl))
	}
	if err := control(t, tl, OpPrev); !errors.Is(err, ErrNothingBefore) {
		t.Errorf("prev with nothing before: %v; want ErrNothingBefore", err)
	}
	if err := control(t, tl, OpResume); err != nil {
		t.Fatal(err)
	}
	if st, _ := tl.State(); st.Paused || time.Until(st.NextAt) < 50*time.Minute {
		t.Errorf("resumed: paused %v, next in %v; want a full interval again", st.Paused, time.Until(st.NextAt))
	}
}

// During the sleep hours the timeline shows nothing, renders nothing and
// refuses next and previous; pause is remembered.
func TestTimelineSleeps(t *testing.T) {
	sleep, _ := ParseSleep("22:00-06:00")
	night := time.Date(2026, 1, 10, 23, 0, 0, 0, time.UTC)
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b"), r, TimelineOptions{Interval: time.Hour, Width: 64, Sleep: sleep,
		Now: func() time.Time { return night }})
	run(t, tl)
	st := waitFor(t, tl, "asleep", func(st *State) bool { return st.Asleep })
	if st.Slide != nil || st.Wake.Hour() != 6 {
		t.Errorf("asleep state: slide %v, wake %v", st.Slide, st.Wake)
	}
	if err := control(t, tl, OpNext); !errors.Is(err, ErrAsleep) {
		t.Errorf("next while asleep: %v; want ErrAsleep", err)
	}
	if err := control(t, tl, OpPause); err != nil {
		t.Fatal(err)
	}
	if st, _ := tl.State(); !st.Paused || !st.Asleep {
		t.Errorf("pause while asleep: paused %v, asleep %v", st.Paused, st.Asleep)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) != 0 {
		t.Errorf("rendered %v while asleep; want nothing", r.calls)
	}
}

// With nothing to show, pause and resume are still taken, and published
// before Control returns; next does nothing.
func TestTimelineControlWithNothingToShow(t *testing.T) {
	tl := NewTimeline(newSource(), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64, Empty: "no images here"})
	run(t, tl)
	waitFor(t, tl, "the empty reason", func(st *State) bool { return st.Reason == "no images here" })
	if err := control(t, tl, OpPause); err != nil {
		t.Fatal(err)
	}
	if st, _ := tl.State(); !st.Paused || st.Reason != "no images here" {
		t.Errorf("after pause: paused %v, reason %q", st.Paused, st.Reason)
	}
	if err := control(t, tl, OpNext); err != nil || showing(tl) != "" {
		t.Errorf("next with nothing to show: %v, showing %q", err, showing(tl))
	}
}

// A hundred phones press next at once: the slideshow moves on once for
// all of them (later commands join the one under way), not a hundred
// times, each preparing a slide.
func TestCommandsUnderWayAreJoined(t *testing.T) {
	names := make([]string, 300)
	for i := range names {
		names[i] = string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + ".jpg"
	}
	// Slides after the first two take until the gate opens to render, as
	// large photos take a while.
	gate := make(chan struct{})
	r := &gatedRenderer{fakeRenderer: newRenderer(), gate: gate, free: map[string]bool{names[0]: true, names[1]: true}}
	tl := NewTimeline(newSource(names...), r, TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	waitFor(t, tl, "a slide and the next", func(st *State) bool { return st.Next != nil })
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if err := tl.Control(context.Background(), OpNext); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(gate)
	wg.Wait()
	st, _ := tl.State()
	if st.Slide.Index > 3 {
		t.Errorf("100 next pressed at once moved the slideshow %d slides; want them joined", st.Slide.Index)
	}
}

// gatedRenderer renders the slides it does not list as free only once
// gate is closed.
type gatedRenderer struct {
	*fakeRenderer
	gate <-chan struct{}
	free map[string]bool
}

func (g *gatedRenderer) Render(ctx context.Context, p Picture, width int) ([]byte, error) {
	if !g.free[p.Slide.Name] {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.fakeRenderer.Render(ctx, p, width)
}

// Sleep by command blacks the screens out at once and renders nothing
// until woken; woken during the sleep hours, the slideshow stays awake
// through them.
func TestTimelineSleepsAndWakesByCommand(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b"), r, TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	waitFor(t, tl, "a slide", func(st *State) bool { return st.Slide != nil })
	if err := control(t, tl, OpSleep); err != nil {
		t.Fatal(err)
	}
	if st, _ := tl.State(); !st.Asleep || st.Slide != nil || !st.Wake.IsZero() {
		t.Errorf("after sleep: asleep %v, slide %v, wake %v", st.Asleep, st.Slide, st.Wake)
	}
	if err := control(t, tl, OpNext); !errors.Is(err, ErrAsleep) {
		t.Errorf("next while asleep by command: %v; want ErrAsleep", err)
	}
	if err := control(t, tl, OpWake); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "a slide after waking", func(st *State) bool { return st.Slide != nil && !st.Asleep })

	sleep, _ := ParseSleep("22:00-06:00")
	night := time.Date(2026, 1, 10, 23, 0, 0, 0, time.UTC)
	tl = NewTimeline(newSource("a", "b"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64, Sleep: sleep,
		Now: func() time.Time { return night }})
	run(t, tl)
	waitFor(t, tl, "asleep by the hours", func(st *State) bool { return st.Asleep })
	if err := control(t, tl, OpWake); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "awake in the hours", func(st *State) bool { return st.Slide != nil && !st.Asleep })
	if err := control(t, tl, OpNext); err != nil {
		t.Errorf("next, woken in the hours: %v", err)
	}
	if st, _ := tl.State(); st.Asleep {
		t.Error("asleep again before the hours ended")
	}
}
