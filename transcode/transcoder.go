package transcode

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"slidestream/decode"
	"slidestream/encode"
	"slidestream/internal/urgent"
	"slidestream/source"
	"slidestream/video"
)

// DefaultMemory is the decode-memory budget for that many workers on a
// machine (or container) of total bytes of memory, 0 when unknown: 144
// MiB, or 32 MiB a worker where that is more, so that on a large machine
// every core can decode a large photo (16 transcodes of 4 to 17 megapixel
// photos at 640 px hold about 500 MiB at once); but no more than a
// quarter of the memory.
func DefaultMemory(workers int, total int64) int64 {
	const least, perWorker = 144 << 20, 32 << 20
	m := max(least, perWorker*int64(workers))
	if total > 0 {
		m = min(m, max(least, total/4))
	}
	return m
}

// Options configures a Transcoder. The zero value transcodes files in the
// current directory with decode's default limits, one at a time per CPU,
// within DefaultMemory for a machine of unknown memory.
type Options struct {
	// Dir is the folder that key names are relative to.
	Dir string
	// Limits bound what is read and decoded (--max-file-size, --max-pixels).
	Limits decode.Limits
	// Workers is how many transcodes run at once (--workers); a burst of
	// requests waits for a turn instead of decoding dozens of photos
	// together.
	Workers int
	// Memory bounds the estimated bytes of the transcodes running at
	// once (--decode-memory): each reserves what its header says the
	// decode and the scaling after it will hold before decoding, and one
	// larger than the whole budget runs alone.
	Memory int64
	// Caption is the --caption template; keys with a caption name it by
	// its hash. AddCaption adds others (the screens' own).
	Caption encode.Caption
	// Children, when set, decodes HEIC and AVIF in child processes that
	// the transcoder starts and owns (see decode.ServeChild), so that
	// their decoders never stop this process's goroutines; Close ends
	// them.
	Children bool
	// Video, when set, decodes clips (their first frame is their still,
	// and their motion is made by Play).
	Video *video.FFmpeg
	// Observe, when set, is told of every transcode. It must be quick and
	// safe for concurrent use.
	Observe func(Report)
}

// Report describes one transcode, for metrics and the bench mode.
type Report struct {
	Key Key
	// Header is what the file said; zero when it could not be opened or
	// its header read.
	Header decode.Header
	// Took is the time spent reading, decoding, scaling and encoding, not
	// waiting for a worker or for memory.
	Took time.Duration
	// MemoryWait is the part of the wait spent for room in the
	// decode-memory budget: time a larger --decode-memory would save.
	MemoryWait time.Duration
	// Shared is set when the frame was made from a decode another load
	// of the same file made for both.
	Shared bool
	Err    error
}

// Transcoder makes frames from the files keys name: it reads each file
// once, within the limits, and decodes only when the decode's memory fits
// in the budget. A failure that belongs to the file's bytes is remembered
// by key, so a bad file is decoded once, however often it is asked for. It
// is safe for concurrent use.
type Transcoder struct {
	dir     string
	lim     decode.Limits
	workers *gate // the transcodes running, and those waiting for a turn
	memory  *semaphore.Weighted
	budget  int64
	observe func(Report)
	// captions are the caption templates keys may name, by hash: never
	// removed (a file of screens adds a handful).
	captions sync.Map     // uint32 → encode.Caption
	running  atomic.Int32 // transcodes holding a slot
	// children decode HEIC and AVIF; nil: in this process.
	children *decode.Children
	video    *video.FFmpeg // nil: no clips

	mu sync.Mutex // protects loads, killed and failed
	// loads are the loads under way by file version, which share decodes.
	loads map[version]*loads
	// killed counts, by file version, the decodes whose process was
	// killed: once is the moment's fault, twice the file's.
	killed map[version]int
	// failed remembers lasting failures by key: a key names the file's
	// version, so asking again would give the same answer. Peers in fleet
	// mode ask an owner for a bad file once each; it decodes it once.
	failed map[Key]error
}

// maxRemembered bounds the memo of failures; it starts over when full.
const maxRemembered = 4096

// AddCaption lets keys name caption c, by its hash.
func (t *Transcoder) AddCaption(c encode.Caption) {
	if c.On() {
		t.captions.Store(c.Hash(), c)
	}
}

// Caption is the template a key's caption hash names, if known.
func (t *Transcoder) Caption(hash uint32) (encode.Caption, bool) {
	c, ok := t.captions.Load(hash)
	if !ok {
		return encode.Caption{}, false
	}
	return c.(encode.Caption), true
}

// New returns a Transcoder.
func New(o Options) *Transcoder {
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Memory <= 0 {
		o.Memory = DefaultMemory(o.Workers, 0)
	}
	t := &Transcoder{dir: o.Dir, lim: o.Limits, workers: &gate{free: o.Workers}, loads: make(map[version]*loads),
		memory: semaphore.NewWeighted(o.Memory), budget: o.Memory, observe: o.Observe, video: o.Video}
	t.AddCaption(o.Caption)
	if o.Children {
		t.children = decode.NewChildren()
	}
	return t
}

// Close ends the decode children (Options.Children); transcodes after it
// decode in this process.
func (t *Transcoder) Close() {
	if t.children != nil {
		t.children.Close()
	}
}

// Load makes the JPEG frame k names. It waits for a worker (loads wanted
// now, marked by urgent.Mark, go first; a caller that leaves while it
// waits drops the work), refuses a file
// that is no longer the version k names (new bytes must never be kept
// under an old version's key), reserves the decode's memory, decodes and
// encodes. Every failure of the file itself is a *decode.Error naming the
// file as k does, relative to the folder.
func (t *Transcoder) Load(ctx context.Context, k Key) ([]byte, error) {
	t.mu.Lock()
	err, bad := t.failed[k]
	t.mu.Unlock()
	if bad {
		return nil, err
	}
	ws := k.wants()
	t.register(ws) // before waiting: a decode may be made for this load too
	defer t.unregister(ws)
	u, err := t.take(ctx)
	if err != nil {
		return nil, err
	}
	defer u.end()
	b, r := t.transcode(ctx, k, ws, u.away)
	r.Err = t.killedAgain(ws, named(k.Name, r.Err))
	if Lasting(r.Err) {
		t.mu.Lock()
		if t.failed == nil || len(t.failed) >= maxRemembered {
			t.failed = make(map[Key]error)
		}
		t.failed[k] = r.Err
		t.mu.Unlock()
	}
	if t.observe != nil && !errors.Is(r.Err, context.Canceled) {
		t.observe(r)
	}
	return b, r.Err
}

// turn is a worker turn a load holds, or gave back while it waits.
type turn struct {
	t    *Transcoder
	ctx  context.Context
	held bool
}

// take waits for a worker turn (urgent loads first), or until ctx ends.
func (t *Transcoder) take(ctx context.Context) (*turn, error) {
	if err := t.workers.acquire(ctx, urgent.Is(ctx)); err != nil {
		return nil, err
	}
	t.running.Add(1)
	return &turn{t: t, ctx: ctx, held: true}, nil
}

// away gives the turn up while the load waits, and takes a turn again
// after it (the order of resources in shared.go). An error leaves the turn
// given up.
func (u *turn) away(wait func() error) error {
	u.end()
	if err := wait(); err != nil {
		return err
	}
	if err := u.t.workers.acquire(u.ctx, urgent.Is(u.ctx)); err != nil {
		return err
	}
	u.held = true
	u.t.running.Add(1)
	return nil
}

// end gives the turn back, if it is held.
func (u *turn) end() {
	if u.held {
		u.held = false
		u.t.running.Add(-1)
		u.t.workers.release()
	}
}

// Work runs fn as a load of its own that makes no frame from a file, such
// as a crossfade's frames: in a worker turn, with mem bytes of the
// decode-memory budget (at most the whole budget) reserved for it, taken
// in the order loads take them, so that it neither runs beside more
// transcodes than --workers allows nor holds memory the budget does not
// count. fn must not wait for other loads. An urgent ctx goes first. It
// returns ctx's error, without calling fn, if ctx ends first. It is safe
// for concurrent use.
func (t *Transcoder) Work(ctx context.Context, mem int64, fn func()) error {
	u, err := t.take(ctx)
	if err != nil {
		return err
	}
	defer u.end()
	mem = min(max(mem, 0), t.budget)
	var waited, memWait time.Duration
	if err := t.reserve(ctx, mem, &waited, &memWait, u.away); err != nil {
		return err
	}
	defer t.memory.Release(mem)
	fn()
	return nil
}

// killedAgain makes a decode whose process was killed (decode.ErrKilled) a
// lasting failure when it is the second time for that version of the
// file: a photo whose decode the kernel kills for its memory every time
// is skipped until it changes, while one killed once, by an operator or
// a machine short of memory for a moment, is tried again.
func (t *Transcoder) killedAgain(ws []*want, err error) error {
	var de *decode.Error
	if !errors.Is(err, decode.ErrKilled) || !errors.As(err, &de) {
		return err
	}
	v := ws[0].v
	if len(ws) > 1 && de.File == ws[1].v.name {
		v = ws[1].v
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.killed == nil || len(t.killed) >= maxRemembered {
		t.killed = make(map[version]int)
	}
	if t.killed[v]++; t.killed[v] < 2 {
		return err
	}
	return &decode.Error{File: de.File, Err: decode.ErrCorrupt,
		Reason: "the process decoding it was killed twice (out of memory?); skipped until the file changes"}
}

// options are the encode options of k's frame.
func (k Key) options() encode.Options {
	return encode.Options{Width: k.Width, Height: k.Height, Quality: k.Quality, Background: k.Background, Blur: k.Blur, Crop: k.Crop}
}

// halves are the options of the two halves of a pair's frame, each fitted
// into its half as a frame of its own.
func halves(o encode.Options) (left, right encode.Options) {
	left, right = o, o
	left.Width, right.Width = o.Width/2, o.Width-o.Width/2
	return left, right
}

func (t *Transcoder) transcode(ctx context.Context, k Key, ws []*want, away off) (_ []byte, r Report) {
	r.Key = k
	start := time.Now()
	var waited time.Duration
	defer func() { r.Took = time.Since(start) - waited }()
	if k.Pair.Name == "" {
		m, b, err := t.picture(ctx, ws[0], &r, &waited, away)
		switch {
		case err != nil:
		case k.Still.On():
			var so encode.StillOptions
			if so, err = k.Still.Options(); err == nil {
				b, err = encode.Still(m, so, k.Quality)
			}
		case b == nil:
			b, err = encode.JPEG(m, k.Quality)
		}
		r.Err = err
		return b, r
	}
	// Two portraits side by side, each fitted into its half of the frame
	// as a frame of its own, made one after the other.
	if k.Width <= 1 || k.Height == 0 {
		r.Err = errors.New("a pair of portraits needs a --fit frame")
		return nil, r
	}
	a, _, err := t.picture(ctx, ws[0], &r, &waited, away)
	if err != nil {
		r.Err = err
		return nil, r
	}
	rr := Report{}
	b, _, err := t.picture(ctx, ws[1], &rr, &waited, away)
	r.MemoryWait += rr.MemoryWait
	r.Shared = r.Shared || rr.Shared
	if err != nil {
		r.Err = named(k.Pair.Name, err)
		return nil, r
	}
	out, err := encode.JPEG(encode.Beside(a, b), k.Quality)
	r.Err = err
	return out, r
}

// picture makes the pixels of one file's frame, as w wants them: it opens
// the file, refuses a version other than the one named, and makes the
// picture (scaled), or takes the one another load made for it, which for
// a whole frame comes as its JPEG (jpeg set, m nil). It sets r's Header
// (and Shared) and adds the time spent waiting for memory or another
// load's decode to *waited.
func (t *Transcoder) picture(ctx context.Context, w *want, r *Report, waited *time.Duration, away off) (m *image.RGBA, jpeg []byte, err error) {
	f, err := decode.Open(t.path(w.v.name), t.lim)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	h := &r.Header
	*h = f.Header()
	if h.Size != w.v.size || h.ModTime.UnixNano() != w.v.modTime {
		// Changed since it was listed (or, for a peer, this copy
		// differs): the next listing brings the new version, a new key.
		return nil, nil, fmt.Errorf("%s is not the version asked for (changed, or a different copy)", w.v.name)
	}
	o, err := t.captioned(w, f)
	if err != nil {
		return nil, nil, err
	}
	return t.scaled(ctx, w, f, o, r, waited, away)
}

func (t *Transcoder) path(name string) string { return filepath.Join(t.dir, filepath.FromSlash(name)) }

// Running is how many transcodes hold a worker now.
func (t *Transcoder) Running() int { return int(t.running.Load()) }

// Inspect reads what the header of a file at a version says (its size,
// the date taken, how it is turned, its colour profile) as Load opens it,
// and applies the limits that can be checked before decoding: its format
// and size, or why it cannot be shown. A file it passes may still turn
// out corrupt when decoded. A file that is no longer the version asked
// for is an error that passes (ErrUnreadable).
func (t *Transcoder) Inspect(s source.Slide) (source.Info, error) {
	f, err := decode.Open(t.path(s.Name), t.lim)
	if err != nil {
		return source.Info{}, named(s.Name, err)
	}
	defer f.Close()
	h := f.Header()
	if h.Size != s.Size || !h.ModTime.Equal(s.ModTime) {
		return source.Info{}, &decode.Error{File: s.Name, Err: decode.ErrUnreadable, Reason: "the file changed while being read"}
	}
	in := source.Info{Format: string(h.Format), Width: h.Width, Height: h.Height, Turned: f.Orientation().SwapsAxes(),
		Tail: f.MotionPhotoTail()}
	in.Taken, _ = f.Taken()
	switch p, err := f.Profile(); {
	case err != nil:
		in.ProfileNote = err.Error()
	case p != nil:
		in.Profile = p.Name
		if in.Profile == "" {
			in.Profile = "unnamed"
		}
	}
	return in, nil
}

// named makes a failure name the file as the key does, relative to the
// folder: answers to peers and pages never show where the folder is.
func named(name string, err error) error {
	var de *decode.Error
	if errors.As(err, &de) {
		de.File = name
	}
	return err
}

// Lasting reports whether a failure belongs to the file's bytes, so that
// the same version of the file will always fail the same way. A file that
// cannot be read now (permissions, I/O), changed while being read, or
// whose decoder's process was killed may be fine the next time.
func Lasting(err error) bool {
	var de *decode.Error
	return errors.As(err, &de) && !errors.Is(err, decode.ErrUnreadable) && !errors.Is(err, decode.ErrKilled)
}

type promoteKey struct{}

// promotion is closed when a load waiting in the normal line is to move
// to the urgent one.
type promotion struct {
	once sync.Once
	c    chan struct{}
}

// Promotable lets a load not marked urgent be made urgent while it
// waits for a worker, by Promote on its context or one derived from it: a
// frame a client asked for that the timeline comes to want now.
func Promotable(ctx context.Context) context.Context {
	if urgent.Is(ctx) || ctx.Value(promoteKey{}) != nil {
		return ctx
	}
	return context.WithValue(ctx, promoteKey{}, &promotion{c: make(chan struct{})})
}

// Promote makes a load waiting under ctx (made by Promotable) urgent. It
// does nothing to a load already running, or one not made promotable.
func Promote(ctx context.Context) {
	if p, ok := ctx.Value(promoteKey{}).(*promotion); ok {
		p.once.Do(func() { close(p.c) })
	}
}

// promoted is closed when the load under ctx is promoted; nil (never)
// when it cannot be.
func promoted(ctx context.Context) <-chan struct{} {
	if p, ok := ctx.Value(promoteKey{}).(*promotion); ok {
		return p.c
	}
	return nil
}

// gate lets a fixed number of transcodes run at once; those waiting take
// their turn urgent first, then in order of arrival.
type gate struct {
	mu     sync.Mutex // protects everything below
	free   int
	urgent []chan struct{}
	normal []chan struct{}
}

// acquire waits for a turn, or until ctx ends. A load waiting in the
// normal line moves to the urgent one if it is promoted meanwhile.
func (g *gate) acquire(ctx context.Context, first bool) error {
	g.mu.Lock()
	if g.free > 0 && len(g.urgent) == 0 && (first || len(g.normal) == 0) {
		g.free--
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	var promote <-chan struct{}
	if first {
		g.urgent = append(g.urgent, turn)
	} else {
		g.normal = append(g.normal, turn)
		promote = promoted(ctx)
	}
	g.mu.Unlock()
	for {
		select {
		case <-turn:
			return nil
		case <-promote:
			promote = nil
			g.mu.Lock()
			if i := slices.Index(g.normal, turn); i >= 0 {
				g.normal = slices.Delete(g.normal, i, i+1)
				g.urgent = append(g.urgent, turn)
			}
			g.mu.Unlock()
		case <-ctx.Done():
			g.mu.Lock()
			defer g.mu.Unlock()
			select {
			case <-turn: // given a turn meanwhile: pass it on
				g.passOn()
			default:
				g.urgent = slices.DeleteFunc(g.urgent, func(c chan struct{}) bool { return c == turn })
				g.normal = slices.DeleteFunc(g.normal, func(c chan struct{}) bool { return c == turn })
			}
			return ctx.Err()
		}
	}
}

// release ends a turn.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.passOn()
}

// borrow takes up to n free turns for a running transcode to spread its
// work over, none while a load waits for a turn; it returns how many it
// took, to be given back by giveBack.
func (g *gate) borrow(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.urgent) > 0 || len(g.normal) > 0 {
		return 0
	}
	k := max(0, min(n, g.free))
	g.free -= k
	return k
}

// giveBack ends k borrowed turns.
func (g *gate) giveBack(k int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range k {
		g.passOn()
	}
}

// passOn gives a free turn to the next waiter, urgent first. g.mu must be
// held.
func (g *gate) passOn() {
	switch {
	case len(g.urgent) > 0:
		close(g.urgent[0])
		g.urgent = g.urgent[1:]
	case len(g.normal) > 0:
		close(g.normal[0])
		g.normal = g.normal[1:]
	default:
		g.free++
	}
}
