package play

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"slidestream/source"
)

// reverse plays the listing backwards and records the passes it is asked
// for.
type reverse struct {
	mu     sync.Mutex
	passes []int
}

func (r *reverse) Arrange(listing []source.Slide, pass int, _ string) *source.List {
	r.mu.Lock()
	r.passes = append(r.passes, pass)
	r.mu.Unlock()
	out := slices.Clone(listing)
	slices.Reverse(out)
	return source.NewList(out)
}

// The timeline plays the order it is given, whatever it is, and starts a
// new pass each time round.
func TestTimelinePlaysItsOrder(t *testing.T) {
	order := &reverse{}
	tl := NewTimeline(newSource("a", "b", "c"), newRenderer(), TimelineOptions{Interval: 20 * time.Millisecond, Width: 64, Order: order})
	run(t, tl)
	if got := shown(t, tl, 7); fmt.Sprint(got) != "[c b a c b a c]" {
		t.Errorf("shown %v; want the reversed listing, round and round", got)
	}
	order.mu.Lock()
	defer order.mu.Unlock()
	if !slices.Contains(order.passes, 2) || !slices.IsSorted(order.passes) {
		t.Errorf("Arrange was asked for passes %v; want 0, 1, 2 in turn", order.passes)
	}
}

// The slide after the one on screen is found by name; after a slide that
// is gone comes the one that took its place.
func TestAfter(t *testing.T) {
	list := source.NewList([]source.Slide{{Name: "a"}, {Name: "c"}, {Name: "e"}})
	for _, tt := range []struct {
		cur   string
		index int // where cur was when it was picked
		want  int
	}{
		{"a", 0, 1}, {"c", 1, 2}, {"e", 2, 3}, // 3: the end of the pass
		{"b", 1, 1}, {"d", 2, 2}, {"z", 3, 3}, // gone: the slide now in its place
		{"c", 7, 2}, // found by name, wherever it was
	} {
		cur := &Slot{Slide: source.Slide{Name: tt.cur}, Index: tt.index}
		if got := after(list, cur); got != tt.want {
			t.Errorf("after(%q at %d) = %d; want %d", tt.cur, tt.index, got, tt.want)
		}
	}
}

// When the slide prepared to come next is deleted, the timeline prepares
// the one that now follows instead.
func TestTimelinePreparesAgainWhenTheNextSlideGoes(t *testing.T) {
	src := newSource("a", "b", "c")
	tl := NewTimeline(src, newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	waitFor(t, tl, "showing a with b next", func(st *State) bool {
		return st.Slide != nil && st.Slide.Slide.Name == "a" && st.Next != nil && st.Next.Slide.Name == "b"
	})
	src.set("a", "c")
	st := waitFor(t, tl, "with c next", func(st *State) bool { return st.Next != nil && st.Next.Slide.Name == "c" })
	if st.Slide.Slide.Name != "a" {
		t.Errorf("showing %s; want a to stay on screen", st.Slide.Slide.Name)
	}
}

// A slide that cannot be rendered is skipped, reported, and not tried
// again each time round.
func TestTimelineSkipsWhatCannotBeShown(t *testing.T) {
	r := newRenderer("b")
	tl := NewTimeline(newSource("a", "b", "c"), r, TimelineOptions{Interval: 10 * time.Millisecond, Width: 64})
	run(t, tl)
	if got := shown(t, tl, 6); fmt.Sprint(got) != "[a c a c a c]" {
		t.Errorf("shown %v; want b skipped", got)
	}
	if f := tl.Failures().All()["b"]; f.Err == nil {
		t.Errorf("Failures() = %v; want b with its reason", tl.Failures().All())
	}
	if n := r.count("b@64"); n != 1 {
		t.Errorf("b was rendered %d times over three passes; want once", n)
	}
}

func TestTimelineWaitsForSlides(t *testing.T) {
	src := newSource()
	tl := NewTimeline(src, newRenderer(), TimelineOptions{Interval: 10 * time.Millisecond, Empty: "no images here"})
	run(t, tl)
	waitFor(t, tl, `saying "no images here"`, func(st *State) bool { return st.Slide == nil && st.Reason == "no images here" })
	src.set("late.jpg")
	waitFor(t, tl, "showing late.jpg", func(st *State) bool { return st.Slide != nil && st.Slide.Slide.Name == "late.jpg" })
}

// While a slide shows, the next one and Lookahead more are rendered, and
// no further.
func TestTimelineRendersAhead(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b", "c", "d", "e"), r, TimelineOptions{Interval: time.Hour, Width: 64, Lookahead: 2})
	run(t, tl)
	waitFor(t, tl, "with b next", func(st *State) bool { return st.Next != nil })
	deadline := time.Now().Add(5 * time.Second)
	for r.count("c@64") == 0 || r.count("d@64") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("c and d were not rendered ahead: %v", r.calls)
		}
		time.Sleep(time.Millisecond)
	}
	if n := r.count("e@64"); n != 0 {
		t.Errorf("e, beyond the lookahead, was rendered %d times", n)
	}
	if r.countPreparing("c@64") != 1 || r.countPreparing("d@64") != 1 {
		t.Error("renders ahead are not marked Preparing: they would wait behind other clients' widths")
	}
}

// Widths that clients watch are prepared too, the most watched first, up to
// a bound.
func TestTimelinePreparesWatchedWidths(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b"), r, TimelineOptions{Interval: time.Hour, Width: 64})
	release := tl.Watch(320)
	defer release()
	run(t, tl)
	waitFor(t, tl, "with b next", func(st *State) bool { return st.Next != nil })
	if r.count("b@64") != 1 || r.count("b@320") != 1 {
		t.Errorf("renders %v; want b prepared once at 64 and at the watched 320", r.calls)
	}
	if got := tl.preparedWidths(); fmt.Sprint(got) != "[64 320]" {
		t.Errorf("preparedWidths = %v; want [64 320]", got)
	}
}

// A failure that belongs to the moment (a file that cannot be read now) is
// tried again, later each time, and the slide comes back once it renders;
// a lasting one is not.
func TestTimelineRetriesFailuresThatPass(t *testing.T) {
	r := newRenderer("c")
	r.passing["b"] = 2
	lasting := func(err error) bool { return !strings.Contains(err.Error(), "for now") }
	tl := NewTimeline(newSource("a", "b", "c"), r, TimelineOptions{Interval: 10 * time.Millisecond, Width: 64,
		Lasting: lasting, Retry: 20 * time.Millisecond})
	run(t, tl)
	got := shown(t, tl, 30)
	if !slices.Contains(got, "b") || slices.Contains(got, "c") {
		t.Errorf("shown %v; want b back after its failures passed, and c never", got)
	}
	if n := r.count("b@64"); n < 3 {
		t.Errorf("b was rendered %d times; want its two failures and a success", n)
	}
	if n := r.count("c@64"); n != 1 {
		t.Errorf("c, which fails for good, was rendered %d times; want once", n)
	}
	if _, ok := tl.Failures().All()["b"]; ok {
		t.Errorf("b is still reported skipped after it was shown")
	}
}

// A slot keeps frames only at the widths the timeline prepared; any other
// width is rendered for its caller each time and held by the renderer's
// cache alone.
func TestSlotKeepsOnlyPreparedWidths(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b"), r, TimelineOptions{Interval: time.Hour, Width: 64})
	run(t, tl)
	st := waitFor(t, tl, "with b next", func(st *State) bool { return st.Next != nil })
	for range 2 {
		if _, err := st.Slide.Frame(context.Background(), 333); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.count("a@333"); n != 2 {
		t.Errorf("an unprepared width was rendered %d times for 2 asks; want each ask to go to the renderer", n)
	}
	st.Slide.mu.Lock()
	widths := len(st.Slide.frames)
	st.Slide.mu.Unlock()
	if widths != 1 {
		t.Errorf("the slot holds frames at %d widths; want only the prepared 64", widths)
	}
	if b := st.Slide.Ready(333); b != nil {
		t.Error("Ready gave a frame at a width the slot does not keep")
	}
	if r.countPreparing("a@64") != 1 || r.countPreparing("a@333") != 0 {
		t.Errorf("renders of a marked Preparing: %d at 64, %d at 333; want the slot's own at 64 only",
			r.countPreparing("a@64"), r.countPreparing("a@333"))
	}
}

// Beyond a few on-demand widths per slide, a client gets the nearest
// prepared width instead of a new render.
func TestOnDemandWidthsAreBounded(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b"), r, TimelineOptions{Interval: time.Hour, Width: 64})
	release := tl.Watch(500)
	defer release()
	run(t, tl)
	st := waitFor(t, tl, "with b next", func(st *State) bool { return st.Next != nil })
	for w := 100; w < 120; w++ {
		if _, err := st.Slide.Frame(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	renders := 0
	for w := 100; w < 120; w++ {
		renders += r.count(fmt.Sprintf("a@%d", w))
	}
	if renders != maxOnDemandWidths {
		t.Errorf("20 distinct widths rendered %d times; want %d, the rest served at a prepared width", renders, maxOnDemandWidths)
	}
	if n := r.count("a@64") + r.count("a@500"); n != 2 {
		t.Errorf("the prepared widths were rendered %d times; want once each", n)
	}
}

// countingHolder records the frames held, by "name@width" ("fade@width"
// for a fade's), and how many times each.
type countingHolder struct {
	mu   sync.Mutex
	held map[string]int
}

func (h *countingHolder) Hold(p Picture, width int, frame []byte) func() {
	name := p.Slide.Name
	if name == "" {
		name = "fade"
	}
	k := fmt.Sprintf("%s@%d", name, width)
	h.mu.Lock()
	h.held[k]++
	h.mu.Unlock()
	return sync.OnceFunc(func() {
		h.mu.Lock()
		if h.held[k]--; h.held[k] == 0 {
			delete(h.held, k)
		}
		h.mu.Unlock()
	})
}

func (h *countingHolder) now() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprint(h.held)
}

// The frames a timeline keeps are counted while it keeps them, and only
// then: the slide on screen and the next at every prepared width, so that
// --cache-size bounds them with the cache.
func TestTimelineCountsTheFramesItHolds(t *testing.T) {
	h := &countingHolder{held: map[string]int{}}
	tl := NewTimeline(newSource("a", "b", "c", "d"), newRenderer(), TimelineOptions{Interval: time.Hour, Width: 64, Holder: h})
	release := tl.Watch(320)
	defer release()
	run(t, tl)
	for _, want := range []string{
		"map[a@320:1 a@64:1 b@320:1 b@64:1]",
		"map[b@320:1 b@64:1 c@320:1 c@64:1]",
		"map[c@320:1 c@64:1 d@320:1 d@64:1]",
		"map[a@320:1 a@64:1 d@320:1 d@64:1]",
	} {
		waitFor(t, tl, "with a next slide", func(st *State) bool { return st.Next != nil })
		deadline := time.Now().Add(5 * time.Second)
		for h.now() != want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := h.now(); got != want {
			t.Fatalf("held %s; want %s", got, want)
		}
		if err := tl.Control(context.Background(), OpNext); err != nil {
			t.Fatal(err)
		}
	}
}

// Slides are rendered ahead at every prepared width at once, so that a
// renderer can decode each photo once for all of them.
func TestTimelineRendersAheadAtEveryPreparedWidth(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("a", "b", "c", "d"), r, TimelineOptions{Interval: time.Hour, Width: 64, Lookahead: 1})
	release := tl.Watch(320)
	defer release()
	run(t, tl)
	waitFor(t, tl, "with b next", func(st *State) bool { return st.Next != nil })
	deadline := time.Now().Add(5 * time.Second)
	for r.countPreparing("c@64") == 0 || r.count("c@320") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("c was not rendered ahead at 64 and the watched 320: %v", r.calls)
		}
		time.Sleep(time.Millisecond)
	}
}
