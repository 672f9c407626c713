package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"slidestream/play"
	"slidestream/source"
)

// parseChannel reads ?album=, ?order= and ?interval= from q; what is not
// given is def's.
func parseChannel(q url.Values, def play.Channel) (play.Channel, error) {
	c := def
	if q.Has("album") {
		a := strings.Trim(q.Get("album"), "/")
		if a != "" && !source.ValidName(a) {
			return c, fmt.Errorf("album %q: want a subfolder's path such as 2024/Italy", q.Get("album"))
		}
		c.Album = a
	}
	if q.Has("order") {
		o := q.Get("order")
		if !slices.Contains(source.OrderNames, o) {
			return c, fmt.Errorf("order %q: want one of %s", o, strings.Join(source.OrderNames, ", "))
		}
		c.Order = o
	}
	if q.Has("interval") {
		v := q.Get("interval")
		d, err := time.ParseDuration(v)
		if err != nil || d < play.MinInterval || d > play.MaxInterval {
			return c, fmt.Errorf("interval %q: want a duration from %v to %v, such as 10s or 1m", v, play.MinInterval, play.MaxInterval)
		}
		// Whole milliseconds: 1s and 1000000001ns are one channel, not
		// two clocks.
		c.Interval = d.Round(time.Millisecond)
	}
	if q.Has("taken") || q.Has("days") {
		days := 0
		if v := q.Get("days"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("days %q: want a whole number of days", v)
			}
			days = n
		}
		sel, err := source.ParseTaken(q.Get("taken"), days)
		if err != nil {
			return c, err
		}
		c.Taken, c.Days = sel.Query()
	}
	if q.Has("motion") {
		switch q.Get("motion") {
		case "stills":
			c.Stills = true
		case "auto":
			c.Stills = false
		default:
			return c, fmt.Errorf("motion %q: want stills or auto", q.Get("motion"))
		}
	}
	// The look is no public parameter: ServeHTTP sets it from a screen,
	// after taking away any the request carried.
	c.Look = q.Get(lookParam)
	return c, nil
}

// lookParam carries a screen's look inside the handler.
const lookParam = "look"

// query is the URL query that asks for c where def is the default: only
// what differs.
func channelQuery(c, def play.Channel) url.Values {
	q := url.Values{}
	if c.Album != def.Album {
		q.Set("album", c.Album)
	}
	if c.Order != def.Order {
		q.Set("order", c.Order)
	}
	if c.Interval != def.Interval {
		q.Set("interval", c.Interval.String())
	}
	if c.Stills != def.Stills {
		q.Set("motion", map[bool]string{true: "stills", false: "auto"}[c.Stills])
	}
	if c.Taken != def.Taken || c.Days != def.Days {
		q.Set("taken", c.Taken)
		if c.Days != 0 {
			q.Set("days", strconv.Itoa(c.Days))
		}
	}
	return q
}
