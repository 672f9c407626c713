package decode

import (
	"context"
	"errors"
	"image"
	"io"

	"slidestream/video"
)

// Clips: a short video (MP4, QuickTime, WebM) is a slide like a photo. Its
// still is its first frame (its poster), which ffmpeg decodes: Options'
// Video. Without it a clip cannot be shown, and says so.

// The clip formats.
const (
	MP4  Format = "mp4" // MP4, M4V and QuickTime MOV (the ISO base media file format)
	WebM Format = "webm"
)

// Video decodes clips' frames (*video.FFmpeg is one).
type Video interface {
	Frames(ctx context.Context, data []byte, c video.Container, o video.Options, each func(video.Frame) bool) error
}

var mp4Format = &format{
	id:     MP4,
	name:   "MP4",
	exts:   []string{".mp4", ".mov", ".m4v"},
	magic:  func(b []byte) bool { c, ok := video.Sniff(b); return ok && c == video.MOV },
	header: clipHeader,
	decode: clipPoster,
	exif:   func([]byte) []byte { return nil },
}

var webmFormat = &format{
	id:     WebM,
	name:   "WebM",
	exts:   []string{".webm"},
	magic:  func(b []byte) bool { c, ok := video.Sniff(b); return ok && c == video.Matroska },
	header: clipHeader,
	decode: clipPoster,
	exif:   func([]byte) []byte { return nil },
}

// clipHeader reads a clip's size from its container: an MP4 may keep its
// index at its end, so it asks for more until it finds it.
func clipHeader(name string, b []byte) (layout, error) {
	in, err := video.Inspect(b)
	if err != nil {
		return layout{}, err
	}
	if in.Width <= 0 || in.Height <= 0 {
		return layout{}, io.ErrUnexpectedEOF // at the whole file: "no video track"
	}
	// The poster as ffmpeg writes it and as it is held.
	return layout{width: in.Width, height: in.Height, whole: 7 * int64(in.Width) * int64(in.Height), clip: true}, nil
}

// ErrNoFFmpeg: a clip's frames need ffmpeg, which is not installed.
var ErrNoFFmpeg = errors.New("a video clip: it is shown once ffmpeg is installed (or --ffmpeg names it)")

// clipPoster is a clip's first frame.
func clipPoster(name string, data []byte, l layout, o Options) (image.Image, error) {
	if o.Video == nil {
		return nil, reject(name, ErrUnsupported, "%v", ErrNoFFmpeg)
	}
	c, _ := video.Sniff(data)
	var poster image.Image
	err := o.Video.Frames(context.Background(), data, c, video.Options{First: true}, func(f video.Frame) bool {
		poster = f.Pixels
		return false
	})
	if err == nil && poster == nil {
		err = errors.New("no frame in it")
	}
	if err != nil {
		return nil, reject(name, ErrCorrupt, "its first frame cannot be decoded: %v", err)
	}
	return poster, nil
}
