package transcode

import (
	"context"
	"errors"
	"image"
	"runtime"
	"slices"
	"time"

	"slidestream/decode"
	"slidestream/encode"
)

// Several frames of one photo are often wanted at once: the timeline's
// width and the widths its clients watch, prepared together. The first of
// their loads to get a worker decodes the photo once, at the scale the
// finest of them needs, and makes every one of their pictures from it
// before it lets the decode go. The others wait for their picture holding
// nothing: no worker turn, no memory. No decoded photo is ever kept for a
// load that has yet to get a turn, so memory never waits on a turn.
//
// The order in which a load takes its resources, on every path:
//
//  1. its registration (register: what it wants, so that a decode can
//     take it on), held until Load returns;
//  2. a worker turn (gate.acquire), urgent loads first;
//  3. decode memory, only ever by TryAcquire while the turn is held. When
//     the budget is short the load gives its turn back, waits for the
//     memory, and then waits for a turn again holding the memory
//     (reserve). A load waiting for another's decode gives its turn back
//     too (off).
//
// So a load holding a turn never waits for anything (borrowing idle
// turns for its resize does not wait either), every turn comes back, and
// with it every byte of memory: no wait can close a circle.

// version names one version of a file, as keys do.
type version struct {
	name          string
	size, modTime int64
}

// want is a picture a load under way makes from one version of a file:
// the load's frame, or one half of a pair's.
type want struct {
	v version
	o encode.Options // the frame's, without its caption's text
	c CaptionKey
	// whole is set when the picture is the whole frame (not half of a
	// pair's): another load making it encodes it too.
	whole bool
	// The fields below are protected by Transcoder.mu.
	// started is set once the load has come to make the picture: no other
	// load may take it on after that.
	started bool
	// by is the decode that makes the picture for this load, if another
	// load took it on.
	by *sharedDecode
}

// loads are the pictures wanted of one version, and the decode under way
// that more of them may still join.
type loads struct {
	wants []*want
	open  *sharedDecode // nil when no decode takes on more pictures
}

// sharedDecode is a decode that makes pictures for other loads than its
// own. Its fields are protected by Transcoder.mu, but for shrunk and done.
type sharedDecode struct {
	shrunk int           // the decode's scale: 1, 2, 4 or 8
	done   chan struct{} // closed when every picture taken on is made or given up
	todo   []*want       // pictures taken on and not yet made
	made   map[*want]made
}

// made is a picture made for another load, or why it could not be: a
// whole frame as its JPEG bytes (a few hundred kilobytes, where the
// pixels of a 4096-wide frame are 38 MB, and the load may wait a while
// for a turn to take them), a pair's half as pixels.
type made struct {
	m    *image.RGBA
	jpeg []byte
	err  error
}

// wants are the pictures the load of k makes, one per file version.
func (k Key) wants() []*want {
	o := k.options()
	v := version{k.Name, k.Size, k.ModTime}
	if k.Pair.Name == "" {
		// A still is made from the pixels: a partner hands them over,
		// not a JPEG.
		return []*want{{v: v, o: o, c: k.Caption, whole: !k.Still.On()}}
	}
	left, right := halves(o)
	c := k.Caption
	if c.Count > 0 {
		c.Index = min(c.Index+1, c.Count-1)
	}
	return []*want{{v: v, o: left, c: k.Caption}, {v: version{k.Pair.Name, k.Pair.Size, k.Pair.ModTime}, o: right, c: c}}
}

func (t *Transcoder) register(ws []*want) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ws {
		l := t.loads[w.v]
		if l == nil {
			l = &loads{}
			t.loads[w.v] = l
		}
		l.wants = append(l.wants, w)
	}
}

func (t *Transcoder) unregister(ws []*want) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ws {
		if s := w.by; s != nil {
			// Taken on and left before taking the picture: the decode
			// skips it, or drops what it made.
			delete(s.made, w)
			w.by = nil
		}
		l := t.loads[w.v]
		l.wants = slices.DeleteFunc(l.wants, func(x *want) bool { return x == w })
		if len(l.wants) == 0 {
			delete(t.loads, w.v)
		}
	}
}

// off runs a wait without a worker turn: it gives the turn back, waits,
// and takes a turn again. A load must never wait with a turn in hand.
type off func(wait func() error) error

// reserve takes n bytes of the decode-memory budget: at once when they
// are free, else without a worker turn (see the order above). The time it
// waits is added to *waited and *memWait.
func (t *Transcoder) reserve(ctx context.Context, n int64, waited, memWait *time.Duration, away off) error {
	if t.memory.TryAcquire(n) {
		return nil
	}
	w0 := time.Now()
	defer func() {
		*waited += time.Since(w0)
		*memWait += time.Since(w0)
	}()
	got := false
	err := away(func() error {
		if err := t.memory.Acquire(ctx, n); err != nil {
			return err
		}
		got = true
		return nil
	})
	if err != nil && got {
		t.memory.Release(n) // left while waiting for a turn again
	}
	return err
}

// scaled makes the picture w wants from f, its file opened at w's version,
// with the frame options o (w's, with the caption's text). It takes the
// picture from a decode that another load took it on for, or joins one
// under way that is fine enough; otherwise it decodes here, taking on the
// pictures of the other loads of the version that have not started, and
// makes theirs too. A whole frame another load made comes encoded (jpeg),
// with m nil.
func (t *Transcoder) scaled(ctx context.Context, w *want, f *decode.File, o encode.Options,
	r *Report, waited *time.Duration, away off) (m *image.RGBA, jpeg []byte, err error) {
	h, or := f.Header(), f.Orientation()
	do := decode.Options{Shrink: encode.Shrink(h.Width, h.Height, or, o), Rows: true, Children: t.children}
	if t.video != nil {
		do.Video = t.video
	}

	t.mu.Lock()
	l := t.loads[w.v]
	if s := w.by; s != nil || (l.open != nil && l.open.shrunk <= f.Shrinks(do)) {
		if s == nil { // join a decode under way that is fine enough
			s = l.open
			s.todo = append(s.todo, w)
			w.by = s
		}
		t.mu.Unlock()
		w0 := time.Now()
		err := away(func() error {
			select {
			case <-s.done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		*waited += time.Since(w0)
		if err != nil {
			return nil, nil, err
		}
		t.mu.Lock()
		p, ok := s.made[w]
		delete(s.made, w)
		w.by = nil
		if ok {
			t.mu.Unlock()
			r.Shared = true
			return p.m, p.jpeg, p.err
		}
		// That decode failed or its load left before making this
		// picture: decode here.
	}

	// Decide whom this decode is for in the same hold of the lock in
	// which this load stops being one that others may take on: two loads
	// of the photo starting at once must not each decode for itself.
	w.started = true
	var others []*want
	for _, x := range l.wants {
		if x != w && !x.started && x.by == nil {
			others = append(others, x)
		}
	}
	var s *sharedDecode
	if len(others) > 0 {
		for _, x := range others {
			do.Shrink = min(do.Shrink, encode.Shrink(h.Width, h.Height, or, x.o))
		}
		s = &sharedDecode{shrunk: f.Shrinks(do), done: make(chan struct{}), todo: others, made: make(map[*want]made)}
		for _, x := range others {
			x.by = s
		}
		l.open = s
	} else {
		s = nil
	}
	t.mu.Unlock()

	// The reservation covers the decode and every picture made from it,
	// made one after the other.
	shrunk := f.Shrinks(do)
	mem := f.Memory(do) + encode.Memory(h.Width, h.Height, or, o, shrunk, f.Planar())
	for _, x := range others {
		mem += encode.Memory(h.Width, h.Height, or, x.o, shrunk, f.Planar())
	}
	mem = min(mem, t.budget)
	var img *decode.Image
	err = t.reserve(ctx, mem, waited, &r.MemoryWait, away)
	if err == nil {
		defer t.memory.Release(mem)
		img, err = f.Decode(do)
	}
	if err != nil {
		// A fault in the file's bytes is the same for every picture of
		// it; anything else (this load left) leaves the others to decode
		// for themselves.
		var shareErr error
		if Lasting(err) {
			shareErr = err
		}
		t.finish(w.v, s, nil, nil, shareErr)
		return nil, nil, err
	}
	own, err := t.scale(img, o)
	t.finish(w.v, s, f, img, nil)
	return own, nil, err
}

// finish makes the pictures s took on from img, decoded from f, or gives each of them err
// when img is nil (or, with err nil too, nothing: their loads decode for
// themselves), and lets their loads go. A load that joins meanwhile is
// served too.
func (t *Transcoder) finish(v version, s *sharedDecode, f *decode.File, img *decode.Image, err error) {
	if s == nil {
		return
	}
	for {
		t.mu.Lock()
		if len(s.todo) == 0 {
			if l := t.loads[v]; l != nil && l.open == s {
				l.open = nil
			}
			t.mu.Unlock()
			break
		}
		x := s.todo[0]
		s.todo = s.todo[1:]
		gone := x.by != s // its load left
		t.mu.Unlock()
		if gone {
			continue
		}
		var p made
		switch {
		case img != nil:
			o, cerr := t.captioned(x, f)
			if cerr != nil {
				p.err = cerr
			} else {
				p.m, p.err = t.scale(img, o)
			}
			if p.err == nil && x.whole {
				p.jpeg, p.err = encode.JPEG(p.m, x.o.Quality)
				p.m = nil
			}
		case err != nil:
			p.err = err
		default:
			continue
		}
		t.mu.Lock()
		if x.by == s {
			s.made[x] = p
		}
		t.mu.Unlock()
	}
	close(s.done)
}

// scale makes one picture from img, its resize spread over the turns no
// other load wants now, so that a lone frame is made on every core
// --workers allows and never on more.
func (t *Transcoder) scale(img *decode.Image, o encode.Options) (*image.RGBA, error) {
	lent := t.workers.borrow(runtime.GOMAXPROCS(0) - 1)
	defer t.workers.giveBack(lent)
	o.Cores = 1 + lent
	return encode.Scale(img, o)
}

// captioned is w's frame options with its caption's text, the date taken
// read from f, its file, when the caption shows it.
func (t *Transcoder) captioned(w *want, f *decode.File) (encode.Options, error) {
	o := w.o
	if w.c.Template == 0 {
		return o, nil
	}
	c, ok := t.Caption(w.c.Template)
	if !ok {
		return o, errors.New("the key names a caption this instance does not have (--caption, or a screen's)")
	}
	when, _ := f.Taken()
	o.Caption = c.Text(encode.CaptionFields{Name: w.v.name, Taken: when, Index: w.c.Index, Count: w.c.Count})
	return o, nil
}
