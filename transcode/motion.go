package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"slidestream/decode"
	"slidestream/encode"
)

// Animate makes the motion frames of the animated GIF or WebP that k
// names, each a frame as k's still is made (its width, fit, fill,
// caption and quality), and calls each with every frame's JPEG and how
// long it shows, in order, until each returns false or the frames end.
// Frames that would follow the one before in less than 1/fps are not
// made: the one before shows for their time too. Each frame is made in a
// worker turn with its memory reserved (Work), so motion shares the
// workers and the decode-memory budget with the stills. A file that does
// not move is decode.ErrNoMotion.
func (t *Transcoder) Animate(ctx context.Context, k Key, fps int, each func(frame []byte, d time.Duration) bool) error {
	if k.Pair.Name != "" || k.Still.On() {
		return decode.ErrNoMotion
	}
	f, err := decode.Open(t.path(k.Name), t.lim)
	if err != nil {
		return err
	}
	defer f.Close()
	if h := f.Header(); h.Size != k.Size || h.ModTime.UnixNano() != k.ModTime {
		return fmt.Errorf("%s is not the version asked for (changed, or a different copy)", k.Name)
	}
	w := k.wants()[0]
	o, err := t.captioned(w, f)
	if err != nil {
		return err
	}
	a, err := f.Animation(t.lim)
	if err != nil {
		return err
	}
	profile, _ := f.Profile()
	or := f.Orientation()
	canvas := a.Info.Canvas
	// The frame, its scaled copy and the encoder's work.
	mem := 8 * int64(canvas.X) * int64(canvas.Y)
	gap := time.Duration(0)
	if fps > 0 {
		gap = time.Second / time.Duration(fps)
	}
	var pending []byte
	var pendingFor, at, pendingAt time.Duration
	for {
		m, d, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if pending != nil && at-pendingAt < gap {
			// Too soon after the frame before: it shows for this one's
			// time too.
			pendingFor += d
			at += d
			continue
		}
		var b []byte
		var ferr error
		if err := t.Work(ctx, mem, func() {
			img := &decode.Image{Pixels: m, Format: f.Header().Format, Orientation: or, Profile: profile, Stored: canvas, Shrunk: 1}
			scaled, err := encode.Scale(img, o)
			if err != nil {
				ferr = err
				return
			}
			b, ferr = encode.JPEG(scaled, k.Quality)
		}); err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
		if pending != nil && !each(pending, pendingFor) {
			return nil
		}
		pending, pendingFor, pendingAt = b, d, at
		at += d
	}
	if pending != nil {
		each(pending, pendingFor)
	}
	return nil
}
