package decode

import (
	"image"
	"io"
	"path"
	"strings"
)

// Format names an image format recognised from a file's first bytes.
type Format string

// The formats Open understands.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
	GIF  Format = "gif"
	HEIC Format = "heic" // HEIF with HEVC pictures, as phones write
	AVIF Format = "avif" // HEIF with AV1 pictures
)

// format is one row of the table of formats: everything decode knows about
// one of them. Adding a format is one file that defines its row and one
// line in formats.
type format struct {
	id   Format
	name string   // as people write it: "JPEG"
	exts []string // file name extensions that mean this format, lower case
	// magic recognises the format from the file's first bytes, never its
	// name.
	magic func(b []byte) bool
	// header reads the size and layout from the start of the file, and
	// refuses what the decoder cannot show (an animation, say). When b ends
	// before the header does, it returns io.ErrUnexpectedEOF and is called
	// again with more of the file.
	header func(name string, b []byte) (layout, error)
	// decode turns the whole file into pixels of the size header read.
	decode func(name string, data []byte, l layout, o Options) (image.Image, error)
	// decodeShrunk, where the layout says the file can be (shrunk is
	// set), decodes it at 1/2^shift of its size (shift 0 to 3), each
	// side rounded up; jpeg.ErrNotScaled hands it to decode.
	decodeShrunk func(data []byte, shift int) (image.Image, error)
	// exif returns the file's EXIF block (a TIFF structure), if any,
	// from the start of the file read for its header.
	exif func(data []byte) []byte
	// exifAt, where set, finds an EXIF block that exif may miss because
	// it follows the pixels, reading no more than the chunk headers.
	exifAt func(r io.ReaderAt, size int64) []byte
	// icc returns the file's colour profile, if any, from the start of the
	// file read for its header (formats put it before the pixels).
	icc func(data []byte) []byte
	// colour, where set instead of icc, reads the colour profile or the
	// colour description the format keeps, from the same bytes.
	colour func(data []byte) (*Profile, error)
	// orient, where set, says how the decoded pixels must be turned,
	// instead of the EXIF orientation.
	orient func(data []byte) Orientation
}

// layout is what a format's header says about the pixels.
type layout struct {
	width, height int
	// whole is the memory a decode of the whole picture holds at once:
	// the pixels in the decoder's layout, plus working memory such as a
	// progressive JPEG's coefficients.
	whole int64
	// rows is set when Decode with Options.Rows returns the pixels still
	// compressed, to be read by rows with no full-size picture in memory.
	rows bool
	// shrunk, when set, is the memory a decode at 1/2^shift holds (shift
	// 0 to 3), for a file the format's decodeShrunk can decode.
	shrunk func(shift int) int64
	// planar is, when Decode returns opaque YCbCr planes (*image.YCbCr or
	// *VideoYCbCr), how many pixels a chroma sample spans across and
	// down; zero otherwise.
	planar image.Point
	// clip is set for a video clip, whose still is its first frame.
	clip bool
}

// formats is the table: sniffing tries the rows in this order.
var formats = []*format{jpegFormat, pngFormat, webpFormat, gifFormat, heicFormat, avifFormat, mp4Format, webmFormat}

// sniff finds the format of a file from its first bytes.
func sniff(b []byte) (*format, bool) {
	for _, f := range formats {
		if f.magic(b) {
			return f, true
		}
	}
	return nil, false
}

// IsImageName reports whether a file name has the extension of a format
// Open understands, in any letter case. Names only pick which files to
// try: Open goes by the bytes.
func IsImageName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, f := range formats {
		for _, e := range f.exts {
			if e == ext {
				return true
			}
		}
	}
	return false
}

// IsClipName reports whether a file name has the extension of a video
// clip (MP4, MOV, M4V, WebM), in any letter case.
func IsClipName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, f := range []*format{mp4Format, webmFormat} {
		for _, e := range f.exts {
			if e == ext {
				return true
			}
		}
	}
	return false
}

// formatName is the name people use for a format: "JPEG".
func formatName(id Format) string {
	for _, f := range formats {
		if f.id == id {
			return f.name
		}
	}
	return string(id)
}

// formatList names every format: "JPEG, PNG, WebP, GIF, HEIC or AVIF".
func formatList() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// describe says what an unrecognised file looks like, to make the rejection
// useful: an empty file, a text file, or something else. It never quotes
// the file's bytes: the reason is shown on pages.
func describe(b []byte) string {
	if len(b) == 0 {
		return "the file is empty"
	}
	head := b[:min(len(b), 512)]
	text := true
	for _, c := range head {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f {
			text = false
			break
		}
	}
	if text {
		return "it is text, not a " + formatList() + " image"
	}
	return "not an image: not a " + formatList() + " file"
}
