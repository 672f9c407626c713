package video

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// FFmpeg decodes clips with an ffmpeg executable, one child process per
// clip being decoded. The child reads the clip's bytes from a pipe and
// nothing else: its input is a pipe with the demuxer chosen here from the
// bytes, and the pipe is the one protocol it may open, so no file, URL,
// playlist or concatenation a clip names is ever followed. It writes
// frames, already scaled close to the size asked for, to another pipe. A
// child that outlives its time, or whose caller leaves, is killed; on
// Linux the kernel kills it too if this process dies. It is safe for
// concurrent use.
type FFmpeg struct {
	// Path is the ffmpeg executable.
	Path string
	// MaxPixels bounds a clip's frame size as stored: ffmpeg refuses
	// larger frames before decoding them.
	MaxPixels int64
	// slots bounds how many children run at once.
	slots chan struct{}

	started, failed, killed atomic.Int64
}

// Find returns an FFmpeg for the executable path names (looked up on the
// PATH, "ffmpeg" by default), or an error saying it is not there.
func Find(path string, maxPixels int64, slots int) (*FFmpeg, error) {
	if path == "" {
		path = "ffmpeg"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return nil, err
	}
	return &FFmpeg{Path: p, MaxPixels: maxPixels, slots: make(chan struct{}, max(slots, 1))}, nil
}

// Stats counts the children started, those that failed (an exit status
// other than 0, a frame that did not parse), and those killed (their
// caller left, or they ran out of time).
func (f *FFmpeg) Stats() (started, failed, killed int64) {
	return f.started.Load(), f.failed.Load(), f.killed.Load()
}

// Options are what Frames makes of a clip.
type Options struct {
	// Box is the size frames are scaled to fit in (never enlarged); a
	// zero height fits the width alone.
	Box image.Point
	// FPS is the frames a second made (the clip's own are dropped or
	// repeated to it); Max the longest stretch read from the start.
	FPS int
	Max time.Duration
	// First makes one frame, the clip's first: its poster.
	First bool
}

// Frame is one frame made: RGB pixels, and when it shows from the clip's
// start.
type Frame struct {
	Pixels *image.RGBA
	At     time.Duration
}

// ErrTooLong: the child was killed when it ran out of time.
var ErrTooLong = errors.New("ffmpeg ran out of time and was killed")

// Frames decodes the clip in data (a container Sniff recognised) and
// calls each with every frame, in order, until each returns false, the
// frames end, or ctx does. It waits for a slot first.
func (f *FFmpeg) Frames(ctx context.Context, data []byte, c Container, o Options, each func(Frame) bool) error {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-f.slots }()
	var in io.Reader = bytes.NewReader(data)
	if c == MOV {
		pieces, err := fastStart(data)
		if err != nil {
			return err
		}
		rs := make([]io.Reader, len(pieces))
		for i, p := range pieces {
			rs[i] = bytes.NewReader(p)
		}
		in = io.MultiReader(rs...)
	}
	fps := max(o.FPS, 1)
	// The time a child may take: the stretch it reads, plus a minute for
	// a slow machine.
	limit := o.Max + time.Minute
	if o.First {
		limit = 30 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	w, h := o.Box.X, o.Box.Y
	if w <= 0 {
		w = 4096
	}
	scale := fmt.Sprintf("scale=w='min(iw,%d)':h=-2", w)
	if h > 0 {
		scale = fmt.Sprintf("scale=w='min(iw,%d)':h='min(ih,%d)':force_original_aspect_ratio=decrease", w, h)
	}
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
		"-protocol_whitelist", "pipe", "-max_pixels", strconv.FormatInt(max(f.MaxPixels, 1), 10),
		"-f", string(c), "-i", "pipe:0", "-map", "0:v:0", "-an", "-sn", "-dn"}
	if o.First {
		args = append(args, "-frames:v", "1", "-vf", scale)
	} else {
		args = append(args, "-t", strconv.FormatFloat(o.Max.Seconds(), 'f', 3, 64), "-vf", fmt.Sprintf("fps=%d,%s", fps, scale))
	}
	args = append(args, "-c:v", "ppm", "-f", "image2pipe", "pipe:1")
	cmd := exec.CommandContext(cctx, f.Path, args...)
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		f.failed.Add(1)
		return fmt.Errorf("starting ffmpeg: %w", err)
	}
	f.started.Add(1)
	r := bufio.NewReaderSize(out, 1<<16)
	var readErr error
	stopped := false
	for i := 0; ; i++ {
		m, err := readPPM(r, f.MaxPixels)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if !each(Frame{Pixels: m, At: time.Duration(i) * time.Second / time.Duration(fps)}) || o.First {
			stopped = true
			break
		}
	}
	if stopped || readErr != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		io.Copy(io.Discard, r) // until the pipe closes
	}
	werr := cmd.Wait()
	switch {
	case stopped:
		return nil
	case cctx.Err() != nil:
		f.killed.Add(1)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrTooLong
	case readErr != nil:
		f.failed.Add(1)
		return fmt.Errorf("reading ffmpeg's frames: %w", readErr)
	case werr != nil:
		f.failed.Add(1)
		msg := bytes.TrimSpace(stderr.Bytes())
		if len(msg) == 0 {
			return fmt.Errorf("ffmpeg: %w", werr)
		}
		return fmt.Errorf("ffmpeg: %s", firstLine(msg))
	}
	return nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// readPPM reads one binary PPM (P6, maxval 255) frame: its header, then
// width×height RGB triples, which it returns as RGBA.
func readPPM(r *bufio.Reader, maxPixels int64) (*image.RGBA, error) {
	var fields [4]int
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("a frame cut short")
		}
		return nil, err // io.EOF: no more frames
	}
	if string(magic) != "P6" {
		return nil, fmt.Errorf("a frame that is no PPM (%q)", magic)
	}
	for k := 1; k < 4; k++ {
		n, err := ppmNumber(r)
		if err != nil {
			return nil, err
		}
		fields[k] = n
	}
	w, h, maxval := fields[1], fields[2], fields[3]
	if w <= 0 || h <= 0 || int64(w)*int64(h) > maxPixels || maxval != 255 {
		return nil, fmt.Errorf("a frame of %dx%d (maxval %d) out of bounds", w, h, maxval)
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	row := make([]byte, 3*w)
	for y := range h {
		if _, err := io.ReadFull(r, row); err != nil {
			return nil, errors.New("a frame cut short")
		}
		px := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
		}
	}
	return m, nil
}

// ppmNumber reads a PPM header's number after whitespace (and comments),
// and the one whitespace byte that ends it.
func ppmNumber(r *bufio.Reader) (int, error) {
	c, err := r.ReadByte()
	for err == nil && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#') {
		if c == '#' {
			_, err = r.ReadString('\n')
			if err != nil {
				break
			}
		}
		c, err = r.ReadByte()
	}
	n, digits := 0, 0
	for err == nil && c >= '0' && c <= '9' && digits < 9 {
		n, digits = n*10+int(c-'0'), digits+1
		c, err = r.ReadByte()
	}
	if err != nil || digits == 0 || !(c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		return 0, errors.New("a PPM header that does not parse")
	}
	return n, nil
}
