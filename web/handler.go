package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"image"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"slidestream/encode"
	"slidestream/play"
)

// HandlerOptions configures a Handler. Zero fields take the defaults noted.
type HandlerOptions struct {
	// Width is the frame width when the URL gives none (0 = original size).
	Width int
	// WriteTimeout drops a client that accepts no data for this long
	// (default 10s). It is set per write: a stream has no overall deadline.
	WriteTimeout time.Duration
	// KeepAlive re-sends the current frame after this much silence
	// (default 5s): Home Assistant gives up after 10s without data and
	// nginx after 60s.
	KeepAlive time.Duration
	// Fit, when set, is the size of every frame at its width (--fit);
	// placeholder frames are drawn to match.
	Fit image.Point
	// Inspect answers for the image status page; without it /images and
	// /api/images are not served.
	Inspect Inspector
	// Stills makes e-paper stills (GET /snapshot?size=WxH&palette=...);
	// without it /snapshot refuses still parameters. MaxStillPixels
	// bounds a still's area (default 4096×4096).
	Stills         Stills
	MaxStillPixels int64
	// Albums answers /api/albums; without it, that is not served.
	Albums Albums
	// Channels serves ?album=, ?order= and ?interval=, each combination
	// its own timeline; without it, the one timeline is all there is.
	Channels *play.Channels
	// Observe is told of every frame sent and every client that goes.
	Observe Observer
	// HideNames keeps file names and the folder out of /healthz, which
	// stays open to everyone when the rest is behind a password.
	HideNames bool
	// AllowedHosts are the names, besides addresses, localhost, .local
	// names, that commands may be sent to (the machine's host name and
	// --allowed-hosts); "*.example.com" allows every name under one.
	AllowedHosts []string
	// OwnWrites has every stream write its own frames, as if no two
	// were in step (see group): for comparing the two.
	OwnWrites bool
	Log       *slog.Logger
}

// Observer learns what the handler sends, for metrics. Its methods must be
// quick and safe for concurrent use.
type Observer interface {
	// FrameSent is called for every part written to a stream; motion
	// says it is a frame of a slide's motion.
	FrameSent(bytes int, motion bool)
	// ClientGone is called when a stream ends, with why: "left" (the
	// client closed it), "write-timeout" (it stopped reading and was
	// dropped), "write-error" or "shutdown".
	ClientGone(reason string)
}

type nopObserver struct{}

func (nopObserver) FrameSent(int, bool) {}
func (nopObserver) ClientGone(string)   {}

// Handler serves the slideshow page, the stream, snapshots and a health
// check. It is safe for concurrent use.
type Handler struct {
	tl           *play.Timeline // the default channel's
	def          play.Channel
	channels     *play.Channels
	width        int
	writeTimeout time.Duration
	keepAlive    time.Duration
	log          *slog.Logger
	obs          Observer
	inspect      Inspector
	albums       Albums
	screens      Screens
	stills       Stills
	maxStill     int64
	hideNames    bool
	mux          *http.ServeMux
	placeholders placeholders
	routing      routing
	clients      atomic.Int64
	shuttingDown atomic.Bool
	// streams are the streams on connections taken over from the
	// server, which its Shutdown does not wait for: Wait does.
	streams sync.WaitGroup
	// grouped says streams in step share a group's writer; groups are
	// the groups writing now.
	grouped  bool
	groupsMu sync.Mutex
	groups   map[groupKey]*group
	// handbacks counts the members let go with the rest of a group's
	// write (see group).
	handbacks atomic.Int64
}

// NewHandler returns the HTTP handler for tl.
func NewHandler(tl *play.Timeline, o HandlerOptions) *Handler {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 5 * time.Second
	}
	if o.MaxStillPixels <= 0 {
		o.MaxStillPixels = encode.MaxWidth * encode.MaxWidth
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = nopObserver{}
	}
	h := &Handler{tl: tl, channels: o.Channels, width: o.Width, writeTimeout: o.WriteTimeout, keepAlive: o.KeepAlive, log: o.Log,
		obs: o.Observe, inspect: o.Inspect, albums: o.Albums, stills: o.Stills, maxStill: o.MaxStillPixels, hideNames: o.HideNames, mux: http.NewServeMux(),
		grouped: canGroup && !o.OwnWrites, groups: make(map[groupKey]*group)}
	if o.Channels != nil {
		h.def, h.tl = o.Channels.Default()
	}
	h.placeholders.fit = o.Fit
	h.routing.init()
	h.mux.HandleFunc("GET /{$}", h.servePage)
	h.mux.HandleFunc("GET /slideshow", h.serveStream)
	h.mux.HandleFunc("GET /snapshot", h.serveSnapshot)
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	// Commands change what every screen of a channel shows: a page on
	// another site must not send them through a viewer's browser.
	// Nor may a page that rebinds its own name to this machine.
	h.mux.Handle("POST /api/{op}", checkHost(http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.serveCommand)), o.AllowedHosts))
	h.mux.Handle("POST /api/settings", checkHost(http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.serveSettings)), o.AllowedHosts))
	h.mux.HandleFunc("GET /api/state", h.serveState)
	h.mux.HandleFunc("GET /control", h.serveControl)
	if h.inspect != nil {
		h.mux.HandleFunc("GET /api/images", h.serveImagesJSON)
		h.mux.HandleFunc("GET /images", h.serveImagesPage)
		h.mux.HandleFunc("GET /images/thumb", h.serveThumb)
	}
	if h.albums != nil {
		h.mux.HandleFunc("GET /api/albums", h.serveAlbums)
	}
	return h
}

// SetScreens gives the handler its screens, once, before it serves: a
// screens file is read once the handler exists, to check the screens'
// stills as /snapshot does.
func (h *Handler) SetScreens(s Screens) {
	h.screens = s
	h.mux.HandleFunc("GET /api/screens", h.serveScreens)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r = h.resolve(w, r); r != nil {
		h.mux.ServeHTTP(w, r)
	}
}

// Shutdown marks the server as stopping: streams that end from now on are
// reported as ended by shutdown, not as clients leaving. Call it before
// cancelling the streams' context.
func (h *Handler) Shutdown() { h.shuttingDown.Store(true) }

// Wait waits, until ctx ends, for the streams served on connections of
// their own to end (call it after cancelling their context).
func (h *Handler) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		h.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Clients returns the number of streams being served.
func (h *Handler) Clients() int64 { return h.clients.Load() }

// widthParam reads ?width=, or returns the default.
func (h *Handler) widthParam(r *http.Request) (int, error) { return h.widthOf(r.URL.Query()) }

// widthOf reads width= from q, or returns the default.
func (h *Handler) widthOf(q url.Values) (int, error) {
	v := q.Get("width")
	if v == "" {
		return h.width, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < encode.MinWidth || n > encode.MaxWidth {
		return 0, fmt.Errorf("width must be a whole number of pixels from %d to %d, not %q", encode.MinWidth, encode.MaxWidth, v)
	}
	return n, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>slidestream</title>
<style>
html, body { margin: 0; height: 100%; background: #000; overflow: hidden; }
img { display: block; width: 100%; height: 100%; object-fit: contain; }
</style>
</head>
<body>
<img src="{{.}}" alt="">
</body>
</html>
`))

// channel finds the timeline of the channel a request asks for (?album=,
// ?order=, ?interval=), starting it if need be. When it cannot, it answers
// the request with the reason and returns nil: 400 for a malformed value,
// 404 for an album the folder does not have, 503 when the limit on
// channels is reached. Call release when the client leaves.
func (h *Handler) channel(w http.ResponseWriter, r *http.Request) (tl *play.Timeline, c play.Channel, release func()) {
	tl, c, release, err := h.acquire(r.URL.Query(), r.RemoteAddr)
	var bad badQuery
	switch {
	case err == nil:
	case errors.As(err, &bad):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, play.ErrNoAlbum):
		http.Error(w, fmt.Sprintf("no album %q in the folder (GET /api/albums lists them)", c.Album), http.StatusNotFound)
	case errors.Is(err, play.ErrTooManyChannels):
		w.Header().Set("Retry-After", "60")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
	return tl, c, release
}

// badQuery is a query value that cannot be right, whatever the server's
// state: a 400.
type badQuery struct{ error }

// acquire finds the timeline of the channel q asks for, for a client
// (a remote address, or any name that counts as one client), starting it
// if need be. Call release when the client leaves.
func (h *Handler) acquire(q url.Values, client string) (tl *play.Timeline, c play.Channel, release func(), err error) {
	c, err = parseChannel(q, h.base())
	switch {
	case err != nil:
		return nil, c, nil, badQuery{err}
	case c == h.def:
		tl, release = h.tl, func() {}
	case h.channels == nil:
		return nil, c, nil, badQuery{errors.New("this server plays one slideshow: no album, order or interval can be chosen")}
	default:
		if tl, release, err = h.channels.Acquire(c, client); err != nil {
			return nil, c, nil, err
		}
	}
	h.retime(q, c, tl)
	return tl, c, release, nil
}

// firstState waits for tl's first slide to be made, and returns the state
// then, or nil when ctx ends first.
func firstState(ctx context.Context, tl *play.Timeline) *play.State {
	st, changed := tl.State()
	for st.Seq == 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			st, changed = tl.State()
		}
	}
	return st
}

// servePage serves the full-window page. The stream must be shown through
// an <img>: browsers do not render a multipart response they navigate to.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	width, err := h.widthParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The channel is started now (an unknown album is a 404 here, not a
	// broken image); the stream finds it running.
	tl, c, release := h.channel(w, r)
	if tl == nil {
		return
	}
	release()
	q := channelQuery(c, h.base())
	if r.URL.Query().Has("width") {
		q.Set("width", strconv.Itoa(width))
	}
	src := "slideshow"
	if ref, ok := screenOf(r); ok {
		// A screen's page links to the screen: its channel and look
		// come from its name.
		q = url.Values{"screen": {ref.name}, "width": {strconv.Itoa(width)}}
		src = ref.base + "slideshow"
	}
	if len(q) > 0 {
		src += "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	page.Execute(w, src)
}

func (h *Handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	st, _ := h.tl.State()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case h.hideNames:
		fmt.Fprintln(w, "ok")
	case st.Slide != nil:
		fmt.Fprintf(w, "ok: showing %s\n", printable(st.Slide.Slide.Name))
	default:
		fmt.Fprintf(w, "ok: %s\n", printable(st.Reason))
	}
}

// part is one frame as a client sees it: a slide's frame at a width, or a
// placeholder. Two parts with the same slot and width are the same picture.
type part struct {
	slot   *play.Slot
	width  int
	b      []byte
	motion bool // a frame of the slide's motion
}

func (p *part) same(q *part) bool {
	if p == nil || q == nil {
		return p == q
	}
	if p.slot == nil || q.slot == nil {
		return p.slot == q.slot && len(p.b) == len(q.b) && &p.b[0] == &q.b[0]
	}
	return p.slot == q.slot && p.width == q.width
}

// current returns the part to show for st at width, rendering it if need
// be. It returns nil only when ctx ends first.
func (h *Handler) current(ctx context.Context, st *play.State, width int) *part {
	if st.Asleep {
		return &part{width: width, b: h.placeholders.black(width)}
	}
	if st.Slide == nil {
		return &part{width: width, b: h.placeholders.frame(st.Reason, width)}
	}
	b, err := st.Slide.Frame(ctx, width)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return &part{width: width, b: h.placeholders.frame("cannot show "+st.Slide.Slide.Name, width)}
	}
	return &part{slot: st.Slide, width: width, b: b}
}

func (h *Handler) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	width, err := h.widthParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	still, isStill, err := parseStill(r.URL.Query(), h.maxStill)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case isStill && h.stills == nil:
		http.Error(w, "this server makes no stills", http.StatusBadRequest)
		return
	}
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer leave()
	ctx := r.Context()
	st := firstState(ctx, tl)
	if st == nil {
		return
	}
	if isStill {
		h.serveStill(w, r, tl, c.Look, st, still)
		return
	}
	p := h.current(ctx, st, width)
	if p == nil {
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(p.b)))
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	w.Write(p.b)
}
