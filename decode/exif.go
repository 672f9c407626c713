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
func orientation(f *format, b []byte) Orientation {
	// Some writers keep JPEG's "Exif\0\0" prefix in PNG and WebP chunks too.
	tiff := bytes.TrimPrefix(f.exif(b), []byte("Exif\x00\x00"))
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return Upright
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
