package decode

import (
	"bytes"
	"encoding/binary"
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
func orientation(f Format, b []byte) Orientation {
	var tiff []byte
	switch f {
	case JPEG:
		tiff = jpegExif(b)
	case PNG:
		tiff = pngChunk(b, "eXIf")
	case WebP:
		tiff = webpChunk(b, "EXIF")
	}
	// Some writers keep JPEG's "Exif\0\0" prefix in PNG and WebP chunks too.
	tiff = bytes.TrimPrefix(tiff, []byte("Exif\x00\x00"))
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return Upright
}

// jpegExif returns the TIFF payload of the first APP1 Exif segment, looking
// only at the marker segments before the first scan.
func jpegExif(b []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return nil
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngChunk returns the data of the first chunk of the given type before
// the image data.
func pngChunk(b []byte, typ string) []byte {
	i := 8 // after the signature
	for i+8 <= len(b) {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		t := string(b[i+4 : i+8])
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			return nil
		}
		if t == typ {
			return b[i+8 : end]
		}
		if t == "IDAT" || t == "IEND" {
			return nil
		}
		i = int(end) + 4 // skip the CRC
	}
	return nil
}

// webpChunk returns the data of the first RIFF chunk of the given type.
func webpChunk(b []byte, typ string) []byte {
	i := 12 // after "RIFF", size, "WEBP"
	for i+8 <= len(b) {
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			return nil
		}
		if string(b[i:i+4]) == typ {
			return b[i+8 : end]
		}
		i = int(end + end&1) // chunks are padded to an even size
	}
	return nil
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd+2 > int64(len(t)) {
		return 0
	}
	count := int64(bo.Uint16(t[ifd:]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ := bo.Uint16(t[e+2:])
		switch typ {
		case 3: // SHORT
			return Orientation(bo.Uint16(t[e+8:]))
		case 4, 9: // LONG, SLONG: seen from sloppy writers
			return Orientation(bo.Uint32(t[e+8:]))
		}
		return 0
	}
	return 0
}
