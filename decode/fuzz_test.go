package decode

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzBytes feeds mutated fixtures to OpenBytes and Decode. Whatever the
// bytes, they must return either pixels within the limits or an *Error,
// and never panic.
func FuzzBytes(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "*.*"))
	for _, p := range paths {
		// HEIC and AVIF pixels are decoded by libheif and libavif, whose
		// own fuzzing covers them; FuzzHEIF covers what is read here.
		if ext := filepath.Ext(p); ext == ".heic" || ext == ".avif" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add(pngClaiming(100000, 100000))
	// Small limits keep each run fast; the checks are the same at any size.
	lim := Limits{MaxPixels: 1 << 16, MaxFileSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := readBytes("fuzz", data, lim, Options{})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.File != "fuzz" || de.Reason == "" {
				t.Fatalf("decode error %#v is not a *decode.Error naming the file", err)
			}
			return
		}
		if f, err := openBytes("fuzz", data, lim); err == nil {
			f.Taken() // reads only metadata; must not panic
		}
		b := img.Pixels.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels || b.Empty() {
			t.Fatalf("Decode returned %v pixels, outside the limit", b)
		}
		if img.Orientation < 1 || img.Orientation > 8 {
			t.Fatalf("Decode returned orientation %d", img.Orientation)
		}
		// Where the PNG row reader takes the file, it must agree with
		// image/png on every pixel.
		lazy, err := readBytes("fuzz", data, lim, Options{Rows: true})
		if err != nil {
			t.Fatalf("the file decoded whole but not with Options.Rows: %v", err)
		}
		if p, ok := lazy.Pixels.(*PNGRows); ok {
			got, err := rowsOf(p)
			if err != nil {
				t.Fatalf("image/png decoded the file but Rows says %v", err)
			}
			samePixels(t, got, img.Pixels)
		}
	})
}

// FuzzOrientation feeds arbitrary TIFF structures to the EXIF readers:
// orientation and the date taken.
func FuzzOrientation(f *testing.F) {
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00"))
	f.Add(tiffWithDate(binary.BigEndian, "2024:07:14 18:30:05", "+02:00"))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x08\x00\x00"))
	f.Fuzz(func(t *testing.T, tiff []byte) {
		for _, format := range formats {
			if o := orientation(format, tiff); o < 1 || o > 8 {
				t.Fatalf("orientation = %d", o)
			}
		}
		tiffOrientation(tiff)
		if when, ok := exifTaken(tiff); ok && (when.Year() < 1800 || when.Year() > 9999) {
			t.Fatalf("exifTaken = %v", when)
		}
	})
}
