package source

import (
	"testing"
	"time"
)

func TestParseTaken(t *testing.T) {
	for _, c := range []struct {
		s    string
		days int
		want string
		bad  bool
	}{
		{"this-day", 0, "this-day", false},
		{"this-day", 3, "this-day±3", false},
		{"2024-06-01..2024-08-31", 0, "2024-06-01..2024-08-31", false},
		{"last-90d", 0, "last-90d", false},
		{"", 0, "", false},
		{"this-day", 40, "", true},
		{"last-90d", 2, "", true},
		{"", 2, "", true},
		{"2024-08-31..2024-06-01", 0, "", true},
		{"2024-06-01", 0, "", true},
		{"last-0d", 0, "", true},
		{"yesterday", 0, "", true},
	} {
		sel, err := ParseTaken(c.s, c.days)
		if (err != nil) != c.bad || (!c.bad && sel.String() != c.want) {
			t.Errorf("ParseTaken(%q, %d) = %q, %v", c.s, c.days, sel.String(), err)
		}
	}
}

func TestTakenHolds(t *testing.T) {
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04 -07:00", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.Local)
	thisDay, _ := ParseTaken("this-day", 0)
	widened, _ := ParseTaken("this-day", 1)
	span, _ := ParseTaken("2024-06-01..2024-08-31", 0)
	last, _ := ParseTaken("last-7d", 0)
	for _, c := range []struct {
		sel   Taken
		taken string
		want  bool
	}{
		{thisDay, "2019-01-01 23:30 +09:00", true}, // its own calendar day, whatever UTC says
		{thisDay, "2019-01-02 00:10 +00:00", false},
		{thisDay, "2018-12-31 23:59 -05:00", false},
		{widened, "2018-12-31 23:59 -05:00", true}, // a day before, across the year
		{widened, "2019-01-02 00:10 +00:00", true},
		{widened, "2019-01-03 12:00 +00:00", false},
		{span, "2024-06-01 00:00 +00:00", true},
		{span, "2024-08-31 23:59 +00:00", true},
		{span, "2024-09-01 00:00 +00:00", false},
		{last, "2025-12-26 08:00 +00:00", true},
		{last, "2025-12-25 20:00 +00:00", false},
		{last, "2026-01-02 08:00 +00:00", false},
	} {
		if got := c.sel.Holds(at(c.taken), now); got != c.want {
			t.Errorf("%s holds %s on %v: %v; want %v", c.sel, c.taken, now.Format("2006-01-02"), got, c.want)
		}
	}
}

// A date view follows its listing's signal, and the day: a photo whose
// date arrives later joins, and this-day moves at midnight.
func TestDateViewFollowsDatesAndTheClock(t *testing.T) {
	dates := map[string]time.Time{}
	src := &fakeListing{slides: []Slide{{Name: "a.jpg"}, {Name: "b.jpg"}}, changed: make(chan struct{})}
	now := time.Date(2026, 3, 10, 23, 0, 0, 0, time.Local)
	sel, _ := ParseTaken("this-day", 0)
	v := NewDateView(src, func(s Slide) (time.Time, bool) { t, ok := dates[s.Name]; return t, ok }, sel, func() time.Time { return now })
	if got, _ := v.Slides(); len(got) != 0 {
		t.Fatalf("no dates known: %v", got)
	}
	dates["a.jpg"] = time.Date(2020, 3, 10, 12, 0, 0, 0, time.UTC)
	dates["b.jpg"] = time.Date(2021, 3, 11, 12, 0, 0, 0, time.UTC)
	close(src.changed) // the index read the dates
	src.changed = make(chan struct{})
	got, changed := v.Slides()
	if changed == (<-chan struct{})(src.changed) {
		t.Error("this-day's signal is the listing's alone: it would not fire at midnight")
	}
	if len(got) != 1 || got[0].Name != "a.jpg" {
		t.Fatalf("on 10 March: %v", got)
	}
	now = now.Add(2 * time.Hour) // past midnight
	if got, _ := v.Slides(); len(got) != 1 || got[0].Name != "b.jpg" {
		t.Fatalf("on 11 March: %v", got)
	}
	// The listing changing fires the view's signal.
	close(src.changed)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Error("the view's signal did not fire when its listing changed")
	}
}

type fakeListing struct {
	slides  []Slide
	changed chan struct{}
}

func (f *fakeListing) Slides() ([]Slide, <-chan struct{}) { return f.slides, f.changed }
