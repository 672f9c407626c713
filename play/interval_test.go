package play

import (
	"errors"
	"testing"
	"time"
)

// SetInterval retimes the slide on screen without moving the slideshow:
// a shorter interval ends a slide shown long enough at once, a longer one
// keeps it; the new interval is in the state at once.
func TestSetIntervalKeepsThePlace(t *testing.T) {
	tl := NewTimeline(newSource("a", "b", "c", "d"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	waitFor(t, tl, "a", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "a" })
	if st, _ := tl.State(); st.Interval != time.Hour {
		t.Fatalf("interval in the state: %v; want 1h", st.Interval)
	}
	// Longer: a stays, and its end moves by the difference.
	before, _ := tl.State()
	if err := tl.SetInterval(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	st, _ := tl.State()
	if st.Interval != 2*time.Hour || showing(tl) != "a" {
		t.Fatalf("after 2h: interval %v, showing %q; want 2h, a", st.Interval, showing(tl))
	}
	if d := st.NextAt.Sub(before.NextAt); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("the slide's end moved by %v; want 1h", d)
	}
	// Shorter than a has been shown: b follows at once, then c after
	// the new interval.
	time.Sleep(1100 * time.Millisecond)
	start := time.Now()
	if err := tl.SetInterval(time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "b at once", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "b" })
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("b came %v after the interval was shortened; want at once", took)
	}
	waitFor(t, tl, "c a second later", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "c" })
	// Paused, the slide keeps at most the new interval.
	if err := tl.SetInterval(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := control(t, tl, OpPause); err != nil {
		t.Fatal(err)
	}
	if err := tl.SetInterval(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, tl, "left at most 2s", func(st *State) bool { return st.Paused && st.Left <= 2*time.Second && st.Interval == 2*time.Second })
	if st.Left <= 0 {
		t.Errorf("paused with %v left", st.Left)
	}
	// Out of bounds, and throughput mode.
	if err := tl.SetInterval(time.Millisecond); err == nil {
		t.Error("an interval of 1ms was taken")
	}
	fast := NewTimeline(newSource("a"), newRenderer(), TimelineOptions{Width: 64})
	if err := fast.SetInterval(time.Second); !errors.Is(err, ErrNoClock) {
		t.Errorf("interval 0 retimed: %v; want ErrNoClock", err)
	}
}
