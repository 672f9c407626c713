package web

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"slidestream/encode"
	"slidestream/play"
)

// Stills for e-paper panels: GET /snapshot with size=WxH (and rotate,
// palette, calibrated, dither, lift, format) gives the slide on screen as
// one still of exactly the panel's size, dithered to its palette, in the
// format its firmware reads, with an ETag and a max-age of the seconds to
// the next slide, so that a panel that wakes and asks again costs nothing
// until the slide changes.

// Stills makes the stills; without it /snapshot takes no still parameters.
type Stills interface {
	// StillTag names the still of p that spec asks for at size (the
	// picture's, before rotate turns it): the same name for the same
	// bytes, found without making them.
	// look is the channel's (play.Channel.Look): a screen's fill,
	// caption and quality shape its stills too.
	StillTag(look string, p play.Picture, size image.Point, spec encode.StillSpec) string
	// Still makes it, or takes it from the cache.
	Still(ctx context.Context, look string, p play.Picture, size image.Point, spec encode.StillSpec) ([]byte, error)
}

// stillParams are the query parameters that ask for a still.
var stillParams = []string{"size", "rotate", "palette", "calibrated", "dither", "lift", "format"}

// stillQuery is a still as a request asks for it.
type stillQuery struct {
	panel image.Point // the panel's own size: the still's
	spec  encode.StillSpec
}

// view is the size the picture is made at: the panel's, turned back.
func (s stillQuery) view() image.Point {
	if s.spec.Rotate == 90 || s.spec.Rotate == 270 {
		return image.Pt(s.panel.Y, s.panel.X)
	}
	return s.panel
}

// maxQueryValue bounds each still parameter: a palette of sixteen colours
// and its calibration are the longest.
const maxQueryValue = 128

// parseStill reads the still parameters of q: ok is false when none is
// given. maxPixels bounds the panel's area.
func parseStill(q url.Values, maxPixels int64) (s stillQuery, ok bool, err error) {
	for _, p := range stillParams {
		if q.Has(p) {
			ok = true
			if v := q.Get(p); len(v) > maxQueryValue {
				return s, true, fmt.Errorf("%s: over %d characters", p, maxQueryValue)
			}
		}
	}
	if !ok {
		return s, false, nil
	}
	if !q.Has("size") {
		return s, true, errors.New("a still needs size=WxH, the panel's size in pixels")
	}
	a, b, found := strings.Cut(strings.ToLower(q.Get("size")), "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || w < encode.MinWidth || h < encode.MinWidth || w > encode.MaxWidth || h > encode.MaxWidth {
		return s, true, fmt.Errorf("size %q: want WxH, each %d to %d, such as 800x480", q.Get("size"), encode.MinWidth, encode.MaxWidth)
	}
	if int64(w)*int64(h) > maxPixels {
		return s, true, fmt.Errorf("size %dx%d: over the %d pixels a still may have", w, h, maxPixels)
	}
	s.panel = image.Pt(w, h)
	if v := q.Get("rotate"); v != "" {
		r, err := strconv.Atoi(v)
		if err != nil {
			return s, true, fmt.Errorf("rotate %q: want 0, 90, 180 or 270", v)
		}
		s.spec.Rotate = r
	}
	if v := q.Get("palette"); v != "" {
		p, err := encode.ParsePalette(strings.ToLower(v))
		if err != nil {
			return s, true, err
		}
		s.spec.Palette = p.Name
		if c := q.Get("calibrated"); c != "" {
			cp, err := p.Calibrated(strings.ToLower(c))
			if err != nil {
				return s, true, err
			}
			s.spec.Calibrated = strings.TrimPrefix(cp.Name, p.Name+"@")
		}
	} else if q.Has("calibrated") {
		return s, true, errors.New("calibrated colours need a palette")
	}
	s.spec.Dither = string(encode.DitherFS)
	if v := q.Get("dither"); v != "" {
		d, err := encode.ParseDither(v)
		if err != nil {
			return s, true, err
		}
		s.spec.Dither = string(d)
	}
	switch q.Get("lift") {
	case "", "on":
	case "off":
		s.spec.Plain = true
	default:
		return s, true, fmt.Errorf("lift %q: want on or off", q.Get("lift"))
	}
	s.spec.Format = q.Get("format")
	if s.spec.Format == "" {
		s.spec.Format = "jpeg"
		if s.spec.Palette != "" {
			s.spec.Format = "png"
		}
	}
	if _, err := s.spec.Options(); err != nil {
		return s, true, err
	}
	return s, true, nil
}

// stillTypes are the content types of the still formats.
var stillTypes = map[string]string{"jpeg": "image/jpeg", "png": "image/png", "bmp": "image/bmp"}

// stillTag names the still s of what st shows: the same name for the
// same bytes, found without making them.
func (h *Handler) stillTag(look string, st *play.State, s stillQuery) string {
	if st.Slide != nil && !st.Asleep {
		return h.stills.StillTag(look, st.Slide.Picture(), s.view(), s.spec)
	}
	return fmt.Sprintf("n%x", noticeTag(st, s.view(), s.spec))
}

// serveStill answers a snapshot that asks for a still of st.
func (h *Handler) serveStill(w http.ResponseWriter, r *http.Request, tl *play.Timeline, look string, st *play.State, s stillQuery) {
	ctx := r.Context()
	view := s.view()
	// A panel may sleep until the slide changes.
	hdr := w.Header()
	hdr.Set("Cache-Control", "max-age="+strconv.Itoa(secondsToChange(tl, st)))
	etag := `"` + h.stillTag(look, st, s) + `"`
	hdr.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && (match == etag || match == "W/"+etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var b []byte
	var err error
	if st.Slide != nil && !st.Asleep {
		b, err = h.stills.Still(ctx, look, st.Slide.Picture(), view, s.spec)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			b, err = noticeStill("cannot show "+st.Slide.Slide.Name, view, s.spec)
			hdr.Set("Cache-Control", "no-store")
			hdr.Del("ETag")
		}
	} else {
		reason := st.Reason
		if st.Asleep {
			reason = ""
		}
		b, err = noticeStill(reason, view, s.spec)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hdr.Set("Content-Type", stillTypes[s.spec.Format])
	hdr.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// StillInfo is what a still's snapshot would answer now, found without
// making the still.
type StillInfo struct {
	// Tag is the value of its ETag, without the quotes: the same for the
	// same bytes.
	Tag string
	// Seconds is how long until it changes: its max-age.
	Seconds int
	// Format is "jpeg", "png" or "bmp", and Type its content type.
	Format, Type string
}

// StillInfo answers for the snapshot that q asks for (a still's
// parameters and a channel's) as GET /snapshot would, without making the
// still; client counts against the bound on channels per client, as a
// remote address does. It waits for the channel's first slide, until ctx
// ends.
func (h *Handler) StillInfo(ctx context.Context, q url.Values, client string) (StillInfo, error) {
	s, isStill, err := parseStill(q, h.maxStill)
	switch {
	case err != nil:
		return StillInfo{}, err
	case !isStill:
		return StillInfo{}, errors.New("a still needs size=WxH")
	case h.stills == nil:
		return StillInfo{}, errors.New("this server makes no stills")
	}
	tl, c, release, err := h.acquire(q, client)
	if err != nil {
		return StillInfo{}, err
	}
	defer release()
	st := firstState(ctx, tl)
	if st == nil {
		return StillInfo{}, ctx.Err()
	}
	return StillInfo{Tag: h.stillTag(c.Look, st, s), Seconds: secondsToChange(tl, st), Format: s.spec.Format, Type: stillTypes[s.spec.Format]}, nil
}

// Hold keeps the channel that q asks for running, with client as one of
// its clients, until release is called: a panel that wakes once an hour
// finds its channel's clock where it left it, not started again.
func (h *Handler) Hold(q url.Values, client string) (release func(), err error) {
	_, _, release, err = h.acquire(q, client)
	return release, err
}

// noticeStill is a still of a notice (or of black, for ""), for when there
// is no slide to show.
func noticeStill(msg string, view image.Point, spec encode.StillSpec) ([]byte, error) {
	o, err := spec.Options()
	if err != nil {
		return nil, err
	}
	return encode.Still(encode.NoticePicture(msg, view.X, view.Y), o, encode.DefaultQuality)
}

// noticeTag names a notice's still: its text, size and spec.
func noticeTag(st *play.State, view image.Point, spec encode.StillSpec) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%v|%s|%v|%+v", st.Asleep, st.Reason, view, spec)
	return h.Sum64()
}

// secondsToChange is how long until what st shows changes, in whole
// seconds (at least 1): to the next slide, to waking up, or a minute while
// paused or showing a notice.
func secondsToChange(tl *play.Timeline, st *play.State) int {
	var d time.Duration
	switch {
	case st.Asleep && st.Wake.IsZero(): // asleep until woken
		d = time.Minute
	case st.Asleep:
		d = st.Wake.Sub(tl.Now())
	case st.Paused || st.NextAt.IsZero():
		d = time.Minute
	default:
		d = time.Until(st.NextAt)
	}
	return max(1, int(math.Ceil(d.Seconds())))
}

// CheckStill says what is wrong with q as a still's snapshot query (a
// still's parameters and a channel's), without asking for anything: nil
// when GET /snapshot would take it (an album missing from the folder
// aside).
func (h *Handler) CheckStill(q url.Values) error {
	if _, isStill, err := parseStill(q, h.maxStill); err != nil {
		return err
	} else if !isStill {
		return errors.New("a still needs size=WxH")
	}
	_, err := parseChannel(q, h.def)
	return err
}
