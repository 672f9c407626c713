package decode

import (
	"errors"
	"image"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"slidestream/internal/jpeg"
)

// Options says how the caller will use the pixels, so that a decoder can do
// less. The zero value asks for the whole picture, decoded in full.
type Options struct {
	// Shrink is how many times smaller, in each dimension, the caller
	// will first make the picture by averaging blocks of pixels (encode's
	// Shrink says how much); 0 or 1 for not at all. A decoder may do part
	// of it while decoding, by a power of two: the JPEG decoder decodes at
	// 1/2, 1/4 or 1/8 of the size in the DCT domain, the same averages for
	// far less work and memory. Image.Shrunk says by how much it did.
	Shrink int
	// Rows says the caller reads the pixels once, top to bottom, as the
	// encoder does. A PNG that is not interlaced then comes back as
	// *PNGRows, still compressed: a fault in its compressed data is
	// reported when its rows are read, not by Decode.
	Rows bool
	// Children, when set, decodes HEIC and AVIF in child processes (see
	// ServeChild); without it they decode in this process.
	Children *Children
	// Video, when set, decodes clips' first frames; without it a clip
	// cannot be shown.
	Video Video
}

// Header is what a file says about itself before any pixel is decoded.
type Header struct {
	Format        Format
	Width, Height int
	// Size and ModTime are the version of the file that was opened (the
	// length and a zero time for bytes in memory), so a caller can tell
	// whether it is still the version it asked for.
	Size    int64
	ModTime time.Time
}

// Image is a decoded picture and what is needed to show it upright.
type Image struct {
	// Pixels as the format's decoder returned them (*image.YCbCr,
	// *image.NRGBA, *image.CMYK, *image.Paletted, ...), except that lossy
	// WebP comes as *VideoYCbCr or *VideoNYCbCrA and, with Options.Rows,
	// most PNGs as *PNGRows.
	Pixels image.Image
	// Format is what the file's bytes said it is.
	Format Format
	// Orientation is the EXIF orientation, not yet applied to Pixels.
	Orientation Orientation
	// Profile, when set, is the colour profile the pixels are in; nil
	// means sRGB. It is applied once the picture is made small.
	Profile *Profile
	// Stored is the size of the stored picture, and Shrunk how many times
	// smaller Pixels are (Options.Shrink): 1, 2, 4 or 8. Each side of
	// Pixels is Stored's divided by Shrunk, rounded up.
	Stored image.Point
	Shrunk int
}

// File is an image file opened for decoding: its header has been read and
// checked against the limits, the pixels not yet. A transcode reads each
// file once, through one File. A File is not safe for concurrent use.
type File struct {
	name   string
	file   *os.File // nil for bytes in memory, and once the whole file is read
	data   []byte   // the file's bytes read so far
	header Header
	format *format
	layout layout
}

// headBytes is how much of a file is read first for its header; a header
// that runs past it (a JPEG with large metadata segments before its frame
// header, say) is read on, four times as much at each step.
const headBytes = 64 << 10

// Open opens the image file at path and reads its header. Every file is
// untrusted: before a single large buffer is allocated, Open checks, in
// this order, that path names a regular file (a FIFO or device is never
// read), that it is no bigger than Limits.MaxFileSize, what format its
// first bytes say it is, that its header is sound, and that its width and
// height stay within Limits.MaxPixels. Symbolic links are followed, to
// regular files only. Every error it returns is an *Error naming path.
//
// The caller must Close the File.
func Open(path string, lim Limits) (*File, error) {
	file, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	if max := lim.maxFileSize(); st.Size() > max {
		file.Close()
		return nil, reject(path, ErrFileTooLarge, "%s is over --max-file-size %s", humanBytes(st.Size()), humanBytes(max))
	}
	f := &File{name: path, file: file, header: Header{Size: st.Size(), ModTime: st.ModTime()}}
	if err := f.readHeader(lim); err != nil {
		file.Close()
		return nil, err
	}
	return f, nil
}

// openBytes is Open for an image held in memory (tests and fuzzing); name
// is used in errors.
func openBytes(name string, data []byte, lim Limits) (*File, error) {
	if max := lim.maxFileSize(); int64(len(data)) > max {
		return nil, reject(name, ErrFileTooLarge, "%s is over --max-file-size %s", humanBytes(int64(len(data))), humanBytes(max))
	}
	f := &File{name: name, data: data, header: Header{Size: int64(len(data))}}
	if err := f.readHeader(lim); err != nil {
		return nil, err
	}
	return f, nil
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

// readHeader sniffs the format and reads the header, reading more of the
// file as long as the header needs it.
func (f *File) readHeader(lim Limits) (err error) {
	if err := f.fill(min(f.header.Size, headBytes)); err != nil {
		return err
	}
	format, ok := sniff(f.data)
	if !ok {
		return reject(f.name, ErrUnknownFormat, "%s", describe(f.data))
	}
	f.format, f.header.Format = format, format.id
	defer func() {
		if p := recover(); p != nil {
			err = reject(f.name, ErrCorrupt, "the %s header reader crashed on this file: %v", format.name, p)
		}
	}()
	for {
		f.layout, err = format.header(f.name, f.data)
		n := int64(len(f.data))
		short := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
		if !short || n >= f.header.Size {
			break
		}
		if err := f.fill(min(f.header.Size, 4*n)); err != nil {
			return err
		}
	}
	if err != nil {
		return corrupt(f.name, format.id, err)
	}
	f.header.Width, f.header.Height = f.layout.width, f.layout.height
	return lim.checkPixels(f.name, f.layout.width, f.layout.height)
}

// fill reads the file until f.data holds n bytes. The file must have as
// many as fstat said: one that shrinks or grows while it is read is being
// written, and this version of it is refused.
func (f *File) fill(n int64) error {
	have := int64(len(f.data))
	if f.file == nil || have >= n {
		return nil
	}
	if int64(cap(f.data)) < n {
		grown := make([]byte, have, n)
		copy(grown, f.data)
		f.data = grown
	}
	f.data = f.data[:n]
	if _, err := io.ReadFull(f.file, f.data[have:]); err != nil {
		f.data = f.data[:have]
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return reject(f.name, ErrUnreadable, "the file changed while being read")
		}
		return reject(f.name, ErrUnreadable, "read failed: %v", unwrapPath(err))
	}
	if n == f.header.Size {
		var one [1]byte
		if m, _ := f.file.Read(one[:]); m > 0 {
			return reject(f.name, ErrUnreadable, "the file changed while being read")
		}
		f.file.Close()
		f.file = nil
	}
	return nil
}

// Header returns what the file's header says.
func (f *File) Header() Header { return f.header }

// Profile reads the file's colour profile: nil without one (the pixels
// are sRGB), or a *ProfileError saying why the profile it has is not
// applied.
func (f *File) Profile() (*Profile, error) {
	if f.format.colour != nil {
		return f.format.colour(f.data)
	}
	if f.format.icc == nil {
		return nil, nil
	}
	b := f.format.icc(f.data)
	if b == nil {
		return nil, nil
	}
	return ParseICC(b)
}

// Orientation is the file's EXIF orientation, read from its header.
func (f *File) Orientation() Orientation { return orientation(f.format, f.data) }

// Memory estimates the bytes Decode with o will hold at once: the file,
// the pixels in the decoder's layout (none for a PNG read by rows) and the
// decoder's working memory, such as a progressive JPEG's coefficients. A
// caller can budget decodes before starting them.
func (f *File) Memory(o Options) int64 {
	m := f.header.Size // Decode holds the whole file
	switch {
	case f.layout.shrunk != nil:
		m += f.layout.shrunk(f.shift(o))
	case !o.Rows || !f.layout.rows:
		m += f.layout.whole
	}
	return m
}

// Planar is, when Decode returns opaque YCbCr planes (*image.YCbCr or
// *VideoYCbCr), as it does for JPEG photos and lossy WebP without alpha,
// how many pixels a chroma sample spans across and down (2×2 for 4:2:0);
// zero for other pictures.
func (f *File) Planar() image.Point { return f.layout.planar }

// Shrinks is how many times a decode with o shrinks the picture in each
// direction (Image.Shrunk): 1, or 2, 4 or 8 for a format decoded shrunk.
func (f *File) Shrinks(o Options) int { return 1 << f.shift(o) }

// shift is the power of two a decode with o shrinks the picture by, 0 for
// none.
func (f *File) shift(o Options) int {
	if f.layout.shrunk == nil {
		return 0
	}
	s := 0
	for s < 3 && 2<<s <= o.Shrink {
		s++
	}
	return s
}

// Decode reads the rest of the file and decodes it. A panic inside a
// format's decoder becomes an ordinary error: hostile bytes cost one
// picture, not the process. Every error it returns is an *Error.
func (f *File) Decode(o Options) (img *Image, err error) {
	if err := f.fill(f.header.Size); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, reject(f.name, ErrCorrupt, "the %s decoder crashed on this file: %v", f.format.name, p)
		}
	}()
	shift := f.shift(o)
	var m image.Image
	err = jpeg.ErrNotScaled
	if f.layout.shrunk != nil {
		m, err = f.format.decodeShrunk(f.data, shift)
	}
	if errors.Is(err, jpeg.ErrNotScaled) {
		shift = 0
		m, err = f.format.decode(f.name, f.data, f.layout, o)
	}
	if err != nil {
		return nil, corrupt(f.name, f.format.id, err)
	}
	div := 1 << shift
	if b := m.Bounds(); b.Dx() != (f.layout.width+div-1)/div || b.Dy() != (f.layout.height+div-1)/div {
		// Never trust pixels whose size differs from the checked header.
		return nil, reject(f.name, ErrCorrupt, "header says %dx%d but the %s data is %dx%d at 1/%d",
			f.layout.width, f.layout.height, f.format.name, b.Dx(), b.Dy(), div)
	}
	img = &Image{Pixels: m, Format: f.format.id, Orientation: orientation(f.format, f.data),
		Stored: image.Pt(f.layout.width, f.layout.height), Shrunk: div}
	if p, err := f.Profile(); err == nil && p != nil {
		img.Profile = p
	}
	return img, nil
}

// Close releases the open file, if it is still open.
func (f *File) Close() error {
	if f.file == nil {
		return nil
	}
	err := f.file.Close()
	f.file = nil
	return err
}

// corrupt explains a decoder's error as the file's fault; an *Error a
// format already made is returned as it is.
func corrupt(name string, f Format, err error) error {
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, errChildGone) {
		return reject(name, ErrKilled, "the process decoding it was killed (out of memory?); it is tried again later")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return reject(name, ErrCorrupt, "the %s data ends too early (truncated file?)", formatName(f))
	}
	return reject(name, ErrCorrupt, "not a valid %s: %s", formatName(f), oneLine(err.Error()))
}

// maxReasonLine bounds a decoder's message in a reason.
const maxReasonLine = 300

// oneLine is the first line of a decoder's message, at most maxReasonLine
// bytes: a trap in a WebAssembly decoder comes with its whole stack, and a
// reason is one line on a page and in the log.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if len(s) > maxReasonLine {
		cut := maxReasonLine
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
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
