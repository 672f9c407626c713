package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"slidestream/encode"
	"slidestream/play"
	"slidestream/screens"
	"slidestream/source"
	"slidestream/web"
)

// look is a presentation: how a channel's frames are made and shown. The
// command line gives one; each screen of a --screens file may give its
// own.
type look struct {
	frameSpec
	width int
	fade  time.Duration
	sleep play.Sleep
	pairs bool
}

// name names the look in play.Channel.Look: the same name for the same
// presentation, so that screens alike share a timeline and frames.
func (l look) name() string {
	return fmt.Sprintf("w%d fit%dx%d q%d bg%02x%02x%02x blur%v crop%v cap%08x fade%v sleep%s pairs%v", l.width, l.fit.X, l.fit.Y,
		l.quality, l.bg.R, l.bg.G, l.bg.B, l.blur, l.crop, l.caption.Hash(), l.fade, l.sleep, l.pairs)
}

// looked is a look and the frames adapter that makes its frames.
type looked struct {
	look
	frames *frames
}

// screen is a screen of the file, resolved against the command line.
type screen struct {
	name     string
	query    url.Values // its channel, width and still, as /snapshot takes them
	look     string     // "" for the command line's
	settings map[string]any
}

// screenSet is the screens being served, and the looks any screen ever
// had (a timeline of a screen since changed may still run). It is safe
// for concurrent use.
type screenSet struct {
	mu      sync.RWMutex // protects the fields below
	list    []*screen
	byName  map[string]*screen
	looks   map[string]*looked
	flagged *looked // the command line's look, named ""
}

// flagLook is the command line's presentation.
func (c *config) flagLook() look {
	return look{frameSpec: c.frameSpec(), width: c.width, fade: c.fade, sleep: c.sleep, pairs: c.pairs}
}

// lookOf returns the look named name ("" for the command line's).
func (s *server) lookOf(name string) (*looked, bool) {
	if name == "" {
		return s.screens.flagged, true
	}
	s.screens.mu.RLock()
	defer s.screens.mu.RUnlock()
	l, ok := s.screens.looks[name]
	return l, ok
}

// resolveScreen makes screen n of the file: the command line's values
// where it sets none. The still's parameters are checked as /snapshot
// checks them.
func (s *server) resolveScreen(n screens.Named) (*screen, look, error) {
	l := s.cfg.flagLook()
	q := url.Values{}
	settings := map[string]any{}
	if n.Album != nil {
		if a := *n.Album; a != "" && !source.ValidName(a) {
			return nil, l, fmt.Errorf("album %q: want a subfolder's path such as 2024/Italy", a)
		}
		q.Set("album", *n.Album)
		settings["album"] = *n.Album
	}
	if n.Order != "" {
		if !slices.Contains(source.OrderNames, n.Order) {
			return nil, l, fmt.Errorf("order %q: want one of %v", n.Order, source.OrderNames)
		}
		q.Set("order", n.Order)
		settings["order"] = n.Order
	}
	if n.Interval != "" {
		d, err := time.ParseDuration(n.Interval)
		if err != nil || d < play.MinInterval || d > play.MaxInterval {
			return nil, l, fmt.Errorf("interval %q: want a duration from %v to %v", n.Interval, play.MinInterval, play.MaxInterval)
		}
		q.Set("interval", d.String())
		settings["interval"] = n.Interval
	}
	if n.Taken != "" || n.Days != 0 {
		sel, err := source.ParseTaken(n.Taken, n.Days)
		if err != nil {
			return nil, l, err
		}
		taken, days := sel.Query()
		q.Set("taken", taken)
		settings["taken"] = taken
		if days != 0 {
			q.Set("days", strconv.Itoa(days))
			settings["days"] = days
		}
	}
	if n.Motion != "" {
		if n.Motion != "stills" && n.Motion != "auto" {
			return nil, l, fmt.Errorf("motion %q: want stills or auto", n.Motion)
		}
		q.Set("motion", n.Motion)
		settings["motion"] = n.Motion
	}
	if n.Fit != "" {
		var b boxFlag
		if err := b.Set(n.Fit); err != nil {
			return nil, l, fmt.Errorf("fit %q: %v", n.Fit, err)
		}
		l.fit, l.width = image.Point(b), b.X
		settings["fit"] = n.Fit
	}
	if n.Width != 0 {
		switch {
		case n.Width < encode.MinWidth || n.Width > encode.MaxWidth:
			return nil, l, fmt.Errorf("width %d: want %d to %d", n.Width, encode.MinWidth, encode.MaxWidth)
		case n.Fit != "" && n.Width != l.fit.X:
			return nil, l, fmt.Errorf("fit %s and width %d: fit sets the width; give one of them", n.Fit, n.Width)
		}
		l.width = n.Width
		settings["width"] = n.Width
	}
	if n.Fill != "" {
		if n.Fill != "color" && n.Fill != "blur" && n.Fill != "crop" {
			return nil, l, fmt.Errorf("fill %q: want color, blur or crop", n.Fill)
		}
		l.blur, l.crop = n.Fill == "blur", n.Fill == "crop"
		settings["fill"] = n.Fill
	}
	if (l.blur || l.crop) && l.fit.X == 0 {
		return nil, l, errors.New("fill blur or crop: needs fit, the frame to fill")
	}
	if n.Caption != nil {
		c, err := encode.ParseCaption(*n.Caption)
		if err != nil {
			return nil, l, fmt.Errorf("caption: %v", err)
		}
		l.caption = c
		settings["caption"] = *n.Caption
	}
	if n.Fade != "" {
		d, err := time.ParseDuration(n.Fade)
		if err != nil || d < 0 || d > time.Minute {
			return nil, l, fmt.Errorf("fade %q: want 0 (cut) to 1m", n.Fade)
		}
		l.fade = d
		settings["fade"] = n.Fade
	}
	if n.PairPortraits != nil {
		l.pairs = *n.PairPortraits
		settings["pair_portraits"] = l.pairs
	}
	if l.pairs && l.fit.X <= l.fit.Y {
		return nil, l, errors.New("pair_portraits: needs a landscape fit, such as 1920x1080")
	}
	if n.Sleep != nil {
		sl, err := play.ParseSleep(*n.Sleep)
		if err != nil {
			return nil, l, err
		}
		l.sleep = sl
		settings["sleep"] = *n.Sleep
	}
	if n.Quality != 0 {
		if n.Quality < 1 || n.Quality > 100 {
			return nil, l, fmt.Errorf("quality %d: want 1 to 100", n.Quality)
		}
		l.quality = n.Quality
		settings["quality"] = n.Quality
	}
	q.Set("width", strconv.Itoa(l.width))
	still := map[string]string{"size": n.Size, "palette": n.Palette, "calibrated": n.Calibrated, "dither": n.Dither, "lift": n.Lift, "format": n.Format}
	if n.Rotate != 0 {
		still["rotate"] = strconv.Itoa(n.Rotate)
	}
	hasStill := false
	for k, v := range still {
		if v != "" {
			q.Set(k, v)
			settings[k] = v
			hasStill = true
		}
	}
	if hasStill {
		if err := s.handler.CheckStill(q); err != nil {
			return nil, l, err
		}
	}
	sc := &screen{name: n.Name, query: q, settings: settings}
	if l.name() != s.cfg.flagLook().name() {
		sc.look = l.name()
	}
	return sc, l, nil
}

// loadScreens parses a screens file and, when it is good, serves its
// screens in place of the last ones.
func (s *server) loadScreens(b []byte) error {
	type made struct {
		sc *screen
		l  look
	}
	var all []made
	_, err := screens.Parse(b, func(n screens.Named) error {
		sc, l, err := s.resolveScreen(n)
		if err == nil {
			all = append(all, made{sc, l})
		}
		return err
	})
	if err != nil {
		return err
	}
	set := &s.screens
	set.mu.Lock()
	defer set.mu.Unlock()
	set.list, set.byName = nil, map[string]*screen{}
	for _, m := range all {
		set.list = append(set.list, m.sc)
		set.byName[m.sc.name] = m.sc
		if m.sc.look != "" && set.looks[m.sc.look] == nil {
			s.frames.tr.AddCaption(m.l.caption)
			f := *s.frames
			f.frameSpec = m.l.frameSpec
			set.looks[m.sc.look] = &looked{look: m.l, frames: &f}
		}
	}
	return nil
}

// reloadScreens serves a screens file read again, and shows its screens
// in Home Assistant.
func (s *server) reloadScreens(b []byte) error {
	before := s.screenDefs()
	if err := s.loadScreens(b); err != nil {
		return err
	}
	// A screen the file now defines anew loses what was set for it at
	// run time; every stream finds its channel again.
	after := s.screenDefs()
	for name, def := range before {
		if after[name] != def {
			s.handler.ForgetSettings(name)
		}
	}
	// Home Assistant stops following the screens taken out before the
	// followers find their channels again.
	if s.mqtt != nil {
		s.mqtt.SetChannels(mqttChannels(s.handler))
	}
	s.handler.Rerouted()
	return nil
}

// screenDefs are the screens' definitions by name, to compare.
func (s *server) screenDefs() map[string]string {
	s.screens.mu.RLock()
	defer s.screens.mu.RUnlock()
	defs := map[string]string{}
	for _, sc := range s.screens.list {
		defs[sc.name] = sc.query.Encode() + " " + sc.look
	}
	return defs
}

// Screen answers for a screen name (web.Screens).
func (s *server) Screen(name string) (url.Values, string, bool) {
	s.screens.mu.RLock()
	defer s.screens.mu.RUnlock()
	sc := s.screens.byName[name]
	if sc == nil {
		return nil, "", false
	}
	q := url.Values{}
	for k, v := range sc.query {
		q[k] = slices.Clone(v)
	}
	return q, sc.look, true
}

// List lists the screens (web.Screens).
func (s *server) List() []web.ScreenInfo {
	s.screens.mu.RLock()
	defer s.screens.mu.RUnlock()
	out := make([]web.ScreenInfo, 0, len(s.screens.list))
	for _, sc := range s.screens.list {
		out = append(out, web.ScreenInfo{Name: sc.name, Settings: sc.settings})
	}
	return out
}

// stills makes the stills of every look (web.Stills).
type stills struct{ s *server }

func (st stills) frames(look string) *frames {
	if l, ok := st.s.lookOf(look); ok {
		return l.frames
	}
	return st.s.frames
}

func (st stills) StillTag(look string, p play.Picture, size image.Point, spec encode.StillSpec) string {
	return st.frames(look).StillTag(p, size, spec)
}

func (st stills) Still(ctx context.Context, look string, p play.Picture, size image.Point, spec encode.StillSpec) ([]byte, error) {
	return st.frames(look).Still(ctx, p, size, spec)
}
