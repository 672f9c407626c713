package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"slidestream/play"
)

// Boundary separates the parts of the stream. It cannot start with "--"
// (ffmpeg's probe looks for "--" + boundary) and is long enough never to
// turn up inside JPEG data by chance.
const Boundary = "slidestreamframe"

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
	moved := h.changed()
	tl, c, leave := h.channel(w, r)
	if tl == nil {
		return
	}
	defer func() { leave() }()
	streamHeaders(w.Header())
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

	ctx := r.Context()
	out, ctx, done := h.open(ctx, w, r)
	defer done()
	sent := 0
	err = nil
	reason := ""
	for {
		release := tl.Watch(width)
		var n int
		n, err = h.play(ctx, tl, out, width, moved)
		release()
		sent += n
		if !errors.Is(err, errMoved) {
			break
		}
		// The default channel or the screen was set to another album,
		// or the screens file changed: the stream goes on with what
		// the request stands for now.
		err, reason = nil, "channel-gone"
		moved = h.changed()
		q, qerr := h.requery(r)
		if qerr == nil {
			width, qerr = h.widthOf(q)
		}
		if qerr != nil {
			log.Info("client's screen is gone", "frames", sent, "err", qerr)
			break
		}
		tl2, c2, leave2, aerr := h.acquire(q, r.RemoteAddr)
		if aerr != nil {
			log.Warn("client cannot follow its channel", "frames", sent, "err", aerr)
			break
		}
		leave()
		if c2 != c {
			log.Info("client moved", "to", c2.String(), "to_width", width)
		}
		tl, c, leave, reason = tl2, c2, leave2, ""
	}
	switch {
	case reason != "":
	case err != nil:
		reason = dropReason(err)
	case h.shuttingDown.Load():
		reason = "shutdown"
	default:
		reason = "left"
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

// errMoved ends play when what the stream's request stands for may have
// changed (Handler.Rerouted).
var errMoved = errors.New("the channel was changed")

func (h *Handler) play(ctx context.Context, tl *play.Timeline, c *conn, width int, moved <-chan struct{}) (sent int, err error) {
	before := c.sent
	err = h.loop(ctx, tl, c, width, moved, view{})
	return c.sent - before, err
}

// view is where a stream is in the timeline: the frame on screen, the
// part whose headers were sent ahead of its body, and when a whole frame
// was last sent. A stream's loop and a group's (see group) keep one.
type view struct {
	shown, pending *part
	lastFull       time.Time
	frames         int // parts this loop has sent
}

// loop sends the timeline at width to c from where v says the stream is,
// until ctx ends, the channel moves (errMoved) or a write fails. On its
// own connection a stream in step with the others at its width joins
// their group (see join) and waits while the group writes for it.
func (h *Handler) loop(ctx context.Context, tl *play.Timeline, c *conn, width int, moved <-chan struct{}, v view) error {
	st, changed := tl.State()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var fading fadeNow // the crossfade under way, if any
		if st.Seq > 0 {
			if v.shown != nil {
				fading = h.fading(st, width)
			}
			if fading.fade == nil {
				// A new client joins the motion under way at once.
				fading = h.moving(st, width)
			}
			want := fading.part
			if want == nil && !fading.waiting() {
				if want = h.current(ctx, st, width); want == nil {
					return nil
				}
			}
			if want != nil && !want.same(v.shown) {
				if v.pending != nil && !v.pending.same(want) {
					c.body(v.pending) // a committed repeat or a slide that was replaced
					v.frames++
				}
				if !v.pending.same(want) {
					c.headers(want)
				}
				c.body(want)
				v.shown, v.pending, v.lastFull = want, nil, time.Now()
				v.frames++
			}
			if v.pending == nil && v.shown != nil {
				if next := h.upcoming(st, width, v.lastFull, fading, tl.Fades()); next != nil {
					c.headers(next)
					v.pending = next
				} else if fading.active() {
					// The fade's next frame is on its way: no repeat.
				} else if v.frames == 1 || !choosing(st) || time.Since(v.lastFull) >= chooseWait {
					// A new client's first frame is committed at once:
					// until it is, a browser shows nothing at all.
					c.headers(v.shown)
					v.pending = v.shown
				}
			}
			if err := c.flush(v); err != nil {
				return err
			}
			if v.pending != nil && !fading.active() && c.shareable() {
				if back, ok := h.join(ctx, groupKey{tl, width, moved}, c, v); ok {
					if ctx.Err() != nil {
						return nil
					}
					// Back on its own: the group ended or could not
					// send it all. What is left of the group's last
					// write goes first.
					v = back
					select {
					case <-moved: // the group ended for it
						return c.moving(v)
					default:
					}
					st, changed = tl.State()
					continue
				}
			}
		}

		// Sleep until the state changes, the wait for the timeline's choice
		// is over, the fade's next frame is due or made, or the keep-alive
		// is due.
		var timeout <-chan time.Time
		if v.shown != nil {
			wake := v.lastFull.Add(h.keepAlive)
			if v.pending == nil && !fading.active() {
				wake = v.lastFull.Add(chooseWait)
			}
			if !fading.nextAt.IsZero() && fading.nextAt.Before(wake) {
				wake = fading.nextAt
			}
			timer.Reset(max(time.Until(wake), 0))
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-moved:
			return c.moving(v)
		case <-changed:
			st, changed = tl.State()
		case <-fading.made:
		case <-timeout:
			if time.Since(v.lastFull) >= h.keepAlive {
				if v.pending == nil {
					c.headers(v.shown)
					v.pending = v.shown
				}
				c.body(v.pending)
				v.shown, v.pending, v.lastFull = v.pending, nil, time.Now()
				v.frames++
			}
		}
		if c.err != nil {
			return c.err
		}
	}
}

// fadeNow is where a client is in a crossfade, or in a slide's motion.
type fadeNow struct {
	fade   *play.Fade
	step   int
	part   *part           // the frame due now, once made
	made   <-chan struct{} // closed when it is made, while it is not (motion: when more are)
	nextAt time.Time       // when the frame after it is due
	motion bool            // the slide's motion, not a fade
}

// active reports whether a fade or motion is under way, with frames still
// to come.
func (f fadeNow) active() bool { return f.fade != nil || f.motion }

// moving finds the motion frame due now for a client at width: while the
// first is made the slide's still shows (part nil), and made says when
// to look again. Outside motion, it is zero.
func (h *Handler) moving(st *play.State, width int) fadeNow {
	m := st.Motion
	now := time.Now()
	if m == nil || st.Asleep {
		return fadeNow{}
	}
	if now.Before(m.Start) {
		return fadeNow{motion: true, nextAt: m.Start}
	}
	b, nextAt, more := m.Frame(width, now)
	if b == nil && more == nil {
		return fadeNow{} // it failed: the still stays
	}
	f := fadeNow{motion: true, made: more, nextAt: nextAt}
	if b != nil {
		f.part = &part{width: width, b: b, motion: true}
	}
	return f
}

// waiting reports whether the frame due is still being made.
func (f fadeNow) waiting() bool { return f.fade != nil && f.part == nil }

// fading finds the fade frame due now for a client at width. Outside a
// fade, or once its last frame (the slide's own) is due, it is zero.
func (h *Handler) fading(st *play.State, width int) fadeNow {
	f := st.Fade
	if f == nil {
		return fadeNow{}
	}
	i, nextAt := f.Step(time.Now())
	if i >= f.Steps {
		return fadeNow{}
	}
	b, made, err := f.Frame(width, i)
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
func choosing(st *play.State) bool { return st.Slide != nil && st.Next == nil }

// upcoming returns the part that follows the one just sent if it is ready
// and due before the keep-alive would be, so that its headers can be sent
// now: the fade's next frame, or the next slide rendered at width. When
// slides fade into each other, the next slide's frame comes after its fade,
// so it is not sent ahead.
func (h *Handler) upcoming(st *play.State, width int, lastFull time.Time, fading fadeNow, fades bool) *part {
	if fading.motion {
		return nil // motion's frames are sent as they fall due
	}
	if f := fading.fade; f != nil {
		if fading.step+1 >= f.Steps {
			return h.ready(st.Slide, width)
		}
		if b, _, err := f.Frame(width, fading.step+1); err == nil && b != nil {
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
func (h *Handler) ready(s *play.Slot, width int) *part {
	if s == nil {
		return nil
	}
	b := s.Ready(width)
	if b == nil {
		return nil
	}
	return &part{slot: s, width: width, b: b}
}

// conn gathers a stream's writes (part headers, the frames' shared
// bytes, never copied) and sends them at flush, with a deadline, and
// remembers the first error so a sequence of writes can be checked once.
// On a connection of its own (HTTP/1.x, taken over from the server) a
// flush is one writev(2) of every piece; otherwise (HTTP/2, or a writer
// that cannot be taken over) the pieces go through the ResponseWriter.
// A group's conn (see group) sends each flush to every member instead.
type conn struct {
	raw     net.Conn        // the connection, once taken over; nil otherwise
	fd      syscall.RawConn // raw's descriptor, where a group may write to it
	w       http.ResponseWriter
	rc      *http.ResponseController
	group   *group // the group this conn writes for, if it is a group's
	obs     Observer
	timeout time.Duration
	bufs    net.Buffers // the pieces the next flush writes
	scratch []byte      // part headers, reused from flush to flush
	frames  []sentFrame // the frames among bufs
	sent    int         // frames sent in all, by this conn or its group
	err     error
}

// sentFrame is a frame written, for the Observer.
type sentFrame struct {
	bytes  int
	motion bool
}

func (c *conn) write(b []byte) {
	if c.err == nil {
		c.bufs = append(c.bufs, b)
	}
}

// crlf ends a part's body.
var crlf = []byte("\r\n")

// headers writes a part's boundary and headers. The CRLF that ends the
// previous part's body belongs to this delimiter (RFC 2046 §5.1.1) but is
// written with the body, so the stream starts with "--" as ffmpeg expects.
func (c *conn) headers(p *part) {
	start := len(c.scratch)
	c.scratch = append(c.scratch, "--"+Boundary+"\r\nContent-Type: image/jpeg\r\nContent-Length: "...)
	c.scratch = strconv.AppendInt(c.scratch, int64(len(p.b)), 10)
	c.scratch = append(c.scratch, "\r\n\r\n"...)
	// A later append may move scratch; this piece keeps pointing at
	// the bytes it was written in, which stay as they are until flush.
	c.write(c.scratch[start:len(c.scratch):len(c.scratch)])
}

func (c *conn) body(p *part) {
	if c.err == nil {
		c.frames = append(c.frames, sentFrame{len(p.b), p.motion})
	}
	c.write(p.b)
	c.write(crlf)
}

// tell tells obs of frames sent to one client.
func tell(obs Observer, frames []sentFrame) {
	for _, f := range frames {
		obs.FrameSent(f.bytes, f.motion)
	}
}

// moving ends a stream's loop at v when its channel moved: the part whose
// headers were sent is sent whole. A group leaves that to each member.
func (c *conn) moving(v view) error {
	if c.group == nil && v.pending != nil {
		c.body(v.pending)
	}
	return errMoved
}

// flush sends what was written since the last flush; v is where the
// stream is once it is sent.
func (c *conn) flush(v view) error {
	if c.err != nil || len(c.bufs) == 0 {
		return c.err // nothing to send: no deadline to set either
	}
	pieces, frames := c.bufs, c.frames
	c.bufs, c.scratch, c.frames = c.bufs[:0], c.scratch[:0], c.frames[:0]
	if c.group != nil {
		// A member cut short keeps what is left of pieces until it
		// has sent it: the next flush's headers go in new bytes.
		c.scratch = nil
		c.group.send(pieces, frames, v)
		return nil
	}
	// Frames are counted as they are handed to the connection, before
	// a client can have read them.
	c.sent += len(frames)
	tell(c.obs, frames)
	deadline := time.Now().Add(c.timeout)
	if c.raw != nil {
		if c.err = c.raw.SetWriteDeadline(deadline); c.err == nil {
			_, c.err = pieces.WriteTo(c.raw)
		}
	} else {
		c.err = c.writeResponse(deadline, pieces)
	}
	return c.err
}

func (c *conn) writeResponse(deadline time.Time, pieces net.Buffers) error {
	if err := c.rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	for _, b := range pieces {
		if _, err := c.w.Write(b); err != nil {
			return err
		}
	}
	return c.rc.Flush()
}

// open starts the stream's response. An HTTP/1.x connection is taken
// over from the server, so that each flush is one system call with no
// chunked encoding around it: the response says Connection: close and
// ends when the connection does, as MJPEG cameras' do. The context it
// returns ends when ctx does or the client closes the connection; call
// done when the stream ends.
func (h *Handler) open(ctx context.Context, w http.ResponseWriter, r *http.Request) (*conn, context.Context, func()) {
	c := &conn{w: w, rc: http.NewResponseController(w), timeout: h.writeTimeout, obs: h.obs}
	if r.ProtoMajor != 1 {
		w.WriteHeader(http.StatusOK)
		return c, ctx, func() {}
	}
	raw, rw, err := c.rc.Hijack()
	if err != nil {
		w.WriteHeader(http.StatusOK)
		return c, ctx, func() {}
	}
	c.raw = raw
	if sc, ok := raw.(syscall.Conn); ok && h.grouped {
		c.fd, _ = sc.SyscallConn()
	}
	// The server's deadlines for reading the request stay on the
	// connection it hands over: the stream has none but its writes'.
	raw.SetDeadline(time.Time{})
	h.streams.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	// The client closing its end is seen by a read that ends; what it
	// sends meanwhile is read and dropped.
	// The server's buffers are let go: the reader below needs a few
	// bytes, not 4 KiB, and each client holds it for its whole stream.
	rw.Reader.Discard(rw.Reader.Buffered())
	rw = nil
	go func() {
		defer cancel()
		var b [64]byte
		for n := 0; n < 1<<20; {
			k, err := raw.Read(b[:])
			if err != nil {
				return
			}
			n += k
		}
	}()
	head := append([]byte(nil), "HTTP/1.1 200 OK\r\n"...)
	w.Header().Set("Connection", "close")
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	keys := make([]string, 0, len(w.Header()))
	for k := range w.Header() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range w.Header()[k] {
			head = append(head, k+": "+strings.NewReplacer("\r", " ", "\n", " ").Replace(v)+"\r\n"...)
		}
	}
	c.write(append(head, "\r\n"...))
	return c, ctx, func() {
		cancel()
		raw.Close()
		h.streams.Done()
	}
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
