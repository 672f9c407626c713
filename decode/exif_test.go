package decode

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

func TestOrientationIgnoresBrokenExif(t *testing.T) {
	for _, tiff := range [][]byte{
		nil,
		[]byte("II*\x00"),
		[]byte("II*\x00\xff\xff\xff\x7f"), // IFD offset far out
		[]byte("MM\x00*\x00\x00\x00\x08\xff\xff"),                                         // entry count past the end
		[]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00"), // 9 is no orientation
	} {
		if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
			t.Errorf("tiffOrientation(%q) = %d; want none", tiff, o)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	if o := orientation(jpegFormat, buf.Bytes()); o != Upright {
		t.Errorf("orientation of a JPEG without EXIF = %d; want 1", o)
	}
}
