package encode

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"testing"
)

// quadrants is a w×h picture of four colours: red top left, green top
// right, blue bottom left, yellow bottom right.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for _, q := range []struct {
		r image.Rectangle
		c color.RGBA
	}{
		{image.Rect(0, 0, w/2, h/2), color.RGBA{255, 0, 0, 255}},
		{image.Rect(w/2, 0, w, h/2), color.RGBA{0, 255, 0, 255}},
		{image.Rect(0, h/2, w/2, h), color.RGBA{0, 0, 255, 255}},
		{image.Rect(w/2, h/2, w, h), color.RGBA{255, 255, 0, 255}},
	} {
		draw.Draw(m, q.r, image.NewUniform(q.c), image.Point{}, draw.Src)
	}
	return m
}

func mustPalette(t *testing.T, s string) Palette {
	t.Helper()
	p, err := ParsePalette(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A palette's still is a PNG of exactly the frame's size, indexed at the
// smallest bit depth that holds the palette, with only the palette's
// nominal colours in it.
func TestStillPNGHoldsOnlyThePalette(t *testing.T) {
	photo := photoRGBA(t, "jpeg-large.jpg")
	for _, c := range []struct {
		palette string
		depth   byte
	}{{"bw", 1}, {"gray4", 2}, {"gray16", 4}, {"spectra6", 4}, {"acep7", 4}, {"000000,ffffff,ff0000", 2}} {
		p := mustPalette(t, c.palette)
		b, err := Still(photo, StillOptions{Palette: p, Format: "png"}, 80)
		if err != nil {
			t.Fatal(err)
		}
		if b[24] != c.depth || b[25] != 3 {
			t.Errorf("%s: PNG of bit depth %d, colour type %d; want %d, indexed (3)", c.palette, b[24], b[25], c.depth)
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if m.Bounds() != photo.Rect {
			t.Errorf("%s: %v; want %v", c.palette, m.Bounds(), photo.Rect)
		}
		used := map[color.RGBA]int{}
		for y := 0; y < photo.Rect.Dy(); y++ {
			for x := 0; x < photo.Rect.Dx(); x++ {
				used[color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)]++
			}
		}
		for c2 := range used {
			found := false
			for _, n := range p.Nominal {
				found = found || n == c2
			}
			if !found {
				t.Fatalf("%s: colour %v is not the palette's", c.palette, c2)
			}
		}
		if len(used) < 2 {
			t.Errorf("%s: one colour only: %v", c.palette, used)
		}
	}
}

// Error diffusion is in linear light: a grey that is half the light of
// white dithers to about half white dots, not the 73% that sRGB's 188
// would give if its code values were averaged.
func TestDitherKeepsTheLight(t *testing.T) {
	grey := image.NewRGBA(image.Rect(0, 0, 200, 200))
	draw.Draw(grey, grey.Rect, image.NewUniform(color.RGBA{188, 188, 188, 255}), image.Point{}, draw.Src)
	for _, d := range []Dither{DitherFS, DitherAtkinson} {
		p := dither(grey, mustPalette(t, "bw"), d)
		white := 0
		for _, v := range p.Pix {
			white += int(v)
		}
		frac := float64(white) / float64(len(p.Pix))
		// Atkinson drops a quarter of the error: it keeps less of it.
		if want := 0.5; math.Abs(frac-want) > 0.05 && !(d == DitherAtkinson && math.Abs(frac-want) < 0.15) {
			t.Errorf("%s: %.2f of the dots white; want about %.2f", d, frac, want)
		}
	}
	none := dither(grey, mustPalette(t, "bw"), DitherNone)
	for _, v := range none.Pix {
		if v != 1 {
			t.Fatal("dither none: a light grey is not all white")
		}
	}
}

// rotate turns the finished still clockwise: the bottom left corner comes
// to the top left at 90, and the size turns with it.
func TestStillRotates(t *testing.T) {
	q := quadrants(64, 32)
	for _, c := range []struct {
		rotate  int
		size    image.Point
		topLeft color.RGBA
	}{{0, image.Pt(64, 32), color.RGBA{255, 0, 0, 255}}, {90, image.Pt(32, 64), color.RGBA{0, 0, 255, 255}},
		{180, image.Pt(64, 32), color.RGBA{255, 255, 0, 255}}, {270, image.Pt(32, 64), color.RGBA{0, 255, 0, 255}}} {
		b, err := Still(q, StillOptions{Rotate: c.rotate, Format: "png"}, 80)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got := color.RGBAModel.Convert(m.At(2, 2)).(color.RGBA)
		if m.Bounds().Size() != c.size || got != c.topLeft {
			t.Errorf("rotate %d: %v, top left %v; want %v, %v", c.rotate, m.Bounds().Size(), got, c.size, c.topLeft)
		}
	}
}

// The BMP is what e-paper firmware reads: a 40-byte info header, bottom-up
// rows padded to four bytes, 1 bit per pixel for two colours with a
// two-entry colour table, 4 bits for more, 24 bits without a palette.
func TestStillBMP(t *testing.T) {
	q := quadrants(37, 21) // odd sizes: rows need padding
	for _, c := range []struct {
		palette string
		bpp     int
	}{{"bw", 1}, {"spectra6", 4}, {"", 24}} {
		o := StillOptions{Format: "bmp", Dither: DitherNone, Plain: true}
		if c.palette != "" {
			o.Palette = mustPalette(t, c.palette)
		}
		b, err := Still(q, o, 80)
		if err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		w, h := int32(le.Uint32(b[18:])), int32(le.Uint32(b[22:]))
		bpp, comp := int(le.Uint16(b[28:])), le.Uint32(b[30:])
		offset, colours := int(le.Uint32(b[10:])), int(le.Uint32(b[46:]))
		if string(b[:2]) != "BM" || int(le.Uint32(b[2:])) != len(b) || le.Uint32(b[14:]) != 40 || w != 37 || h != 21 ||
			bpp != c.bpp || comp != 0 || offset != 54+4*colours {
			t.Fatalf("%q: header BM=%q size %d/%d info %d %dx%d bpp %d compression %d offset %d colours %d",
				c.palette, b[:2], le.Uint32(b[2:]), len(b), le.Uint32(b[14:]), w, h, bpp, comp, offset, colours)
		}
		stride := (37*bpp + 31) / 32 * 4
		if len(b) != offset+stride*21 {
			t.Fatalf("%q: %d bytes; want %d", c.palette, len(b), offset+stride*21)
		}
		// The top left pixel is in the last row stored; it is red, or
		// the palette's colour nearest red.
		at := func(x, y int) color.RGBA {
			row := b[offset+(20-y)*stride:]
			switch bpp {
			case 24:
				return color.RGBA{row[3*x+2], row[3*x+1], row[3*x], 255}
			case 1:
				i := int(row[x/8]>>(7-x%8)) & 1
				e := b[54+4*i:]
				return color.RGBA{e[2], e[1], e[0], 255}
			}
			i := int(row[x/2]>>(4*(1-x%2))) & 15
			e := b[54+4*i:]
			return color.RGBA{e[2], e[1], e[0], 255}
		}
		// Every pixel is the one the PNG of the same still has, as
		// image/png reads it.
		o.Format = "png"
		pb, err := Still(q, o, 80)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := png.Decode(bytes.NewReader(pb))
		if err != nil {
			t.Fatal(err)
		}
		for y := range 21 {
			for x := range 37 {
				if got, want := at(x, y), color.RGBAModel.Convert(ref.At(x, y)).(color.RGBA); got != want {
					t.Fatalf("%q: (%d,%d) is %v in the BMP, %v in the PNG", c.palette, x, y, got, want)
				}
			}
		}
	}
}

// What cannot be made is said, not made.
func TestStillOptionsRefused(t *testing.T) {
	for _, s := range []string{"", "000000", "zzzzzz,ffffff", "gray3", "000000,ffffff,000000,ffffff,000000,ffffff,000000,ffffff,000000,ffffff,000000,ffffff,000000,ffffff,000000,ffffff,000000"} {
		if _, err := ParsePalette(s); err == nil {
			t.Errorf("palette %q accepted", s)
		}
	}
	bw := mustPalette(t, "bw")
	for _, o := range []StillOptions{{Rotate: 45, Format: "png"}, {Format: "gif"}, {Palette: bw, Format: "jpeg"}} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := ParseDither("ordered"); err == nil {
		t.Error("dither ordered accepted")
	}
}
