package stream

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"image"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Boundary separates the parts of the stream. It cannot start with "--"
// (ffmpeg's probe looks for "--" + boundary) and is long enough never to
// turn up inside JPEG data by chance.
const Boundary = "slidestreamframe"

// Width limits for ?width=.
const (
	MinWidth = 16
	MaxWidth = 4096
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
	// Channels serves ?album=, ?order= and ?interval=, each combination
	// its own timeline; without it, the one timeline is all there is.
	Channels *Channels
	// Observe is told of every frame sent and every client that goes.
	Observe Observer
	// HideNames keeps file names and the folder out of /healthz, which
	// stays open to everyone when the rest is behind a password.
	HideNames bool
	// AllowedHosts are the names, besides addresses, localhost, .local
	// names, that commands may be sent to (the machine's host name and
	// --allowed-hosts); "*.example.com" allows every name under one.
	AllowedHosts []string
	Log          *slog.Logger
}

// Observer learns what the handler sends, for metrics. Its methods must be
// quick and safe for concurrent use.
type Observer interface {
	// FrameSent is called for every part written to a stream.
	FrameSent(bytes int)
	// ClientGone is called when a stream ends, with why: "left" (the
	// client closed it), "write-timeout" (it stopped reading and was
	// dropped), "write-error" or "shutdown".
	ClientGone(reason string)
}

type nopObserver struct{}

func (nopObserver) FrameSent(int)     {}
func (nopObserver) ClientGone(string) {}

// Handler serves the slideshow page, the stream, snapshots and a health
// check. It is safe for concurrent use.
type Handler struct {
	tl           *Timeline // the default channel's
	def          Channel
	channels     *Channels
	width        int
	writeTimeout time.Duration
	keepAlive    time.Duration
	log          *slog.Logger
	obs          Observer
	inspect      Inspector
	hideNames    bool
	mux          *http.ServeMux
	placeholders placeholders
	clients      atomic.Int64
	shuttingDown atomic.Bool
}

// NewHandler returns the HTTP handler for tl.
func NewHandler(tl *Timeline, o HandlerOptions) *Handler {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = nopObserver{}
	}
	h := &Handler{tl: tl, channels: o.Channels, width: o.Width, writeTimeout: o.WriteTimeout, keepAlive: o.KeepAlive, log: o.Log,
		obs: o.Observe, inspect: o.Inspect, hideNames: o.HideNames, mux: http.NewServeMux()}
	if o.Channels != nil {
		h.def, h.tl = o.Channels.Default()
	}
	h.placeholders.fit = o.Fit
	h.mux.HandleFunc("GET /{$}", h.servePage)
	h.mux.HandleFunc("GET /slideshow", h.serveStream)
	h.mux.HandleFunc("GET /snapshot", h.serveSnapshot)
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	// Commands change what every screen of a channel shows: a page on
	// another site must not send them through a viewer's browser.
	// Nor may a page that rebinds its own name to this machine.
	h.mux.Handle("POST /api/{op}", checkHost(http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.serveCommand)), o.AllowedHosts))
	h.mux.HandleFunc("GET /api/state", h.serveState)
	h.mux.HandleFunc("GET /control", h.serveControl)
	if h.inspect != nil {
		h.mux.HandleFunc("GET /api/images", h.serveImagesJSON)
		h.mux.HandleFunc("GET /images", h.serveImagesPage)
		h.mux.HandleFunc("GET /images/thumb", h.serveThumb)
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Shutdown marks the server as stopping: streams that end from now on are
// reported as ended by shutdown, not as clients leaving. Call it before
// cancelling the streams' context.
func (h *Handler) Shutdown() { h.shuttingDown.Store(true) }

// Clients returns the number of streams being served.
func (h *Handler) Clients() int64 { return h.clients.Load() }

// widthParam reads ?width=, or returns the default.
func (h *Handler) widthParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("width")
	if v == "" {
		return h.width, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < MinWidth || n > MaxWidth {
		return 0, fmt.Errorf("width must be a whole number of pixels from %d to %d, not %q", MinWidth, MaxWidth, v)
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
func (h *Handler) channel(w http.ResponseWriter, r *http.Request) (tl *Timeline, c Channel, release func()) {
	c, err := parseChannel(r.URL.Query(), h.def)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, c, nil
	}
	if c == h.def {
		return h.tl, c, func() {}
	}
	if h.channels == nil {
		http.Error(w, "this server plays one slideshow: no album, order or interval can be chosen", http.StatusBadRequest)
		return nil, c, nil
	}
	tl, release, err = h.channels.Acquire(c, r.RemoteAddr)
	switch {
	case errors.Is(err, ErrNoAlbum):
		http.Error(w, fmt.Sprintf("no album %q in the folder (GET /api/albums lists them)", c.Album), http.StatusNotFound)
	case errors.Is(err, ErrTooManyChannels):
		w.Header().Set("Retry-After", "60")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
	return tl, c, release
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
	q := c.query(h.def)
	if r.URL.Query().Has("width") {
		q.Set("width", strconv.Itoa(width))
	}
	src := "slideshow"
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
	slot  *Slot
	width int
	b     []byte
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
func (h *Handler) current(ctx context.Context, st *State, width int) *part {
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
	tl, _, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer leave()
	ctx := r.Context()
	st, changed := tl.State()
	for st.Seq == 0 { // the very first slide is still being made
		select {
		case <-ctx.Done():
			return
		case <-changed:
			st, changed = tl.State()
		}
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

// chooseWait bounds how long a client waits, after a frame, for the
// timeline to choose the slide that follows it. See serveStream.
const chooseWait = 50 * time.Millisecond

// serveStream writes the slideshow as multipart/x-mixed-replace.
//
// Browsers paint part N only once part N+1 begins: Chromium when its
// headers arrive (crbug.com/527446), Firefox at the boundary that closes
// part N. Every part must carry Content-Length (ffmpeg and go2rtc rely on
// it), so right after a frame the next part's headers are sent, and those
// need the next part's length. When the next slide is rendered at this
// width and takes over before the keep-alive is due, they are its headers;
// otherwise they are the headers of a repeat of the current frame, sent as
// the keep-alive or just before the next slide. Either way the frame is
// painted the moment it is sent. The one wait is right after a slide
// changes, while the timeline chooses the slide after it (a few
// milliseconds when it is prepared, at most chooseWait): committing to a
// repeat then would cost a repeated frame at every change of a short
// interval.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	width, err := h.widthParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := parseChannel(r.URL.Query(), h.def); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodHead {
		streamHeaders(w.Header())
		return // the headers only: no stream, no viewer, no channel started
	}
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer leave()
	streamHeaders(w.Header())
	release := tl.Watch(width)
	defer release()
	n := h.clients.Add(1)
	counted := true
	uncount := func() {
		if counted {
			counted = false
			h.clients.Add(-1)
		}
	}
	defer uncount()
	log := h.log.With("client", r.RemoteAddr, "width", width)
	if c != h.def {
		log = log.With("channel", c.String())
	}
	log.Info("client connected", "clients", n)

	w.WriteHeader(http.StatusOK)

	ctx := r.Context()
	sent, err := h.play(ctx, tl, &conn{w: w, rc: http.NewResponseController(w), timeout: h.writeTimeout}, width)
	reason := "left"
	switch {
	case err != nil:
		reason = dropReason(err)
	case h.shuttingDown.Load():
		reason = "shutdown"
	}
	// The client leaves the count before its reason is counted, so anyone
	// who sees the reason also sees the count without it.
	uncount()
	h.obs.ClientGone(reason)
	if reason == "left" || reason == "shutdown" {
		log.Info("client left", "frames", sent, "reason", reason)
	} else {
		log.Info("client dropped", "frames", sent, "reason", reason)
	}
}

// streamHeaders are the headers of the stream's response.
func streamHeaders(hdr http.Header) {
	hdr.Set("Content-Type", "multipart/x-mixed-replace; boundary="+Boundary)
	hdr.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
}

func (h *Handler) play(ctx context.Context, tl *Timeline, c *conn, width int) (sent int, err error) {
	st, changed := tl.State()
	var shown, pending *part // pending: headers sent, body not yet
	var lastFull time.Time   // when a whole frame was last sent
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var fading fadeNow // the crossfade under way, if any
		if st.Seq > 0 {
			if shown != nil {
				fading = h.fading(st, width)
			}
			want := fading.part
			if want == nil && !fading.waiting() {
				if want = h.current(ctx, st, width); want == nil {
					return sent, nil
				}
			}
			if want != nil && !want.same(shown) {
				if pending != nil && !pending.same(want) {
					c.body(pending) // a committed repeat or a slide that was replaced
					sent++
					h.obs.FrameSent(len(pending.b))
				}
				if !pending.same(want) {
					c.headers(want)
				}
				c.body(want)
				shown, pending, lastFull = want, nil, time.Now()
				sent++
				h.obs.FrameSent(len(want.b))
			}
			if pending == nil && shown != nil {
				if next := h.upcoming(st, width, lastFull, fading, tl.fadeFor > 0); next != nil {
					c.headers(next)
					pending = next
				} else if fading.active() {
					// The fade's next frame is on its way: no repeat.
				} else if sent == 1 || !choosing(st) || time.Since(lastFull) >= chooseWait {
					// A new client's first frame is committed at once:
					// until it is, a browser shows nothing at all.
					c.headers(shown)
					pending = shown
				}
			}
			if err := c.flush(); err != nil {
				return sent, err
			}
		}

		// Sleep until the state changes, the wait for the timeline's choice
		// is over, the fade's next frame is due or made, or the keep-alive
		// is due.
		var timeout <-chan time.Time
		if shown != nil {
			wake := lastFull.Add(h.keepAlive)
			if pending == nil && !fading.active() {
				wake = lastFull.Add(chooseWait)
			}
			if !fading.nextAt.IsZero() && fading.nextAt.Before(wake) {
				wake = fading.nextAt
			}
			timer.Reset(max(time.Until(wake), 0))
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
			return sent, nil
		case <-changed:
			st, changed = tl.State()
		case <-fading.made:
		case <-timeout:
			if time.Since(lastFull) >= h.keepAlive {
				if pending == nil {
					c.headers(shown)
					pending = shown
				}
				c.body(pending)
				h.obs.FrameSent(len(pending.b))
				shown, pending, lastFull = pending, nil, time.Now()
				sent++
			}
		}
		if c.err != nil {
			return sent, c.err
		}
	}
}

// fadeNow is where a client is in a crossfade.
type fadeNow struct {
	fade   *Fade
	step   int
	part   *part           // the frame due now, once made
	made   <-chan struct{} // closed when it is made, while it is not
	nextAt time.Time       // when the frame after it is due
}

// active reports whether a fade is under way, with frames still to come.
func (f fadeNow) active() bool { return f.fade != nil }

// waiting reports whether the frame due is still being made.
func (f fadeNow) waiting() bool { return f.fade != nil && f.part == nil }

// fading finds the fade frame due now for a client at width. Outside a
// fade, or once its last frame (the slide's own) is due, it is zero.
func (h *Handler) fading(st *State, width int) fadeNow {
	f := st.Fade
	if f == nil {
		return fadeNow{}
	}
	i, nextAt := f.step(time.Now())
	if i >= f.Steps {
		return fadeNow{}
	}
	b, made, err := f.frame(width, i)
	if err != nil {
		return fadeNow{} // cut to the slide
	}
	now := fadeNow{fade: f, step: i, made: made, nextAt: nextAt}
	if b != nil {
		now.part, now.made = &part{width: width, b: b}, nil
	}
	return now
}

// choosing reports whether the timeline is still choosing the slide that
// follows the one on screen: it publishes a new slide first and the one
// after it as soon as that is prepared.
func choosing(st *State) bool { return st.Slide != nil && st.Next == nil }

// upcoming returns the part that follows the one just sent if it is ready
// and due before the keep-alive would be, so that its headers can be sent
// now: the fade's next frame, or the next slide rendered at width. When
// slides fade into each other, the next slide's frame comes after its fade,
// so it is not sent ahead.
func (h *Handler) upcoming(st *State, width int, lastFull time.Time, fading fadeNow, fades bool) *part {
	if f := fading.fade; f != nil {
		if fading.step+1 >= f.Steps {
			return h.ready(st.Slide, width)
		}
		if b, _, err := f.frame(width, fading.step+1); err == nil && b != nil {
			return &part{width: width, b: b}
		}
		return nil
	}
	if fades || st.Next == nil || st.Paused || st.NextAt.IsZero() || st.NextAt.After(lastFull.Add(h.keepAlive)) {
		return nil
	}
	return h.ready(st.Next, width)
}

// ready is s's part at width if it is rendered; nil otherwise.
func (h *Handler) ready(s *Slot, width int) *part {
	if s == nil {
		return nil
	}
	b := s.Ready(width)
	if b == nil {
		return nil
	}
	return &part{slot: s, width: width, b: b}
}

// conn writes parts with a deadline on every write, and remembers the first
// error so a sequence of writes can be checked once.
type conn struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	err     error
}

func (c *conn) write(b []byte) {
	if c.err != nil {
		return
	}
	if err := c.rc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		c.err = err
		return
	}
	_, c.err = c.w.Write(b)
}

// headers writes a part's boundary and headers. The CRLF that ends the
// previous part's body belongs to this delimiter (RFC 2046 §5.1.1) but is
// written with the body, so the stream starts with "--" as ffmpeg expects.
func (c *conn) headers(p *part) {
	c.write(fmt.Appendf(nil, "--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", Boundary, len(p.b)))
}

func (c *conn) body(p *part) {
	c.write(p.b)
	c.write([]byte("\r\n"))
}

func (c *conn) flush() error {
	if c.err == nil {
		if err := c.rc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			c.err = err
		} else {
			c.err = c.rc.Flush()
		}
	}
	return c.err
}

// dropReason names why a write failed, for logs and metrics. A client
// that closed its end while a frame was on its way simply left.
func dropReason(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "write-timeout"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return "left"
	}
	return "write-error"
}
