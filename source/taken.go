package source

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Taken selects photos by the date they were taken, by its calendar day
// where the photo was taken (the EXIF date's own wall clock):
//
//	this-day          today's day and month, in any year (days widens it to ±days)
//	2024-06-01..2024-08-31   a range of days, both ends included
//	last-90d          the last 90 days, today included
//
// A photo whose date is not known is in no selection. The zero Taken
// selects nothing: it is off.
type Taken struct {
	kind     string // "this-day", "range", "last"; "" for off
	days     int    // this-day: ± days; last: how many days
	from, to day    // range
}

// day is a calendar day, comparable in order.
type day struct{ y, m, d int }

func dayOf(t time.Time) day { return day{t.Year(), int(t.Month()), t.Day()} }

func (a day) before(b day) bool {
	return a.y < b.y || a.y == b.y && (a.m < b.m || a.m == b.m && a.d < b.d)
}

func (a day) String() string { return fmt.Sprintf("%04d-%02d-%02d", a.y, a.m, a.d) }

// MaxDays bounds days: this-day ± a month, the last ten years.
const (
	maxThisDayDays = 31
	maxLastDays    = 3660
)

// ParseTaken reads a selection as the URL's taken= and days= give it
// ("" is off; days only widens this-day).
func ParseTaken(s string, days int) (Taken, error) {
	switch {
	case s == "":
		if days != 0 {
			return Taken{}, fmt.Errorf("days=%d: only with taken=this-day", days)
		}
		return Taken{}, nil
	case s == "this-day":
		if days < 0 || days > maxThisDayDays {
			return Taken{}, fmt.Errorf("days=%d: want 0 to %d", days, maxThisDayDays)
		}
		return Taken{kind: "this-day", days: days}, nil
	case days != 0:
		return Taken{}, fmt.Errorf("days=%d: only with taken=this-day", days)
	case strings.HasPrefix(s, "last-") && strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s, "last-"), "d"))
		if err != nil || n < 1 || n > maxLastDays {
			return Taken{}, fmt.Errorf("taken %q: want last-Nd with N from 1 to %d", s, maxLastDays)
		}
		return Taken{kind: "last", days: n}, nil
	}
	a, b, ok := strings.Cut(s, "..")
	from, err1 := time.Parse("2006-01-02", a)
	to, err2 := time.Parse("2006-01-02", b)
	if !ok || err1 != nil || err2 != nil || to.Before(from) {
		return Taken{}, fmt.Errorf("taken %q: want this-day, last-Nd (last-90d) or a range of days FROM..TO (2024-06-01..2024-08-31)", s)
	}
	return Taken{kind: "range", from: dayOf(from), to: dayOf(to)}, nil
}

// On reports whether t selects at all.
func (t Taken) On() bool { return t.kind != "" }

// String is t as ParseTaken reads it (days apart): the same selection,
// the same string.
func (t Taken) String() string {
	switch t.kind {
	case "this-day":
		if t.days > 0 {
			return fmt.Sprintf("this-day±%d", t.days)
		}
		return "this-day"
	case "range":
		return t.from.String() + ".." + t.to.String()
	case "last":
		return fmt.Sprintf("last-%dd", t.days)
	}
	return ""
}

// Query is t as URL parameters: taken, and days when it widens this-day.
func (t Taken) Query() (taken string, days int) {
	switch t.kind {
	case "this-day":
		return "this-day", t.days
	case "":
		return "", 0
	}
	return t.String(), 0
}

// Describe says what t selects, for a screen that has nothing to show.
func (t Taken) Describe() string {
	switch t.kind {
	case "this-day":
		if t.days > 0 {
			return fmt.Sprintf("taken within %d days of this day in any year", t.days)
		}
		return "taken on this day in any year"
	case "range":
		return fmt.Sprintf("taken from %s to %s", t.from, t.to)
	case "last":
		return fmt.Sprintf("taken in the last %d days", t.days)
	}
	return ""
}

// Holds reports whether a photo taken at taken (in its own zone) is
// selected on the local day of now.
func (t Taken) Holds(taken, now time.Time) bool {
	d := dayOf(taken)
	switch t.kind {
	case "range":
		return !d.before(t.from) && !t.to.before(d)
	case "last":
		today := dayOf(now)
		first := dayOf(now.AddDate(0, 0, -(t.days - 1)))
		return !d.before(first) && !today.before(d)
	case "this-day":
		// The same day and month in the photo's year, ± days: a photo of
		// 31 December is within a day of 1 January.
		for _, y := range []int{d.y - 1, d.y, d.y + 1} {
			anniversary := time.Date(y, now.Month(), now.Day(), 12, 0, 0, 0, time.UTC)
			at := time.Date(d.y, time.Month(d.m), d.d, 12, 0, 0, 0, time.UTC)
			if gap := at.Sub(anniversary).Hours() / 24; gap >= -float64(t.days)-0.01 && gap <= float64(t.days)+0.01 {
				return true
			}
		}
	}
	return false
}

// moves reports whether t's selection moves with the clock.
func (t Taken) moves() bool { return t.kind == "this-day" || t.kind == "last" }

// DateView is the part of a listing that a Taken selects, as a listing of
// its own. Its change signal fires when the listing's does (the index
// reading dates fires it, so a photo whose date arrives later joins) and,
// for a selection that follows the clock, at local midnight. It is safe
// for concurrent use.
type DateView struct {
	src interface {
		Slides() ([]Slide, <-chan struct{})
	}
	taken func(Slide) (time.Time, bool)
	sel   Taken
	now   func() time.Time

	mu     sync.Mutex // protects the fields below
	of     <-chan struct{}
	on     day // the local day the slides were cut on
	out    <-chan struct{}
	slides []Slide
}

// NewDateView returns the slides of src that sel selects, by the dates
// taken gives; now is the clock (time.Now when nil).
func NewDateView(src interface {
	Slides() ([]Slide, <-chan struct{})
}, taken func(Slide) (time.Time, bool), sel Taken, now func() time.Time) *DateView {
	if now == nil {
		now = time.Now
	}
	return &DateView{src: src, taken: taken, sel: sel, now: now}
}

// Slides returns the selected slides in src's order, and the signal of
// their next change.
func (v *DateView) Slides() ([]Slide, <-chan struct{}) {
	all, changed := v.src.Slides()
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.of == changed && v.on == dayOf(now) && v.slides != nil {
		return v.slides, v.out
	}
	v.slides = make([]Slide, 0)
	for _, s := range all {
		if t, ok := v.taken(s); ok && v.sel.Holds(t, now) {
			v.slides = append(v.slides, s)
		}
	}
	v.of, v.on, v.out = changed, dayOf(now), changed
	if v.sel.moves() {
		// Fires at the listing's change or at the next local midnight,
		// whichever comes first.
		out := make(chan struct{})
		y, m, d := now.Date()
		midnight := time.Date(y, m, d+1, 0, 0, 0, 0, now.Location())
		go func() {
			t := time.NewTimer(midnight.Sub(now))
			defer t.Stop()
			select {
			case <-changed:
			case <-t.C:
			}
			close(out)
		}()
		v.out = out
	}
	return v.slides, v.out
}

// Ready returns a channel closed once the folder below has been listed.
func (v *DateView) Ready() <-chan struct{} {
	if r, ok := v.src.(interface{ Ready() <-chan struct{} }); ok {
		return r.Ready()
	}
	return closed
}
