package transcode

import (
	"context"
	"image"
	"slices"
	"time"

	"slidestream/decode"
	"slidestream/encode"
)

// Several frames of one photo are often wanted at once: the timeline's
// width and the widths its clients watch, prepared together. Their loads
// share one decode, at the scale the largest of them needs, instead of
// decoding the photo once per width.

// version names one version of a file, as keys do.
type version struct {
	name          string
	size, modTime int64
}

// want is a frame a load under way makes from one version of a file.
type want struct {
	v version
	o encode.Options
}

// loads are the loads of one version under way and the decode they share.
type loads struct {
	wants  []encode.Options
	shared *sharedDecode // nil until one of them decodes for the others
}

// sharedDecode is a decode made for every load of a version. done is
// closed once img is set, or left nil when the decode failed or cannot be
// shared (a PNG read row by row is read once).
type sharedDecode struct {
	done   chan struct{}
	shrunk int
	img    *decode.Image
	// kept is the budget the picture holds until the version's last load
	// ends.
	kept int64
}

// wants are the frames the load of k makes, one per file version.
func (k Key) wants() []want {
	o := k.options()
	if k.Pair.Name == "" {
		return []want{{version{k.Name, k.Size, k.ModTime}, o}}
	}
	left, right := halves(o)
	return []want{{version{k.Name, k.Size, k.ModTime}, left}, {version{k.Pair.Name, k.Pair.Size, k.Pair.ModTime}, right}}
}

func (t *Transcoder) register(ws []want) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ws {
		l := t.loads[w.v]
		if l == nil {
			l = &loads{}
			t.loads[w.v] = l
		}
		l.wants = append(l.wants, w.o)
	}
}

func (t *Transcoder) unregister(ws []want) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range ws {
		l := t.loads[w.v]
		if i := slices.Index(l.wants, w.o); i >= 0 {
			l.wants = slices.Delete(l.wants, i, i+1)
		}
		if len(l.wants) == 0 {
			delete(t.loads, w.v)
			if l.shared != nil && l.shared.kept > 0 {
				t.memory.Release(l.shared.kept)
			}
		}
	}
}

// decodeFor gives the picture of f, version v, for the frame o: decoded
// here, for every load of v under way when more than one wants it, or
// taken from such a decode. Waiting for another load's decode, the load
// gives up its worker (wait); the time spent waiting for memory is added
// to *memWait as well. done releases the budget held for the
// picture and the scaling that follows; call it once the frame is made.
func (t *Transcoder) decodeFor(ctx context.Context, v version, f *decode.File, o encode.Options,
	waited, memWait *time.Duration, wait func(<-chan struct{}) error) (img *decode.Image, shared bool, done func(), err error) {
	h, or := f.Header(), f.Orientation()
	do := decode.Options{Shrink: encode.Shrink(h.Width, h.Height, or, o), Rows: true}
	reserve := func(n int64) error {
		w0 := time.Now()
		defer func() {
			*waited += time.Since(w0)
			*memWait += time.Since(w0)
		}()
		return t.memory.Acquire(ctx, n)
	}

	t.mu.Lock()
	l := t.loads[v]
	if s := l.shared; s != nil && s.shrunk <= f.Shrinks(do) {
		t.mu.Unlock()
		w0 := time.Now()
		err := wait(s.done)
		*waited += time.Since(w0)
		if err != nil {
			return nil, false, nil, err
		}
		if s.img != nil {
			mem := min(encode.Memory(h.Width, h.Height, or, o, s.shrunk, f.Planar()), t.budget)
			if err := reserve(mem); err != nil {
				return nil, false, nil, err
			}
			return s.img, true, func() { t.memory.Release(mem) }, nil
		}
		t.mu.Lock() // that decode failed: decode here
	}
	var s *sharedDecode
	if l.shared == nil && len(l.wants) > 1 {
		for _, w := range l.wants {
			do.Shrink = min(do.Shrink, encode.Shrink(h.Width, h.Height, or, w))
		}
		s = &sharedDecode{done: make(chan struct{}), shrunk: f.Shrinks(do)}
		l.shared = s
	}
	t.mu.Unlock()

	// The reservation covers the decode and what Scale makes from it,
	// which lives as long.
	mem := min(f.Memory(do)+encode.Memory(h.Width, h.Height, or, o, f.Shrinks(do), f.Planar()), t.budget)
	err = reserve(mem)
	if err == nil {
		img, err = f.Decode(do)
		if err != nil {
			t.memory.Release(mem)
		}
	}
	var kept int64
	if s != nil {
		t.mu.Lock()
		if err == nil && shareable(img) && len(l.wants) > 1 {
			s.img = img
			s.kept = min(pixelBytes(img.Pixels), mem)
			kept = s.kept
		} else if l.shared == s {
			l.shared = nil
		}
		t.mu.Unlock()
		close(s.done)
	}
	if err != nil {
		return nil, false, nil, err
	}
	return img, false, func() { t.memory.Release(mem - kept) }, nil
}

// shareable reports whether several frames can be made from img: not a
// PNG read row by row, which is read once.
func shareable(img *decode.Image) bool {
	_, rows := img.Pixels.(encode.Rows)
	return !rows
}

// pixelBytes is the memory a decoded picture holds.
func pixelBytes(m image.Image) int64 {
	switch m := m.(type) {
	case *image.YCbCr:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr))
	case *decode.VideoYCbCr:
		return pixelBytes(m.YCbCr)
	case *image.NYCbCrA:
		return pixelBytes(&m.YCbCr) + int64(len(m.A))
	case *image.RGBA:
		return int64(len(m.Pix))
	case *image.NRGBA:
		return int64(len(m.Pix))
	case *image.Gray:
		return int64(len(m.Pix))
	case *image.RGBA64:
		return int64(len(m.Pix))
	case *image.NRGBA64:
		return int64(len(m.Pix))
	case *image.Gray16:
		return int64(len(m.Pix))
	case *image.Paletted:
		return int64(len(m.Pix))
	}
	b := m.Bounds()
	return 4 * int64(b.Dx()) * int64(b.Dy())
}
