package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

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
		"\x00" + strconv.Itoa(width) + "\x00" + strconv.Itoa(f.opts.Quality) + "\x00" + encode.FormatColor(f.opts.Background)
}

func (f *frames) Render(ctx context.Context, s stream.Slide, width int) ([]byte, error) {
	return f.cache.Get(ctx, f.key(s, width), func(ctx context.Context) ([]byte, error) {
		return f.transcode(ctx, s, width)
	})
}

func (f *frames) transcode(ctx context.Context, s stream.Slide, width int) ([]byte, error) {
	// Reserve the decode's memory first; a file whose header cannot be read
	// reserves nothing and fails in decode.File with the full reason.
	if info, err := decode.Probe(s.Path); err == nil {
		w := min(info.Memory, f.budget)
		if err := f.memory.Acquire(ctx, w); err != nil {
			return nil, err
		}
		defer f.memory.Release(w)
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
	o.Width = width
	b, err := encode.Frame(img, o)
	f.tuneGC(len(b))
	return b, err
}

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
