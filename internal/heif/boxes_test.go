package heif

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures' structure reads as their makers wrote it: the codec, a
// grid, the rotations and mirrors as EXIF orientations, the alpha plane,
// the Exif item.
func TestParseFixtures(t *testing.T) {
	for o := 1; o <= 8; o++ {
		name := fmt.Sprintf("avif-orient-%d.avif", o)
		m, err := Parse(readFixture(t, name), false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Codec != "av01" || m.Orientation() != o {
			t.Errorf("%s: codec %q, orientation %d; want av01, %d", name, m.Codec, m.Orientation(), o)
		}
	}
	grid, err := Parse(readFixture(t, "heic-grid.heic"), false)
	if err != nil {
		t.Fatal(err)
	}
	if !grid.Grid || grid.Codec != "hvc1" || grid.Orientation() != 6 || grid.Exif == nil {
		t.Errorf("heic-grid.heic: grid %v, codec %q, orientation %d, Exif %v; want a grid of hvc1 tiles, turned (irot 3, three quarter turns anticlockwise: 6), with an Exif item",
			grid.Grid, grid.Codec, grid.Orientation(), grid.Exif)
	}
	alpha, err := Parse(readFixture(t, "heic-alpha.heic"), false)
	if err != nil {
		t.Fatal(err)
	}
	if alpha.Alpha == 0 || len(alpha.AlphaFile(readFixture(t, "heic-alpha.heic"))) == 0 {
		t.Errorf("heic-alpha.heic: alpha item %d; want its alpha plane, and a file of it", alpha.Alpha)
	}
	if b := Brands(readFixture(t, "heic-photo.heic")); len(b) == 0 {
		t.Errorf("heic-photo.heic: no ftyp brands")
	}
}

// A file cut anywhere inside its meta box asks for more of it (ErrShort)
// when it may be a prefix, and is refused when it is said to be whole.
func TestParseCutShort(t *testing.T) {
	b := readFixture(t, "heic-photo.heic")
	whole, err := Parse(b, false)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 64; n++ {
		if _, err := Parse(b[:n], true); !errors.Is(err, ErrShort) {
			t.Fatalf("the first %d bytes as a prefix: %v; want ErrShort", n, err)
		}
	}
	if _, err := Parse(b[:40], false); err == nil {
		t.Errorf("the first 40 bytes as a whole file parse")
	}
	if m, err := Parse(b, true); err != nil || m.Width != whole.Width || m.Height != whole.Height {
		t.Errorf("the whole file as a prefix: %v, %dx%d; want %dx%d", err, m.Width, m.Height, whole.Width, whole.Height)
	}
}

// FuzzParse: any bytes give a picture description that holds together
// (its crop inside it, an orientation of EXIF's eight, item bytes within
// the limit asked) or an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"heic-grid.heic", "heic-photo.heic", "heic-alpha.heic", "avif-orient-7.avif", "avif-swapped.avif", "heic-709-limited.heic"} {
		f.Add(readFixture(f, name), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, partial bool) {
		m, err := Parse(b, partial)
		if err != nil {
			return
		}
		if m.Width < 0 || m.Height < 0 {
			t.Fatalf("size %dx%d", m.Width, m.Height)
		}
		x0, y0, w, h := m.CropRect()
		if x0 < 0 || y0 < 0 || w < 0 || h < 0 || x0+w > m.Width || y0+h > m.Height {
			t.Fatalf("crop %d,%d %dx%d outside %dx%d", x0, y0, w, h, m.Width, m.Height)
		}
		if o := m.Orientation(); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if got := m.ItemBytes(b, m.Exif, 1<<10); len(got) > 1<<10 {
			t.Fatalf("%d item bytes over the limit of %d", len(got), 1<<10)
		}
		if a := m.AlphaFile(b); a != nil && bytes.Equal(a, b) && m.Alpha != 0 {
			t.Fatalf("the alpha file is the file itself")
		}
	})
}
