package play

import (
	"testing"
	"time"
)

func TestSleepHours(t *testing.T) {
	night, err := ParseSleep("22:30-07:00")
	if err != nil {
		t.Fatal(err)
	}
	day, err := ParseSleep("12:00-13:15")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		s      Sleep
		t      time.Time
		asleep bool
		until  time.Time
	}{
		{night, at(10, 23, 0), true, at(11, 7, 0)},
		{night, at(11, 3, 0), true, at(11, 7, 0)},
		{night, at(11, 7, 0), false, at(11, 22, 30)}, // the end belongs to the day
		{night, at(11, 22, 30), true, at(12, 7, 0)},  // the start to the night
		{night, at(11, 12, 0), false, at(11, 22, 30)},
		{day, at(11, 12, 30), true, at(11, 13, 15)},
		{day, at(11, 13, 15), false, at(12, 12, 0)},
		{day, at(11, 8, 0), false, at(11, 12, 0)},
	} {
		asleep, until := c.s.At(c.t)
		if asleep != c.asleep || !until.Equal(c.until) {
			t.Errorf("%s at %s: asleep %v until %s; want %v until %s", c.s, c.t.Format("Jan 2 15:04"), asleep, until.Format("Jan 2 15:04"), c.asleep, c.until.Format("Jan 2 15:04"))
		}
	}
	// Local time: the hours follow the clock on the wall across a change
	// of daylight saving time (Europe: 29 March 2026, 02:00 → 03:00).
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		s, _ := ParseSleep("23:00-07:00")
		asleep, until := s.At(time.Date(2026, 3, 29, 1, 30, 0, 0, loc))
		if !asleep || until.Hour() != 7 || until.Day() != 29 {
			t.Errorf("over the change to summer time: asleep %v until %s; want asleep until 07:00", asleep, until)
		}
	}
	if asleep, until := (Sleep{}).At(at(1, 1, 1)); asleep || !until.IsZero() {
		t.Errorf("no sleep hours: asleep %v until %v", asleep, until)
	}
	for _, bad := range []string{"22:30", "22:30-", "24:00-07:00", "22:3-07:00", "7-8", "10:00-10:00", "aa:bb-cc:dd", "22:30-07:60"} {
		if _, err := ParseSleep(bad); err == nil {
			t.Errorf("ParseSleep(%q) accepted it", bad)
		}
	}
}
