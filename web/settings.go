package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"slidestream/play"
	"slidestream/source"
)

// Settings: the album and the interval of the default channel and of each
// screen can be changed while the server runs (POST /api/settings, or Home
// Assistant's album list and interval), over what the command line or the
// screens file gave, until the server stops or the screens file changes
// that screen.
//
// A new album is a new channel: every stream of the default channel or of
// the screen moves to it, on the same connection, as do the state reports
// followed for Home Assistant. A new interval retimes the channel's
// timeline in place (play.Timeline.SetInterval), so the slideshow keeps
// its place; screens that share a timeline share its interval.
//
// A channel named by its URL (?album=, ?order=, ...) is that URL: it
// cannot be changed.

// setting is what was set for one named channel: "" is the default
// channel, any other name a screen.
type setting struct {
	album    *string       // nil: as given
	interval time.Duration // 0: as given
}

// routing holds the settings and tells streams when the channel a name
// stands for may have changed.
type routing struct {
	mu    sync.Mutex
	sets  map[string]setting
	moved chan struct{} // closed and replaced at every change
}

func (rt *routing) init() {
	rt.sets = map[string]setting{}
	rt.moved = make(chan struct{})
}

// changed returns a channel closed when the next change comes.
func (h *Handler) changed() <-chan struct{} {
	h.routing.mu.Lock()
	defer h.routing.mu.Unlock()
	return h.routing.moved
}

// Rerouted tells streams that what a name stands for may have changed
// (the screens file was read again): each finds its channel again and
// moves to it if it is another.
func (h *Handler) Rerouted() {
	h.routing.mu.Lock()
	defer h.routing.mu.Unlock()
	close(h.routing.moved)
	h.routing.moved = make(chan struct{})
}

// ForgetSettings drops what was set for screen name, which its file now
// defines anew.
func (h *Handler) ForgetSettings(name string) {
	h.routing.mu.Lock()
	defer h.routing.mu.Unlock()
	delete(h.routing.sets, name)
}

func (h *Handler) settingOf(name string) setting {
	h.routing.mu.Lock()
	defer h.routing.mu.Unlock()
	return h.routing.sets[name]
}

// base is the default channel as set now: the one a URL that names no
// channel asks for, and what a URL naming part of one starts from.
func (h *Handler) base() play.Channel {
	c := h.def
	if a := h.settingOf("").album; a != nil {
		c.Album = *a
	}
	return c
}

// channelParams name a channel in a query.
var channelParams = []string{"album", "order", "interval", "taken", "days", "motion"}

// namedChannel says which named channel q asks for: a screen's name, ""
// for the default channel, or ok false for a channel named by its URL.
func namedChannel(q url.Values) (name string, ok bool) {
	if s := q.Get("screen"); s != "" {
		return s, true
	}
	for _, p := range channelParams {
		if q.Has(p) {
			return "", false
		}
	}
	return "", true
}

// retime gives tl, just acquired for q's channel c, the interval set for
// the name q stands for, unless its interval was changed already: a
// timeline started again after its clients left gets it back, and two
// screens sharing a timeline do not take it from each other.
func (h *Handler) retime(q url.Values, c play.Channel, tl *play.Timeline) {
	name, ok := namedChannel(q)
	if !ok {
		return
	}
	d := h.settingOf(name).interval
	if d == 0 {
		return
	}
	if st, _ := tl.State(); st.Interval == c.Interval && st.Interval != d {
		tl.SetInterval(d)
	}
}

// Settings are the changes Set takes; a nil field is left as it is.
type Settings struct {
	// Album is the album to show, "" for the whole library.
	Album *string
	// Interval is how long each slide shows.
	Interval *time.Duration
}

// ErrFixedChannel: the channel a request names by its URL cannot be set.
var ErrFixedChannel = errors.New("a channel named by its URL (album, order, interval, taken or days) is that URL and cannot be changed; " +
	"set the default channel's or a screen's (?screen=NAME)")

// Set changes the album or interval of the default channel or the screen
// that q names, for client, and returns the state after it. An album the
// folder does not have is refused (an error wrapping play.ErrNoAlbum) and
// changes nothing.
func (h *Handler) Set(ctx context.Context, q url.Values, s Settings, client string) (StateReport, error) {
	q, err := h.publicQuery(q)
	if err != nil {
		return StateReport{}, err
	}
	name, ok := namedChannel(q)
	if !ok {
		return StateReport{}, ErrFixedChannel
	}
	if s.Album != nil {
		a := strings.Trim(*s.Album, "/")
		if a != "" && !source.ValidName(a) {
			return StateReport{}, badQuery{fmt.Errorf("album %q: want a subfolder's path such as 2024/Italy", *s.Album)}
		}
		s.Album = &a
	}
	if d := s.Interval; d != nil && (*d < play.MinInterval || *d > play.MaxInterval) {
		return StateReport{}, badQuery{fmt.Errorf("interval %v: want %v to %v", *d, play.MinInterval, play.MaxInterval)}
	}
	if s.Interval != nil {
		*s.Interval = s.Interval.Round(time.Millisecond)
	}
	// The album is tried before it is kept: an unknown one changes
	// nothing.
	h.routing.mu.Lock()
	old := h.routing.sets[name]
	set := old
	if s.Album != nil {
		set.album = s.Album
	}
	if s.Interval != nil {
		set.interval = *s.Interval
	}
	h.routing.sets[name] = set
	h.routing.mu.Unlock()
	undo := func() {
		h.routing.mu.Lock()
		h.routing.sets[name] = old
		h.routing.mu.Unlock()
	}
	nq, err := h.publicQuery(q)
	if err != nil {
		undo()
		return StateReport{}, err
	}
	tl, c, release, err := h.acquire(nq, client)
	if err != nil {
		undo()
		return StateReport{}, err
	}
	defer release()
	if s.Interval != nil {
		if err := tl.SetInterval(*s.Interval); err != nil {
			undo()
			return StateReport{}, badQuery{err}
		}
	}
	if s.Album != nil && (old.album == nil || *old.album != *s.Album) {
		h.Rerouted()
	}
	args := []any{"channel", c.String(), "by", client}
	if name != "" {
		args = append(args, "screen", name)
	}
	if s.Album != nil {
		args = append(args, "album", *s.Album)
	}
	if s.Interval != nil {
		args = append(args, "interval", s.Interval.String())
	}
	h.log.Info("channel set", args...)
	// A channel just started says what it shows once it has chosen.
	wctx, cancel := context.WithTimeout(ctx, commandWait)
	defer cancel()
	firstState(wctx, tl)
	return h.namedReport(nq, tl, c), nil
}

// maxSettingsBody bounds POST /api/settings' form.
const maxSettingsBody = 4 << 10

// serveSettings answers POST /api/settings (a form: album=, interval=),
// for the default channel or ?screen=NAME.
func (h *Handler) serveSettings(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSettingsBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "settings: "+err.Error(), http.StatusBadRequest)
		return
	}
	var s Settings
	if r.PostForm.Has("album") {
		a := r.PostForm.Get("album")
		s.Album = &a
	}
	if r.PostForm.Has("interval") {
		v := r.PostForm.Get("interval")
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, fmt.Sprintf("interval %q: want a duration such as 30s or 5m", v), http.StatusBadRequest)
			return
		}
		s.Interval = &d
	}
	if s.Album == nil && s.Interval == nil {
		http.Error(w, "settings: give album= or interval= in the form", http.StatusBadRequest)
		return
	}
	rep, err := h.Set(r.Context(), r.URL.Query(), s, r.RemoteAddr)
	var bad badQuery
	switch {
	case err == nil:
		writeJSON(w, rep)
	case errors.Is(err, ErrFixedChannel), errors.As(err, &bad):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, play.ErrNoAlbum):
		http.Error(w, fmt.Sprintf("no album %q in the folder (GET /api/albums lists them)", *s.Album), http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
}

// AlbumNames lists the albums a named channel may be set to, at most max
// of them in order, and returns a channel closed when the folder changes.
func (h *Handler) AlbumNames(max int) ([]string, <-chan struct{}) {
	if h.albums == nil {
		return nil, nil
	}
	_, changed := h.albums.Slides()
	var names []string
	for _, a := range h.albums.Albums() {
		if len(names) == max {
			break
		}
		names = append(names, a.Path)
	}
	return names, changed
}

// requery is the query r stands for now: a screen's request applies the
// screen again (its album may have been set, its file changed); any
// other request is its own.
func (h *Handler) requery(r *http.Request) (url.Values, error) {
	ref, ok := screenOf(r)
	if !ok || ref.name == "" {
		return r.URL.Query(), nil
	}
	q := url.Values{}
	for k, v := range ref.asked {
		q[k] = v
	}
	if err := h.applyScreen(q, ref.name); err != nil {
		return nil, err
	}
	return q, nil
}
