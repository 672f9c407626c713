package decode

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// HEIC and AVIF are decoded in child processes. The WebAssembly decoders
// run as machine code that Go's scheduler cannot interrupt, and a garbage
// collection must stop every goroutine at once: while a decode runs in
// this process, a collection waits for it, and every other goroutine with
// it (measured: streams stopped for 2 s during a 12-megapixel decode).
// A child is this same executable, started with heifChildEnv set: its
// main calls ServeChild first thing, which turns it into a loop that
// decodes one file per request. The children are a Children pool, a
// value its owner (the transcoder) makes and passes in Options; without
// one, HEIC and AVIF decode in this process. Children are started as
// decodes need them (as many as run at once, which the caller's worker
// limit bounds), kept while in use, and end after heifChildIdle without
// work, when the pool is closed, or when this process ends (their
// request pipe closes). A child that fails, stalls past heifChildTimeout
// or answers nonsense is killed and replaced; its file gets the error.

const (
	heifChildEnv     = "SLIDESTREAM_HEIF_CHILD"
	heifChildIdle    = time.Minute
	heifChildTimeout = 2 * time.Minute
)

// ServeChild makes this process a decode child if it was started as one
// (heifChildEnv set), serving until its parent is done and exiting;
// otherwise it returns at once. A program that decodes with a Children
// pool calls it first thing in main, and its tests in TestMain, since a
// child is the same executable.
func ServeChild() {
	if os.Getenv(heifChildEnv) == "1" {
		os.Exit(serveHEIFChild(os.NewFile(3, "requests"), os.NewFile(4, "replies")))
	}
}

// serveHEIFChild answers decode requests until its requests end.
func serveHEIFChild(req io.Reader, rep io.Writer) int {
	// The decoders' memory grows by copying into larger buffers: collect
	// the old ones soon, and give everything back between files, so that
	// a child holds little more than one decode at its peak, and an idle
	// one next to nothing.
	debug.SetGCPercent(20)
	in, out := bufio.NewReader(req), bufio.NewWriter(rep)
	for {
		debug.FreeOSMemory()
		var n uint32
		if err := binary.Read(in, binary.BigEndian, &n); err != nil {
			return 0 // the parent is gone or done
		}
		if n > 1<<30 {
			return 1
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(in, data); err != nil {
			return 1
		}
		var werr error
		if img, err := decodeHEIFHere(data); err == nil {
			werr = writeImage(out, img)
		} else {
			msg := err.Error()
			if len(msg) > maxReason {
				msg = msg[:maxReason]
			}
			out.WriteByte(0)
			binary.Write(out, binary.BigEndian, uint32(len(msg)))
			out.WriteString(msg)
		}
		if werr != nil || out.Flush() != nil {
			return 1
		}
	}
}

// decodeHEIFHere decodes in this process; a panic is an error.
func decodeHEIFHere(data []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("the decoder crashed: %v", p)
		}
	}()
	return decodeHEIFPixels(data)
}

// The kinds of picture a child sends back, and their planes.
const (
	kindYCbCr = iota + 1
	kindVideoYCbCr
	kindNYCbCrA
	kindVideoNYCbCrA
	kindGray
	kindRGBA
	kindNRGBA
	kindRGBA64
)

// writeImage sends a picture: a 1, its kind, width, height and chroma
// subsampling, then each plane's rows, packed.
func writeImage(w *bufio.Writer, img image.Image) error {
	var kind byte
	var planes [][]byte // rows of bytes, one plane after the other
	b := img.Bounds()
	rows := func(pix []byte, stride, n, height int) {
		for y := range height {
			planes = append(planes, pix[y*stride:y*stride+n])
		}
	}
	ycc := func(m *image.YCbCr) {
		cw, ch := chromaSize(b.Dx(), b.Dy(), m.SubsampleRatio)
		rows(m.Y, m.YStride, b.Dx(), b.Dy())
		rows(m.Cb, m.CStride, cw, ch)
		rows(m.Cr, m.CStride, cw, ch)
	}
	var sub image.YCbCrSubsampleRatio
	switch m := img.(type) {
	case *image.YCbCr:
		kind, sub = kindYCbCr, m.SubsampleRatio
		ycc(m)
	case *VideoYCbCr:
		kind, sub = kindVideoYCbCr, m.SubsampleRatio
		ycc(m.YCbCr)
	case *image.NYCbCrA:
		kind, sub = kindNYCbCrA, m.SubsampleRatio
		ycc(&m.YCbCr)
		rows(m.A, m.AStride, b.Dx(), b.Dy())
	case *VideoNYCbCrA:
		kind, sub = kindVideoNYCbCrA, m.SubsampleRatio
		ycc(&m.YCbCr)
		rows(m.A, m.AStride, b.Dx(), b.Dy())
	case *image.Gray:
		kind = kindGray
		rows(m.Pix, m.Stride, b.Dx(), b.Dy())
	case *image.RGBA:
		kind = kindRGBA
		rows(m.Pix, m.Stride, 4*b.Dx(), b.Dy())
	case *image.NRGBA:
		kind = kindNRGBA
		rows(m.Pix, m.Stride, 4*b.Dx(), b.Dy())
	case *image.RGBA64:
		kind = kindRGBA64
		rows(m.Pix, m.Stride, 8*b.Dx(), b.Dy())
	default:
		return fmt.Errorf("a %T cannot be sent", img)
	}
	w.Write([]byte{1, kind, byte(sub)})
	binary.Write(w, binary.BigEndian, [2]uint32{uint32(b.Dx()), uint32(b.Dy())})
	for _, r := range planes {
		if _, err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// chromaSize is the size of the chroma planes of a w×h YCbCr picture.
func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// maxReason bounds the reason a child gives for a file it cannot decode.
const maxReason = 1024

// childReason is why a child could not decode a file: the file's fault,
// not the child's.
type childReason string

func (r childReason) Error() string { return string(r) }

// readImage reads what writeImage sent, for a picture that must be w×h:
// anything else is refused before its planes are allocated.
func readImage(r *bufio.Reader, w, h int) (image.Image, error) {
	status, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if status == 0 {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return nil, err
		}
		if n > maxReason {
			return nil, errors.New("the decoder's answer makes no sense")
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return nil, err
		}
		return nil, childReason(msg)
	}
	var head [10]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	kind, sub := head[0], image.YCbCrSubsampleRatio(head[1])
	gw, gh := int(binary.BigEndian.Uint32(head[2:])), int(binary.BigEndian.Uint32(head[6:]))
	if status != 1 || gw != w || gh != h || sub > image.YCbCrSubsampleRatio410 {
		return nil, fmt.Errorf("the decoder sent a %dx%d picture for a %dx%d one", gw, gh, w, h)
	}
	rect := image.Rect(0, 0, w, h)
	read := func(b []byte) error { _, err := io.ReadFull(r, b); return err }
	var img image.Image
	switch kind {
	case kindYCbCr, kindVideoYCbCr, kindNYCbCrA, kindVideoNYCbCrA:
		var m *image.NYCbCrA
		if kind == kindNYCbCrA || kind == kindVideoNYCbCrA {
			m = image.NewNYCbCrA(rect, sub)
		} else {
			m = &image.NYCbCrA{YCbCr: *image.NewYCbCr(rect, sub)}
		}
		if err = read(m.Y); err == nil {
			if err = read(m.Cb); err == nil {
				err = read(m.Cr)
			}
		}
		if err == nil && m.A != nil {
			err = read(m.A)
		}
		switch kind {
		case kindYCbCr:
			img = &m.YCbCr
		case kindVideoYCbCr:
			img = &VideoYCbCr{&m.YCbCr}
		case kindNYCbCrA:
			img = m
		default:
			img = &VideoNYCbCrA{m}
		}
	case kindGray, kindRGBA, kindNRGBA, kindRGBA64:
		var pix []byte
		switch kind {
		case kindGray:
			m := image.NewGray(rect)
			img, pix = m, m.Pix
		case kindRGBA:
			m := image.NewRGBA(rect)
			img, pix = m, m.Pix
		case kindNRGBA:
			m := image.NewNRGBA(rect)
			img, pix = m, m.Pix
		default:
			m := image.NewRGBA64(rect)
			img, pix = m, m.Pix
		}
		err = read(pix)
	default:
		return nil, fmt.Errorf("the decoder sent a picture of kind %d", kind)
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

// heifChild is one child process and its pipes.
type heifChild struct {
	cmd  *exec.Cmd
	req  *os.File
	rep  *os.File
	in   *bufio.Reader
	idle *time.Timer
}

// Children is a pool of decode child processes for HEIC and AVIF (see
// ServeChild). The zero value is not usable; make one with NewChildren.
// It is safe for concurrent use.
type Children struct {
	mu      sync.Mutex
	free    []*heifChild // the children not decoding now
	started int
	closed  bool
}

// NewChildren returns an empty pool: children start as decodes need them.
func NewChildren() *Children { return &Children{} }

// Started counts the children the pool has started.
func (p *Children) Started() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

// Close ends the idle children and every child given back from now on;
// decodes after it run in this process.
func (p *Children) Close() {
	p.mu.Lock()
	free := p.free
	p.free, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range free {
		c.idle.Stop()
		c.kill()
	}
}

// startHEIFChild starts a child: this executable, with the pipes as its
// file descriptors 3 and 4. What the decoders print goes to stderr.
func startHEIFChild() (*heifChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), heifChildEnv+"=1")
	cmd.ExtraFiles = []*os.File{reqR, repW}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err = cmd.Start()
	reqR.Close()
	repW.Close()
	if err != nil {
		reqW.Close()
		repR.Close()
		return nil, err
	}
	return &heifChild{cmd: cmd, req: reqW, rep: repR, in: bufio.NewReaderSize(repR, 1<<16)}, nil
}

func (c *heifChild) kill() {
	c.req.Close()
	c.rep.Close()
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// take returns an idle child (kept: true), or starts one.
func (p *Children) take() (c *heifChild, kept bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errors.New("the decode children are closed")
	}
	for n := len(p.free); n > 0; n = len(p.free) {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		if c.idle.Stop() { // else it is being stopped for idleness
			p.mu.Unlock()
			return c, true, nil
		}
	}
	p.started++
	p.mu.Unlock()
	c, err = startHEIFChild()
	return c, false, err
}

// give keeps a child that answered well for the next decode.
func (p *Children) give(c *heifChild) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.kill()
		return
	}
	c.idle = time.AfterFunc(heifChildIdle, func() {
		p.mu.Lock()
		for i, f := range p.free {
			if f == c {
				p.free = append(p.free[:i], p.free[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
		c.kill()
	})
	p.free = append(p.free, c)
}

// decode decodes a file of the size its header gave in a child process,
// or in this one when no child can be started (or p is nil). A kept
// child found dead (killed from outside, say) is replaced once.
func (p *Children) decode(data []byte, w, h int) (image.Image, error) {
	if p == nil {
		return decodeHEIFHere(data)
	}
	for {
		c, kept, err := p.take()
		if err != nil {
			return decodeHEIFHere(data)
		}
		img, err := c.decode(data, w, h)
		var reason childReason
		switch {
		case err == nil:
			p.give(c)
			return img, nil
		case errors.As(err, &reason): // the file's fault: the child is fine
			p.give(c)
			return nil, err
		}
		c.kill()
		if kept && errors.Is(err, errChildGone) {
			continue
		}
		return nil, err
	}
}

var errChildGone = errors.New("the decoder's process ended while decoding")

// decode sends one file and reads the picture or the reason back.
func (c *heifChild) decode(data []byte, w, h int) (image.Image, error) {
	deadline := time.Now().Add(heifChildTimeout)
	c.req.SetWriteDeadline(deadline)
	c.rep.SetReadDeadline(deadline)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	_, err := c.req.Write(append(n[:], data...))
	var img image.Image
	if err == nil {
		img, err = readImage(c.in, w, h)
	}
	var te interface{ Timeout() bool }
	switch {
	case err == nil:
		return img, nil
	case errors.As(err, &te) && te.Timeout():
		return nil, fmt.Errorf("the decoder ran past %v", heifChildTimeout)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EPIPE):
		return nil, errChildGone
	}
	return nil, err
}
