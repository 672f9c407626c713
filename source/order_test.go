package source

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func listing(n int) []Slide {
	var out []Slide
	for i := range n {
		out = append(out, Slide{Name: fmt.Sprintf("p%02d.jpg", i)})
	}
	return out
}

// A shuffle plays every photo once per pass, deals each pass anew, and
// never shows one photo twice in a row across passes.
func TestShuffleDealsEveryPhotoOncePerPass(t *testing.T) {
	photos := listing(50)
	s := NewShuffle(7)
	var passes [][]string
	last := ""
	for pass := range 20 {
		got := names(s.Arrange(photos, pass, last).Slides())
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, names(photos)) {
			t.Fatalf("pass %d plays %d photos, not each of the 50 once: %q", pass, len(got), got)
		}
		if got[0] == last {
			t.Errorf("pass %d starts with %s, which ended pass %d", pass, last, pass-1)
		}
		last = got[len(got)-1]
		passes = append(passes, got)
	}
	if slices.Equal(passes[0], passes[1]) || slices.Equal(passes[0], names(photos)) {
		t.Error("two passes dealt the same order, or the first is the name order")
	}
	// Asked again within a pass (the listing changed under it), the deal
	// stands.
	if again := names(s.Arrange(photos, 19, passes[19][10]).Slides()); !slices.Equal(again, passes[19]) {
		t.Error("the same pass was dealt anew")
	}
}

func TestShuffleTakesChangesIntoTheCurrentPass(t *testing.T) {
	photos := listing(30)
	s := NewShuffle(3)
	deal := names(s.Arrange(photos, 0, "").Slides())
	current := deal[10] // ten have been shown
	// Five photos arrive, two go.
	changed := slices.Clone(photos)
	for i := range 5 {
		changed = append(changed, Slide{Name: fmt.Sprintf("new%d.jpg", i)})
	}
	gone := []string{deal[3], deal[20]}
	changed = slices.DeleteFunc(changed, func(s Slide) bool { return slices.Contains(gone, s.Name) })
	got := names(s.Arrange(changed, 0, current).Slides())
	if len(got) != len(changed) {
		t.Fatalf("after the change the pass has %d photos; want %d", len(got), len(changed))
	}
	at := slices.Index(got, current)
	if want := slices.DeleteFunc(slices.Clone(deal[:11]), func(n string) bool { return slices.Contains(gone, n) }); !slices.Equal(got[:at+1], want) {
		t.Errorf("what was already shown changed: %q; want %q", got[:at+1], want)
	}
	for i := range 5 {
		if k := slices.Index(got, fmt.Sprintf("new%d.jpg", i)); k <= at {
			t.Errorf("new%d.jpg is at %d, not among the photos still to come (after %d)", i, k, at)
		}
	}
}

func TestByDatePlaysInTheOrderTaken(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 5, d, 12, 0, 0, 0, time.UTC) }
	photos := []Slide{
		{Name: "a.jpg", ModTime: day(1)},
		{Name: "b.jpg", ModTime: day(2)},  // no date taken: its mtime
		{Name: "c.jpg", ModTime: day(30)}, // taken on the 3rd, at +02:00
		{Name: "d.jpg", ModTime: day(30)},
	}
	taken := map[string]time.Time{
		"a.jpg": day(20),
		"c.jpg": time.Date(2024, 5, 3, 13, 0, 0, 0, time.FixedZone("", 2*3600)), // 11:00 UTC
		"d.jpg": day(3),
	}
	by := func(s Slide) (time.Time, bool) { t, ok := taken[s.Name]; return t, ok }
	if got := names(ByDate{Taken: by}.Arrange(photos, 0, "").Slides()); !slices.Equal(got, []string{"b.jpg", "c.jpg", "d.jpg", "a.jpg"}) {
		t.Errorf("taken: %q", got)
	}
	if got := names(ByDate{Taken: by, Newest: true}.Arrange(photos, 0, "").Slides()); !slices.Equal(got, []string{"a.jpg", "d.jpg", "c.jpg", "b.jpg"}) {
		t.Errorf("newest: %q", got)
	}
}
