package transcode

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"slidestream/decode"
	"slidestream/encode"
	"slidestream/video"
)

// Animate makes the motion frames of the animated GIF or WebP, or the
// clip, that k names (a clip's first max of it), each a frame as k's still is made (its width, fit, fill,
// caption and quality), and calls each with every frame's JPEG and how
// long it shows, in order, until each returns false or the frames end.
// Frames that would follow the one before in less than 1/fps are not
// made: the one before shows for their time too. Each frame is made in a
// worker turn with its memory reserved (Work), so motion shares the
// workers and the decode-memory budget with the stills. A file that does
// not move is decode.ErrNoMotion.
func (t *Transcoder) Animate(ctx context.Context, k Key, fps int, max time.Duration, each func(frame []byte, d time.Duration) bool) error {
	if k.Pair.Name != "" || k.Still.On() {
		return decode.ErrNoMotion
	}
	f, o, err := t.openFor(k)
	if err != nil {
		return err
	}
	defer f.Close()
	if fm := f.Header().Format; fm == decode.MP4 || fm == decode.WebM {
		data, err := f.Bytes()
		if err != nil {
			return err
		}
		return t.playClip(ctx, k, o, data, fps, max, each)
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

// PlayClip makes the motion frames of clip, the video of the photo k
// names (a Live Photo's, a Motion Photo's), each a frame as k's still is
// made, as Animate does: its first max of it, at fps.
func (t *Transcoder) PlayClip(ctx context.Context, k Key, clip []byte, fps int, max time.Duration, each func(frame []byte, d time.Duration) bool) error {
	f, o, err := t.openFor(k)
	if err != nil {
		return err
	}
	f.Close()
	return t.playClip(ctx, k, o, clip, fps, max, each)
}

// openFor opens the file k names, refuses a version other than k's, and
// returns the options its frames are made with (its caption's text
// filled in).
func (t *Transcoder) openFor(k Key) (*decode.File, encode.Options, error) {
	f, err := decode.Open(t.path(k.Name), t.lim)
	if err != nil {
		return nil, encode.Options{}, err
	}
	if h := f.Header(); h.Size != k.Size || h.ModTime.UnixNano() != k.ModTime {
		f.Close()
		return nil, encode.Options{}, fmt.Errorf("%s is not the version asked for (changed, or a different copy)", k.Name)
	}
	o, err := t.captioned(k.wants()[0], f)
	if err != nil {
		f.Close()
		return nil, encode.Options{}, err
	}
	return f, o, nil
}

// ErrNoVideo: clips' motion needs ffmpeg.
var ErrNoVideo = errors.New("video needs ffmpeg, which is not installed")

// playClip decodes clip with ffmpeg, scaled close to the frame, and makes
// each frame as the still is made (o), in a worker turn.
func (t *Transcoder) playClip(ctx context.Context, k Key, o encode.Options, clip []byte, fps int, max time.Duration, each func([]byte, time.Duration) bool) error {
	if t.video == nil {
		return ErrNoVideo
	}
	c, ok := video.Sniff(clip)
	if !ok {
		return video.ErrNotClip
	}
	// ffmpeg scales into the frame; a crop must cover it, so gets room.
	box := image.Pt(o.Width, o.Height)
	if o.Crop && o.Height > 0 {
		box = box.Mul(2)
	}
	step := time.Second / time.Duration(fps)
	var ferr error
	err := t.video.Frames(ctx, clip, c, video.Options{Box: box, FPS: fps, Max: max}, func(fr video.Frame) bool {
		m := fr.Pixels
		var b []byte
		if err := t.Work(ctx, 8*int64(m.Bounds().Dx())*int64(m.Bounds().Dy()), func() {
			img := &decode.Image{Pixels: m, Format: decode.MP4, Orientation: 1, Stored: m.Bounds().Size(), Shrunk: 1}
			scaled, err := encode.Scale(img, o)
			if err != nil {
				ferr = err
				return
			}
			b, ferr = encode.JPEG(scaled, k.Quality)
		}); err != nil {
			ferr = err
			return false
		}
		return ferr == nil && each(b, step)
	})
	if ferr != nil {
		return ferr
	}
	return err
}
