package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"slidestream/decode"
)

func TestFlattenTransparency(t *testing.T) {
	// Stripes: opaque red (x<20), half-transparent red (20..39), and
	// transparent magenta (40..63) that must never show.
	files := []struct {
		name string
		gray bool // the stripes are shades of gray in this fixture
	}{
		{"png-rgba.png", false},
		{"png-rgba16.png", false},
		{"png-palette.png", false},
		{"png-graya.png", true},
		{"webp-lossless-alpha.webp", false},
		{"webp-lossy-alpha.webp", false},
	}
	backgrounds := []color.RGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {0, 128, 255, 255}}
	for _, f := range files {
		for _, bg := range backgrounds {
			t.Run(fmt.Sprintf("%s on %s", f.name, fmt.Sprintf("%v", bg)), func(t *testing.T) {
				img := load(t, f.name)
				m := mustFlatten(t, img.Pixels, bg, 1)
				if got := m.RGBAAt(52, 12); !near(got, bg, 2) {
					t.Errorf("transparent pixel of %s = %v; want the background %v", f.name, got, bg)
				}
				if f.gray {
					return
				}
				if got := m.RGBAAt(10, 12); !near(got, color.RGBA{255, 0, 0, 255}, 6) {
					t.Errorf("opaque pixel of %s = %v; want red", f.name, got)
				}
				half := color.RGBA{uint8((255 + int(bg.R)) / 2), bg.G / 2, bg.B / 2, 255}
				if got := m.RGBAAt(30, 12); !near(got, half, 8) {
					t.Errorf("half-transparent pixel of %s on %v = %v; want %v", f.name, bg, got, half)
				}
				// The whole pipeline too: the transparent corner of the
				// JPEG frame is the background.
				out := frame(t, f.name, Options{Background: bg, Quality: 95})
				if got := out.At(60, 3); !near(got, bg, 6) {
					t.Errorf("Frame(%q) transparent corner = %v; want %v", f.name, got, bg)
				}
			})
		}
	}
}

// A PNG read row by row while it is inflated (Rows) must give the
// same frame, byte for byte, as the same PNG decoded whole.
func TestFrameFromPNGRows(t *testing.T) {
	// 301×203 so that every box factor leaves a ragged last band.
	m := image.NewNRGBA(image.Rect(0, 0, 301, 203))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*7 + i/1201)
	}
	for i := 3; i < len(m.Pix); i += 4 {
		if i%9 == 0 {
			m.Pix[i] = uint8(i / 13) // some translucency
		}
	}
	var rgba, rgb bytes.Buffer
	png.Encode(&rgba, m)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 0xff
	}
	png.Encode(&rgb, m) // all opaque: image/png writes RGB
	inputs := map[string][]byte{"rgba": rgba.Bytes(), "rgb": rgb.Bytes()}
	// A 16-bit copy with translucency, where the premultiplication and
	// rounding of 16-bit samples matter.
	m16 := image.NewNRGBA64(m.Bounds())
	for i := range m16.Pix {
		m16.Pix[i] = uint8(i*13 + i/977)
	}
	var b16 bytes.Buffer
	png.Encode(&b16, m16)
	inputs["rgba16"] = b16.Bytes()
	paths, _ := filepath.Glob(fixture("*.png"))
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if img, err := decodeBytes(path, b, decode.Options{Rows: true}); err == nil {
			if _, ok := img.Pixels.(Rows); ok {
				inputs[filepath.Base(path)] = b
			}
		}
	}
	if len(inputs) < 10 {
		t.Fatalf("%d PNGs are read by rows; want the grey, grey+alpha, RGB and RGBA fixtures at 8 and 16 bits", len(inputs))
	}
	for name, data := range inputs {
		whole, err := decodeBytes(name, data, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{0, 100, 33, 7} {
			for _, bg := range []color.RGBA{{0, 0, 0, 255}, {200, 30, 90, 255}} {
				o := Options{Width: width, Background: bg}
				want, err := Frame(whole, o)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := decodeBytes(name, data, decode.Options{Rows: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := rows.Pixels.(Rows); !ok {
					t.Fatalf("%s: Decode with Rows gave %T; want Rows", name, rows.Pixels)
				}
				got, err := Frame(rows, o)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s at width %d on %s: the row-by-row frame differs from the whole decode's", name, width, fmt.Sprintf("%v", bg))
				}
			}
		}
	}
}
