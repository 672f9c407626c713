package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"golang.org/x/sync/semaphore"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/encode"
	"slidestream/stream"
)

// frames adapts the cache and the transcoder to what the stream asks for:
// the JPEG of one slide at one width. It is safe for concurrent use.
type frames struct {
	cache *cache.Cache
	lim   decode.Limits
	opts  encode.Options
	// memory bounds the estimated bytes of the decodes running at once, so
	// that preparing slides in parallel cannot hold several large photos
	// (or one progressive JPEG's coefficients) in memory together.
	memory *semaphore.Weighted
	budget int64
	// fixedLimit is set when the operator chose GOMEMLIMIT.
	fixedLimit bool
	// fit, when set, is the --fit box: every frame has its aspect ratio,
	// at the width asked for.
	fit image.Point
	// observe, when set, is told of every transcode.
	observe func(format decode.Format, d time.Duration, err error)
}

func newFrames(c *cache.Cache, lim decode.Limits, opts encode.Options, budget int64) *frames {
	f := &frames{cache: c, lim: lim, opts: opts, memory: semaphore.NewWeighted(budget), budget: budget,
		fixedLimit: os.Getenv("GOMEMLIMIT") != ""}
	f.tuneGC(0)
	return f
}

// key names everything that shapes a frame's bytes, including the file's
// version, so a replaced file is never served stale.
func (f *frames) key(s stream.Slide, width int) string {
	return s.Path + "\x00" + strconv.FormatInt(s.Size, 10) + "\x00" + strconv.FormatInt(s.ModTime.UnixNano(), 10) +
		"\x00" + strconv.Itoa(width) + "x" + strconv.Itoa(f.height(width)) +
		"\x00" + strconv.Itoa(f.opts.Quality) + "\x00" + encode.FormatColor(f.opts.Background)
}

// height is the frame height at width under --fit, or 0 without it.
func (f *frames) height(width int) int {
	if f.fit.X <= 0 || width <= 0 {
		return 0
	}
	return max(1, (width*f.fit.Y+f.fit.X/2)/f.fit.X)
}

func (f *frames) Render(ctx context.Context, s stream.Slide, width int) ([]byte, error) {
	return f.cache.Get(ctx, f.key(s, width), func(ctx context.Context) ([]byte, error) {
		return f.transcode(ctx, s, width)
	})
}

func (f *frames) transcode(ctx context.Context, s stream.Slide, width int) (b []byte, err error) {
	// Reserve the decode's memory first; a file whose header cannot be read
	// reserves nothing and fails in decode.Open with the full reason.
	info, perr := decode.Probe(s.Path)
	if perr == nil {
		w := min(info.Memory, f.budget)
		if err := f.memory.Acquire(ctx, w); err != nil {
			return nil, err
		}
		defer f.memory.Release(w)
	}
	if f.observe != nil {
		start := time.Now()
		defer func() { f.observe(info.Format, time.Since(start), err) }()
	}
	img, err := decode.Open(s.Path, f.lim)
	if err != nil {
		return nil, err
	}
	if img.Size != s.Size || !img.ModTime.Equal(s.ModTime) {
		// Changed since it was listed: do not cache new bytes under the old
		// version. The next folder scan brings the new version.
		return nil, fmt.Errorf("%s changed while being read", s.Path)
	}
	o := f.opts
	o.Width, o.Height = width, f.height(width)
	b, err = encode.Frame(img, o)
	f.tuneGC(len(b))
	return b, err
}

// Inspect, Cached and Kind answer the image status page (stream.Inspector).
func (f *frames) Inspect(s stream.Slide) (stream.FileInfo, error) {
	info, err := decode.Check(s.Path, f.lim)
	return stream.FileInfo{Format: string(info.Format), Width: info.Width, Height: info.Height}, err
}

func (f *frames) Cached(s stream.Slide, width int) bool {
	_, ok := f.cache.Peek(f.key(s, width))
	return ok
}

func (f *frames) Kind(err error) string { return decode.Kind(err) }

// gcSlack is memory beyond cached frames and decodes: the runtime, client
// buffers, goroutine stacks.
const gcSlack = 48 << 20

// tuneGC sets the garbage collector's soft memory limit to what the
// process needs: the cached frames, the decode budget and some slack. By
// default Go lets the heap grow to twice what was live at the last
// collection, and the 200 MB a large progressive JPEG needs while decoding
// would become 400 MB of resident memory. A GOMEMLIMIT set by the operator
// is left alone.
func (f *frames) tuneGC(adding int) {
	if f.fixedLimit {
		return
	}
	debug.SetMemoryLimit(f.cache.Stats().Bytes + int64(adding) + f.budget + gcSlack)
}
