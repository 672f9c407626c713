package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"os"
	"time"

	"slidestream/decode"
	"slidestream/encode"
	"slidestream/internal/offheap"
	"slidestream/internal/urgent"
	"slidestream/play"
	"slidestream/source"
	"slidestream/transcode"
)

// frames adapts the frame store and the transcoder to what the stream asks
// for: the JPEG of one slide at one width (play.Renderer), and the
// answers of the status page (web.Inspector). It is safe for concurrent
// use.
type frames struct {
	store store
	// cached reports whether a frame is held here; nil in fleet mode,
	// where groupcache cannot be asked without loading.
	cached func(key string) bool
	// hold counts a frame kept outside the store in its bound
	// (cache.Cache.Hold); nil in fleet mode.
	hold func(key string, frame []byte) (release func())
	tr   *transcode.Transcoder
	// index knows each slide's header, read in the background.
	index *source.Index
	lim   decode.Limits
	// probe reads how slides move, for the status page; nil: not asked.
	probe *probe
	frameSpec
}

// store keeps frames by key and calls the transcoder on a miss: the
// in-process LRU (*cache.Cache), or in fleet mode the group shared with
// the other instances.
type store interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// load is the stores' loader: it makes the frame a key names. In fleet
// mode it also answers peers, whose keys arrive as text.
func load(tr *transcode.Transcoder) func(ctx context.Context, key string) ([]byte, error) {
	return func(ctx context.Context, key string) ([]byte, error) {
		k, err := transcode.ParseKey(key)
		if err != nil {
			return nil, err
		}
		return tr.Load(ctx, k)
	}
}

// frameKey is the key of slide s at width. A width at least as wide as the
// picture's longer side gives the picture at its own size (it is never
// enlarged), which is width 0's frame: one key, one transcode, however wide
// the screens that ask.
func (f *frames) frameKey(s source.Slide, width int) transcode.Key {
	k := f.key(s, width)
	if f.fit.X == 0 && width > 0 {
		if h, err := f.index.Checked(s); err == nil && width >= max(h.Width, h.Height) {
			k.Width = 0
		}
	}
	return k
}

func (f *frames) Render(ctx context.Context, p play.Picture, width int) ([]byte, error) {
	if !urgent.Is(ctx) {
		ctx = transcode.Promotable(ctx) // should the timeline come to want it
	}
	b, err := f.store.Get(ctx, f.pictureKey(p, width))
	if err == nil {
		f.index.Healed(p.Slide)
		if p.Pair.Name != "" {
			f.index.Healed(p.Pair)
		}
	}
	return b, err
}

// pictureKey is the key of the frame that shows p at width.
func (f *frames) pictureKey(p play.Picture, width int) string {
	k := f.frameKey(p.Slide, width)
	k.Caption = f.captionKey(p)
	if p.Pair.Name != "" && k.Height > 0 {
		k.Pair = transcode.PairKey{Name: p.Pair.Name, Size: p.Pair.Size, ModTime: p.Pair.ModTime.UnixNano()}
	}
	return k.String()
}

// promote moves a load a client started up to the urgent line when the
// timeline joins it (cache.Options.Join): a width a client asked for that
// the timeline has come to prepare.
func promote(load, caller context.Context) {
	if urgent.Is(caller) {
		transcode.Promote(load)
	}
}

// Hold counts a frame a timeline keeps in the cache's bound (a
// play.Holder): a rendered frame pins its cache entry, and a fade's
// frame, which has no key, is counted beside the cache.
func (f *frames) Hold(p play.Picture, width int, frame []byte) (release func()) {
	if p.Slide.Name == "" {
		return f.hold("", frame)
	}
	return f.hold(f.pictureKey(p, width), frame)
}

// Slides lists the folder, with a signal that also fires as the index
// reads headers.
func (f *frames) Slides() ([]source.Slide, <-chan struct{}) { return f.index.Slides() }

// Inspect answers from the index, without reading the file: a slide the
// index has not read yet is pending. The limits are applied again, since
// the index may have read the header under other ones before a restart.
func (f *frames) Inspect(s source.Slide) (source.Info, bool, error) {
	in, err, read := f.index.Lookup(s)
	if read && err == nil {
		err = f.lim.Check(s.Name, decode.Header{Size: s.Size, Width: in.Width, Height: in.Height})
	}
	if read && err == nil && f.probe != nil {
		// What the index read with the header: a page of 100,000
		// photos reads no file.
		in.MotionNote = motionNote(in.Motion, f.probe.video)
		if in.MotionNote != "" {
			in.Length = 0
		}
	}
	return in, read, err
}

func (f *frames) Cached(s source.Slide, width int) bool {
	return f.cached != nil && f.cached(f.frameKey(s, width).String())
}

func (f *frames) Kind(err error) string { return decode.Kind(err) }

// Fade makes a crossfade's frames, at this instance's quality (a
// play.Fader), as a load of the transcoder's: in a worker turn, its
// pictures counted in --decode-memory. A fade is wanted now, so it goes
// before frames rendered ahead.
func (f *frames) Fade(ctx context.Context, from, to []byte, steps int, each func(int, []byte) bool) error {
	var err error
	werr := f.tr.Work(urgent.Mark(ctx), fadeMemory(from, to), func() {
		err = encode.Fade(from, to, steps, f.quality, f.bg, each)
	})
	if werr != nil {
		return werr
	}
	return err
}

// fadeMemory is what a fade between two JPEG frames holds at once: both
// decoded, the canvas they are mixed on and the encoded frame, each
// reckoned as RGBA at the larger size (frames of different sizes are
// padded to it). Frames whose headers cannot be read count as their bytes.
func fadeMemory(from, to []byte) int64 {
	a, errA := jpeg.DecodeConfig(bytes.NewReader(from))
	b, errB := jpeg.DecodeConfig(bytes.NewReader(to))
	if errA != nil || errB != nil {
		return int64(len(from) + len(to))
	}
	w, h := int64(max(a.Width, b.Width)), int64(max(a.Height, b.Height))
	return 4*4*w*h + int64(len(from)+len(to))
}

// gcSlack is memory beyond cached frames and decodes: the runtime and its
// stacks, requests. Each client adds clientSlack (its goroutine, buffers
// and parts: 200 streams held about 25 MB of heap in all).
const (
	gcSlack     = 16 << 20
	clientSlack = 128 << 10
)

// setMemoryLimit sets the garbage collector's soft memory limit to what the
// process needs: the frames held, the decode budget and some slack, less
// what decodes hold outside the heap (offheap). By default Go lets the
// heap grow to twice what was live at the last collection, and the 200 MB
// a large progressive JPEG needs while decoding would become 400 MB of
// resident memory. A GOMEMLIMIT set by the operator is left alone.
func setMemoryLimit(held, budget int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		offheap.SetLimit(held + budget + gcSlack)
	}
}

// limitMemory keeps the limit in step with the frames held, once a second,
// until ctx ends. A second behind is a few frames: nothing next to the
// decode budget.
func limitMemory(ctx context.Context, held func() int64, budget int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		setMemoryLimit(held(), budget)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stillKey is the key of p's still at size (web.Stills): the slide alone
// (a paired portrait is not paired on a panel), fitted into exactly size
// as --fit fits frames, with this instance's quality, background, fill
// and caption, then made a still as spec says.
func (f *frames) stillKey(p play.Picture, size image.Point, spec encode.StillSpec) transcode.Key {
	s := p.Slide
	return transcode.Key{Name: s.Name, Size: s.Size, ModTime: s.ModTime.UnixNano(), Width: size.X, Height: size.Y,
		Quality: f.quality, Background: f.bg, Blur: f.blur, Crop: f.crop, Still: spec,
		Caption: f.captionKey(play.Picture{Slide: s, Index: p.Index, Count: p.Count})}
}

// StillTag names a still by its key: a new version of the file, or other
// parameters, is a new tag.
func (f *frames) StillTag(p play.Picture, size image.Point, spec encode.StillSpec) string {
	sum := sha256.Sum256([]byte(f.stillKey(p, size, spec).String()))
	return hex.EncodeToString(sum[:12])
}

// Still makes a still through the frame store, cached like any frame.
func (f *frames) Still(ctx context.Context, p play.Picture, size image.Point, spec encode.StillSpec) ([]byte, error) {
	return f.store.Get(transcode.Promotable(ctx), f.stillKey(p, size, spec).String())
}
