package decode

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"
)

// Orientation is the EXIF orientation tag (0x0112): how the stored pixels
// must be turned to stand upright. 1 is upright; 2–8 are the mirrors and
// rotations defined by the EXIF specification (section 4.6.4, table 4).
type Orientation int

// Upright is the orientation of an image that needs no turning.
const Upright Orientation = 1

// SwapsAxes reports whether turning the image swaps its width and height
// (orientations 5 to 8 include a quarter turn).
func (o Orientation) SwapsAxes() bool { return o >= 5 && o <= 8 }

// orientation finds the EXIF orientation in a file of the given format, or
// returns Upright when there is none or it makes no sense. It never fails:
// a broken EXIF block must not hide an otherwise good photo.
func orientation(f *format, b []byte) Orientation {
	if f.orient != nil {
		return f.orient(b)
	}
	// Some writers keep JPEG's "Exif\0\0" prefix in PNG and WebP chunks too.
	tiff := bytes.TrimPrefix(f.exif(b), []byte("Exif\x00\x00"))
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return Upright
}

// tiffHeader reads a TIFF structure's byte order and the offset of its
// first IFD.
func tiffHeader(t []byte) (binary.ByteOrder, int64, bool) {
	if len(t) < 8 {
		return nil, 0, false
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil, 0, false
	}
	if bo.Uint16(t[2:]) != 42 {
		return nil, 0, false
	}
	return bo, int64(bo.Uint32(t[4:])), true
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) Orientation {
	bo, ifd0, ok := tiffHeader(t)
	if !ok {
		return 0
	}
	typ, _, val, ok := ifdEntry(t, bo, ifd0, 0x0112)
	switch {
	case !ok:
		return 0
	case typ == 3: // SHORT
		return Orientation(bo.Uint16(val))
	case typ == 4 || typ == 9: // LONG, SLONG: seen from sloppy writers
		return Orientation(bo.Uint32(val))
	}
	return 0
}

// Taken returns when the photo was taken, from its EXIF
// DateTimeOriginal (or, failing that, DateTimeDigitized), in the zone its
// OffsetTimeOriginal gives, or local time when it gives none. It reads
// only metadata: for PNG and WebP, whose EXIF may follow the pixels, it
// steps from chunk header to chunk header. false means the file says
// nothing usable.
func (f *File) Taken() (time.Time, bool) {
	tiff := f.format.exif(f.data)
	if tiff == nil && f.format.exifAt != nil {
		var r io.ReaderAt = bytes.NewReader(f.data)
		if f.file != nil {
			r = f.file
		}
		tiff = f.format.exifAt(r, f.header.Size)
	}
	return exifTaken(bytes.TrimPrefix(tiff, []byte("Exif\x00\x00")))
}

// maxExif bounds the EXIF block read from a chunk.
const maxExif = 1 << 20

// chunkAt walks a chunked file by reading only the chunk headers (at most
// maxChunks of them) and returns the payload of the first chunk of type
// typ, or nil. head reads one header at off: the payload's type, offset
// and length, and where the next header starts.
func chunkAt(r io.ReaderAt, size, off int64, typ string, head func(h []byte, off int64) (t string, body, n, next int64)) []byte {
	const maxChunks = 1 << 16
	var h [8]byte
	for range maxChunks {
		if off+8 > size {
			return nil
		}
		if _, err := r.ReadAt(h[:], off); err != nil {
			return nil
		}
		t, body, n, next := head(h[:], off)
		if n < 0 || body+n > size || next <= off {
			return nil
		}
		if t == typ {
			if n > maxExif {
				return nil
			}
			b := make([]byte, n)
			if _, err := r.ReadAt(b, body); err != nil {
				return nil
			}
			return b
		}
		off = next
	}
	return nil
}

// ifdEntry finds a tag in the IFD at offset ifd of a TIFF structure and
// returns its type, count and the 4 bytes that hold its value or the
// value's offset.
func ifdEntry(t []byte, bo binary.ByteOrder, ifd int64, tag uint16) (typ uint16, count uint32, val []byte, ok bool) {
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0, 0, nil, false
	}
	n := int64(bo.Uint16(t[ifd:]))
	for k := int64(0); k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0, 0, nil, false
		}
		if bo.Uint16(t[e:]) == tag {
			return bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]), t[e+8 : e+12], true
		}
	}
	return 0, 0, nil, false
}

// ifdASCII reads an ASCII tag's text, without its NUL.
func ifdASCII(t []byte, bo binary.ByteOrder, ifd int64, tag uint16) (string, bool) {
	typ, count, val, ok := ifdEntry(t, bo, ifd, tag)
	if !ok || typ != 2 || count == 0 || count > 64 {
		return "", false
	}
	b := val[:min(4, int(count))]
	if count > 4 {
		off := int64(bo.Uint32(val))
		if off+int64(count) > int64(len(t)) {
			return "", false
		}
		b = t[off : off+int64(count)]
	}
	return string(bytes.TrimRight(b, "\x00 ")), true
}

// exifTaken reads the date a photo was taken from a TIFF structure.
func exifTaken(t []byte) (time.Time, bool) {
	bo, ifd0, ok := tiffHeader(t)
	if !ok {
		return time.Time{}, false
	}
	typ, _, val, ok := ifdEntry(t, bo, ifd0, 0x8769) // the Exif IFD
	if !ok || (typ != 4 && typ != 13) {
		return time.Time{}, false
	}
	sub := int64(bo.Uint32(val))
	for _, tags := range [][2]uint16{{0x9003, 0x9011}, {0x9004, 0x9012}} { // original, digitized; with offsets
		s, ok := ifdASCII(t, bo, sub, tags[0])
		if !ok {
			continue
		}
		loc := time.Local
		if off, ok := ifdASCII(t, bo, sub, tags[1]); ok {
			if z, err := time.Parse("-07:00", off); err == nil {
				loc = z.Location()
			}
		}
		when, err := time.ParseInLocation("2006:01:02 15:04:05", s, loc)
		if err != nil || when.Year() < 1800 {
			continue // "0000:00:00 00:00:00" and other blanks
		}
		return when, true
	}
	return time.Time{}, false
}
