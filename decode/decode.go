package decode

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/image/webp"
)

// MaxJPEGScans is the most scans a JPEG may have. Progressive encoders
// write around ten; only a crafted file has hundreds.
const MaxJPEGScans = 300

// Image is a decoded picture and what is needed to show it upright.
type Image struct {
	// Pixels as the format's decoder returned them (*image.YCbCr,
	// *image.NRGBA, *image.CMYK, *image.Paletted, ...), except that lossy
	// WebP comes as *VideoYCbCr or *VideoNYCbCrA.
	Pixels image.Image
	// Format is what the file's bytes said it is.
	Format Format
	// Orientation is the EXIF orientation, not yet applied to Pixels.
	Orientation Orientation
	// Size and ModTime identify the version of the file that was read
	// (zero for Bytes), so a caller can tell whether it changed meanwhile.
	Size    int64
	ModTime time.Time
}

// File reads and decodes the image at path within the limits. It is safe
// for concurrent use. Every error it returns is an *Error naming path.
//
// Symbolic links are followed, but only to regular files: the file is
// opened without blocking and checked with fstat before anything is read,
// so a FIFO or /dev/zero is refused at once.
func File(path string, lim Limits) (*Image, error) {
	return file(path, lim, false)
}

// Open is File for a caller that reads the pixels once, top to bottom, as
// the encoder does: an 8-bit RGB or RGBA PNG that is not interlaced comes
// back as *PNGRows, still compressed, and a fault in its compressed data
// is reported when its rows are read instead of here.
func Open(path string, lim Limits) (*Image, error) {
	return file(path, lim, true)
}

func file(path string, lim Limits, rows bool) (*Image, error) {
	data, st, err := readFile(path, lim.maxFileSize())
	if err != nil {
		return nil, err
	}
	img, err := decodeBytes(path, data, lim, rows)
	if err != nil {
		return nil, err
	}
	img.Size, img.ModTime = st.Size(), st.ModTime()
	return img, nil
}

// openRegular opens path for reading only if it is a regular file.
// O_NONBLOCK keeps open(2) of a FIFO without a writer from waiting forever
// (it has no effect on regular files), and the check is made with fstat on
// the open descriptor, so the file cannot be swapped in between.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, reject(path, ErrUnreadable, "cannot open: %v", unwrapPath(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, reject(path, ErrUnreadable, "cannot stat: %v", unwrapPath(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, reject(path, ErrNotRegular, "is %s, not a regular file", modeName(st.Mode()))
	}
	return f, st, nil
}

func readFile(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, nil, reject(path, ErrFileTooLarge, "%s is over --max-file-size %s",
			humanBytes(st.Size()), humanBytes(max))
	}
	// The file may grow after the stat: read at most max+1 bytes.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	n, err := buf.ReadFrom(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, reject(path, ErrUnreadable, "read failed: %v", unwrapPath(err))
	}
	if n > max {
		return nil, nil, reject(path, ErrFileTooLarge, "grew past --max-file-size %s while being read", humanBytes(max))
	}
	return buf.Bytes(), st, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// Bytes decodes an image held in memory; name is only used in errors. It is
// safe for concurrent use, and it is what File calls after reading.
func Bytes(name string, data []byte, lim Limits) (*Image, error) {
	return decodeBytes(name, data, lim, false)
}

// OpenBytes is Open for an image held in memory.
func OpenBytes(name string, data []byte, lim Limits) (*Image, error) {
	return decodeBytes(name, data, lim, true)
}

func decodeBytes(name string, data []byte, lim Limits, rows bool) (img *Image, err error) {
	if int64(len(data)) > lim.maxFileSize() {
		return nil, reject(name, ErrFileTooLarge, "%s is over --max-file-size %s",
			humanBytes(int64(len(data))), humanBytes(lim.maxFileSize()))
	}
	format, ok := sniff(data)
	if !ok {
		return nil, reject(name, ErrUnknownFormat, "%s", describe(data))
	}
	// The decoders are written for well-formed input; a panic on hostile
	// bytes must cost one slide, not the process.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, reject(name, ErrCorrupt, "the %s decoder crashed on this file: %v", formatName(format), p)
		}
	}()

	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch format {
	case JPEG:
		// Each scan of a progressive JPEG walks every block of the image, so
		// a small file with thousands of tiny scans costs minutes of CPU.
		// Real files have about ten; libjpeg-turbo's tools stop at 500.
		// Counting FF DA is exact enough: inside entropy-coded data every
		// FF byte is followed by 00 or a restart marker.
		if n := bytes.Count(data, []byte{0xff, 0xda}); n > MaxJPEGScans {
			return nil, reject(name, ErrCorrupt, "the JPEG has %d scans, over the %d a real photo could need (a decoding bomb?)", n, MaxJPEGScans)
		}
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case PNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case GIF:
		// gif.Decode returns the first frame only, which is what a
		// slideshow can show of an animation.
		decodeConfig, decode = gif.DecodeConfig, gif.Decode
	case WebP:
		if webpAnimated(data) {
			return nil, reject(name, ErrAnimated, "animated WebP images are not supported; save a still frame instead")
		}
		decodeConfig, decode = webp.DecodeConfig, decodeWebP
	}

	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(name, format, err)
	}
	if err := lim.checkPixels(name, cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if rows && format == PNG {
		if p, ok := pngRows(name, data); ok {
			return &Image{Pixels: p, Format: format, Orientation: orientation(format, data)}, nil
		}
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(name, format, err)
	}
	if b := m.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// Never trust pixels whose size differs from the checked header.
		return nil, reject(name, ErrCorrupt, "header says %dx%d but the %s data is %dx%d",
			cfg.Width, cfg.Height, formatName(format), b.Dx(), b.Dy())
	}
	return &Image{Pixels: m, Format: format, Orientation: orientation(format, data)}, nil
}

func corrupt(name string, f Format, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return reject(name, ErrCorrupt, "the %s data ends too early (truncated file?)", formatName(f))
	}
	return reject(name, ErrCorrupt, "not a valid %s: %v", formatName(f), err)
}

func formatName(f Format) string {
	switch f {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case WebP:
		return "WebP"
	case GIF:
		return "GIF"
	}
	return string(f)
}

func decodeWebP(r io.Reader) (image.Image, error) {
	m, err := webp.Decode(r)
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *image.YCbCr: // lossy VP8
		return &VideoYCbCr{m}, nil
	case *image.NYCbCrA: // lossy VP8 with an ALPH chunk
		return &VideoNYCbCrA{m}, nil
	}
	return m, nil // lossless VP8L: *image.NRGBA
}

// webpAnimated reports whether a WebP file's VP8X header has the animation
// flag. x/image/webp cannot decode animations and would only say "invalid
// format".
func webpAnimated(b []byte) bool {
	x := webpChunk(b, "VP8X")
	return len(x) >= 1 && x[0]&0x02 != 0
}
