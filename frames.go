package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/encode"
	"slidestream/stream"
)

// frames adapts the frame store and the transcoder to what the stream asks
// for: the JPEG of one slide at one width. It is safe for concurrent use.
type frames struct {
	store store
	dir   string // the folder: keys name files relative to it
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

	mu sync.Mutex // protects failed and inspected
	// failed remembers, by key, files that cannot be decoded: a key names
	// the file's version, so asking again gives the same answer. Peers in
	// fleet mode ask an owner for a bad file once each; it decodes it once.
	failed map[frameKey]error
	// inspected keeps the status page's header checks by file version, so
	// that the page does not read every file's header on every visit.
	inspected map[fileVersion]inspection
}

type fileVersion struct {
	path        string
	size, mtime int64
}

type inspection struct {
	info stream.FileInfo
	err  error
}

// maxFailed bounds the remembered failures and header checks; a map starts
// over when full.
const maxFailed = 4096

// store keeps encoded frames by key: the in-process LRU (*cache.Cache), or
// in fleet mode a groupcache group shared with the other instances.
type store interface {
	// Get returns the frame for key, calling load on a miss.
	Get(ctx context.Context, key string, load cache.Loader) ([]byte, error)
	// Peek reports whether the frame is held here, without loading it.
	Peek(key string) ([]byte, bool)
	// Stats are the store's counters; Bytes is what it holds.
	Stats() cache.Stats
}

func newFrames(s store, dir string, lim decode.Limits, opts encode.Options, budget int64) *frames {
	f := &frames{store: s, dir: dir, lim: lim, opts: opts, memory: semaphore.NewWeighted(budget), budget: budget,
		fixedLimit: os.Getenv("GOMEMLIMIT") != ""}
	f.tuneGC(0)
	return f
}

// frameKey names everything that shapes a frame's bytes, including the
// file's version, so a replaced file is a new key and never served stale.
// It is all another instance needs to make the same frame from its copy of
// the folder, so the file is named relative to the folder, last, and the
// rest are plain numbers.
type frameKey struct {
	size          int64
	modTime       int64 // Unix nanoseconds
	width, height int   // height is 0 except under --fit
	quality       int
	bg            color.RGBA
	name          string
}

const keyVersion = "f1"

func (k frameKey) String() string {
	return fmt.Sprintf("%s/%dx%d/q%d/%s/%d/%d/%s", keyVersion, k.width, k.height, k.quality,
		strings.TrimPrefix(encode.FormatColor(k.bg), "#"), k.size, k.modTime, k.name)
}

// parseKey reads a key made by String, as a peer may send it. The file name
// must be a plain name in the folder, and the sizes within what a client
// may ask for.
func parseKey(s string) (frameKey, error) {
	parts := strings.SplitN(s, "/", 7)
	bad := func(why string) (frameKey, error) { return frameKey{}, fmt.Errorf("bad frame key %q: %s", s, why) }
	if len(parts) != 7 || parts[0] != keyVersion {
		return bad("not a " + keyVersion + " key")
	}
	var k frameKey
	w, h, ok := strings.Cut(parts[1], "x")
	var errs [6]error
	k.width, errs[0] = strconv.Atoi(w)
	k.height, errs[1] = strconv.Atoi(h)
	k.quality, errs[2] = strconv.Atoi(strings.TrimPrefix(parts[2], "q"))
	k.bg, errs[3] = encode.ParseColor("#" + parts[3])
	k.size, errs[4] = strconv.ParseInt(parts[4], 10, 64)
	k.modTime, errs[5] = strconv.ParseInt(parts[5], 10, 64)
	k.name = parts[6]
	if err := errors.Join(errs[:]...); err != nil || !ok {
		return bad("malformed")
	}
	switch {
	case k.width < 0 || k.width > 16384 || k.height < 0 || k.height > 16384:
		return bad("frame size out of range")
	case k.quality < 0 || k.quality > 100:
		return bad("quality out of range")
	case k.name == "" || k.name != filepath.Base(k.name) || k.name == "." || k.name == ".." || strings.ContainsRune(k.name, '\x00'):
		return bad("not a plain file name")
	}
	return k, nil
}

func (f *frames) key(s stream.Slide, width int) frameKey {
	return frameKey{size: s.Size, modTime: s.ModTime.UnixNano(), width: width, height: f.height(width),
		quality: f.opts.Quality, bg: f.opts.Background, name: s.Name}
}

// height is the frame height at width under --fit, or 0 without it.
func (f *frames) height(width int) int {
	if f.fit.X <= 0 || width <= 0 {
		return 0
	}
	return max(1, (width*f.fit.Y+f.fit.X/2)/f.fit.X)
}

func (f *frames) Render(ctx context.Context, s stream.Slide, width int) ([]byte, error) {
	k := f.key(s, width)
	return f.store.Get(ctx, k.String(), func(ctx context.Context) ([]byte, error) {
		return f.load(ctx, k)
	})
}

// loadKey makes the frame a key names; in fleet mode it is how a peer's
// request is answered.
func (f *frames) loadKey(ctx context.Context, key string) ([]byte, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	return f.load(ctx, k)
}

// load transcodes the file k names, if it is still the version k names.
func (f *frames) load(ctx context.Context, k frameKey) ([]byte, error) {
	f.mu.Lock()
	err, bad := f.failed[k]
	f.mu.Unlock()
	if bad {
		return nil, err
	}
	s := stream.Slide{Name: k.name, Path: filepath.Join(f.dir, k.name), Size: k.size, ModTime: time.Unix(0, k.modTime)}
	b, err := f.transcode(ctx, s, encode.Options{Width: k.width, Height: k.height, Quality: k.quality, Background: k.bg})
	if lasting(err) {
		f.mu.Lock()
		if f.failed == nil || len(f.failed) >= maxFailed {
			f.failed = make(map[frameKey]error)
		}
		f.failed[k] = err
		f.mu.Unlock()
	}
	return b, err
}

// lasting reports whether a failure belongs to the file's bytes, so that
// the same version of the file will always fail the same way. A file that
// cannot be read now (permissions, I/O) or changed while being read may be
// fine the next time.
func lasting(err error) bool {
	var de *decode.Error
	return errors.As(err, &de) && !errors.Is(err, decode.ErrUnreadable)
}

// transcode reads, decodes and encodes one file. The frame is refused if
// the file is not the version s names: new bytes must never be kept under
// an old version's key.
func (f *frames) transcode(ctx context.Context, s stream.Slide, o encode.Options) (b []byte, err error) {
	var format decode.Format
	if f.observe != nil {
		start := time.Now()
		defer func() { f.observe(format, time.Since(start), err) }()
	}
	file, err := decode.Open(s.Path, f.lim)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	h := file.Header()
	format = h.Format
	if h.Size != s.Size || !h.ModTime.Equal(s.ModTime) {
		// Changed since it was listed (or, from a peer, this copy differs):
		// the next folder scan brings the new version under a new key.
		return nil, fmt.Errorf("%s is not the version asked for (changed, or a different copy)", s.Path)
	}
	do := decode.Options{Fit: image.Pt(o.Width, o.Height), Rows: true}
	w := min(file.Memory(do), f.budget)
	if err := f.memory.Acquire(ctx, w); err != nil {
		return nil, err
	}
	defer f.memory.Release(w)
	img, err := file.Decode(do)
	if err != nil {
		return nil, err
	}
	b, err = encode.Frame(img, o)
	f.tuneGC(len(b))
	return b, err
}

// Inspect, Cached and Kind answer the image status page (stream.Inspector).
func (f *frames) Inspect(s stream.Slide) (stream.FileInfo, error) {
	v := fileVersion{s.Path, s.Size, s.ModTime.UnixNano()}
	f.mu.Lock()
	in, ok := f.inspected[v]
	f.mu.Unlock()
	if ok {
		return in.info, in.err
	}
	var h decode.Header
	file, err := decode.Open(s.Path, f.lim)
	if err == nil {
		h = file.Header()
		file.Close()
	}
	in = inspection{stream.FileInfo{Format: string(h.Format), Width: h.Width, Height: h.Height}, err}
	if err == nil || lasting(err) {
		f.mu.Lock()
		if f.inspected == nil || len(f.inspected) >= maxFailed {
			f.inspected = make(map[fileVersion]inspection)
		}
		f.inspected[v] = in
		f.mu.Unlock()
	}
	return in.info, in.err
}

func (f *frames) Cached(s stream.Slide, width int) bool {
	_, ok := f.store.Peek(f.key(s, width).String())
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
	debug.SetMemoryLimit(f.store.Stats().Bytes + int64(adding) + f.budget + gcSlack)
}
