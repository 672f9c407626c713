package play

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sleep is a daily span of local time during which screens go dark
// (--sleep HH:MM-HH:MM). It may cross midnight ("22:30-07:00"). The zero
// value never sleeps.
type Sleep struct {
	from, to int // minutes after midnight; from == to means never
}

// ParseSleep reads "HH:MM-HH:MM" (24-hour clock, local time). An empty
// string is no sleep.
func ParseSleep(s string) (Sleep, error) {
	if s == "" {
		return Sleep{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	from, err1 := clockMinutes(a)
	to, err2 := clockMinutes(b)
	if !ok || err1 != nil || err2 != nil {
		return Sleep{}, fmt.Errorf("sleep %q: want HH:MM-HH:MM in local time, such as 22:30-07:00", s)
	}
	if from == to {
		return Sleep{}, fmt.Errorf("sleep %q: the start and the end are the same time", s)
	}
	return Sleep{from: from, to: to}, nil
}

func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("bad time of day %q", s)
	}
	return hh*60 + mm, nil
}

// On reports whether there are sleep hours at all.
func (s Sleep) On() bool { return s.from != s.to }

func (s Sleep) String() string {
	if !s.On() {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60)
}

// At reports whether t falls in the sleep hours, and when that next
// changes: the end of this sleep, or the start of the next one. Days are
// counted in t's location, so a change of daylight saving time moves the
// hours with the clock on the wall.
func (s Sleep) At(t time.Time) (asleep bool, until time.Time) {
	if !s.On() {
		return false, time.Time{}
	}
	y, mo, d := t.Date()
	at := func(day, minute int) time.Time {
		return time.Date(y, mo, d+day, minute/60, minute%60, 0, 0, t.Location())
	}
	// The boundaries around t: yesterday's, today's and tomorrow's starts
	// and ends. The latest boundary at or before t decides.
	var last, next time.Time
	lastIsStart := false
	for day := -1; day <= 1; day++ {
		for _, b := range []struct {
			t     time.Time
			start bool
		}{{at(day, s.from), true}, {at(day, s.to), false}} {
			if !b.t.After(t) {
				if last.IsZero() || b.t.After(last) {
					last, lastIsStart = b.t, b.start
				}
			} else if next.IsZero() || b.t.Before(next) {
				next = b.t
			}
		}
	}
	return lastIsStart, next
}
