package encode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/disintegration/imaging"
)

// Stills are frames for screens that fetch one picture and sleep: e-paper
// panels on microcontrollers, which show a handful of colours, want the
// frame at exactly their size, already dithered to their palette, in a
// format their firmware reads (PNG or BMP), and sometimes turned for a
// panel mounted sideways.

// Palette is the colours a panel shows. Nominal are the colours written
// into the file, which the firmware maps to its inks one to one; Seen are
// the colours the inks really show, which the dithering matches. For a
// grey panel the two are the same.
type Palette struct {
	Name    string // the name it was asked by, or its colours in hex
	Nominal []color.RGBA
	Seen    []color.RGBA
}

// On reports whether p is a palette; the zero Palette means full colour.
func (p Palette) On() bool { return len(p.Nominal) > 0 }

// MaxPaletteColours bounds a palette: 4 bits per pixel, the most a PNG or
// BMP of an e-paper panel's firmware takes below 8.
const MaxPaletteColours = 16

// PaletteNames lists the named palettes.
var PaletteNames = []string{"bw", "gray4", "gray16", "spectra6", "acep7"}

// The colours colour e-paper inks show, as measured on real panels and
// published by the epdoptimize project (src/dither/data/default-palettes.json:
// "spectra6" for E Ink Spectra 6, "acep" for the 7-colour ACeP/Gallery
// panels). The nominal colours, in the order Waveshare's drivers number
// the inks, are what the firmware maps back to them.
var (
	spectra6 = Palette{Name: "spectra6",
		Nominal: hexes("000000", "ffffff", "ffff00", "ff0000", "0000ff", "00ff00"),
		Seen:    hexes("212122", "b9b1b1", "c8af4b", "610e0e", "4152a0", "193d1e")}
	acep7 = Palette{Name: "acep7",
		Nominal: hexes("000000", "ffffff", "00ff00", "0000ff", "ff0000", "ffff00", "ff8000"),
		Seen:    hexes("191e21", "f1f1f1", "53a428", "31318f", "d20e13", "f3cf11", "b85e1c")}
)

func hexes(s ...string) []color.RGBA {
	out := make([]color.RGBA, len(s))
	for i, h := range s {
		c, err := parseHex(h)
		if err != nil {
			panic(err)
		}
		out[i] = c
	}
	return out
}

func parseHex(h string) (color.RGBA, error) {
	if len(h) != 6 {
		return color.RGBA{}, fmt.Errorf("colour %q: want six hex digits such as ff0000", h)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("colour %q: want six hex digits such as ff0000", h)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, nil
}

func greys(n int) Palette {
	p := Palette{}
	for i := range n {
		v := uint8(i * 255 / (n - 1))
		p.Nominal = append(p.Nominal, color.RGBA{v, v, v, 255})
	}
	p.Seen = p.Nominal
	return p
}

// ParsePalette reads a palette: a name of PaletteNames, or 2 to 16 colours
// in hex separated by commas (000000,ffffff,ff0000), shown as they are.
func ParsePalette(s string) (Palette, error) {
	switch s {
	case "bw":
		p := greys(2)
		p.Name = s
		return p, nil
	case "gray4":
		p := greys(4)
		p.Name = s
		return p, nil
	case "gray16":
		p := greys(16)
		p.Name = s
		return p, nil
	case "spectra6":
		return spectra6, nil
	case "acep7":
		return acep7, nil
	}
	if len(s) > MaxPaletteColours*7 {
		return Palette{}, fmt.Errorf("palette: at most %d colours", MaxPaletteColours)
	}
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > MaxPaletteColours {
		return Palette{}, fmt.Errorf("palette %q: want one of %s, or 2 to %d hex colours such as 000000,ffffff,ff0000",
			s, strings.Join(PaletteNames, ", "), MaxPaletteColours)
	}
	p := Palette{}
	names := make([]string, len(parts))
	for i, h := range parts {
		c, err := parseHex(strings.ToLower(h))
		if err != nil {
			return Palette{}, fmt.Errorf("palette: %w", err)
		}
		p.Nominal = append(p.Nominal, c)
		names[i] = fmt.Sprintf("%02x%02x%02x", c.R, c.G, c.B)
	}
	p.Seen, p.Name = p.Nominal, strings.Join(names, ",")
	return p, nil
}

// Calibrated returns p dithered against measured colours instead of its
// own (a list of hex colours, one per palette colour, in its order).
func (p Palette) Calibrated(s string) (Palette, error) {
	parts := strings.Split(s, ",")
	if len(parts) != len(p.Nominal) {
		return Palette{}, fmt.Errorf("calibrated: want %d colours, one per colour of the palette", len(p.Nominal))
	}
	seen := make([]color.RGBA, len(parts))
	names := make([]string, len(parts))
	for i, h := range parts {
		c, err := parseHex(strings.ToLower(h))
		if err != nil {
			return Palette{}, fmt.Errorf("calibrated: %w", err)
		}
		seen[i] = c
		names[i] = fmt.Sprintf("%02x%02x%02x", c.R, c.G, c.B)
	}
	p.Seen = seen
	p.Name += "@" + strings.Join(names, ",")
	return p, nil
}

// Dither is how a picture's colours are brought down to a palette's.
type Dither string

const (
	DitherFS       Dither = "fs"       // Floyd–Steinberg: all the error, to four neighbours
	DitherAtkinson Dither = "atkinson" // Atkinson: three quarters of it, to six: more contrast, less noise
	DitherNone     Dither = "none"     // the nearest colour only
)

// ParseDither reads a Dither by name.
func ParseDither(s string) (Dither, error) {
	switch d := Dither(s); d {
	case DitherFS, DitherAtkinson, DitherNone:
		return d, nil
	}
	return "", fmt.Errorf("dither %q: want fs, atkinson or none", s)
}

// StillSpec is a still as it is asked for, in words, as URLs and frame
// keys carry it; the zero value is no still.
type StillSpec struct {
	Format string // "jpeg", "png" or "bmp"; "" for no still
	Rotate int    // clockwise: 0, 90, 180 or 270
	Dither string // Dither
	Plain  bool   // no lift of contrast and saturation
	// Palette is the palette as ParsePalette reads it ("" for full
	// colour), and Calibrated the measured colours that replace its seen
	// ones ("" for its own).
	Palette, Calibrated string
}

// On reports whether k asks for a still.
func (k StillSpec) On() bool { return k.Format != "" }

// Options are the encode options k names, or why they cannot be.
func (k StillSpec) Options() (StillOptions, error) {
	o := StillOptions{Format: k.Format, Rotate: k.Rotate, Plain: k.Plain, Dither: DitherFS}
	if k.Dither != "" {
		d, err := ParseDither(k.Dither)
		if err != nil {
			return o, err
		}
		o.Dither = d
	}
	if k.Palette != "" {
		p, err := ParsePalette(k.Palette)
		if err != nil {
			return o, err
		}
		if k.Calibrated != "" {
			if p, err = p.Calibrated(k.Calibrated); err != nil {
				return o, err
			}
		}
		o.Palette = p
	} else if k.Calibrated != "" {
		return o, errors.New("calibrated colours without a palette")
	}
	return o, o.Check()
}

// StillOptions says how a still is made from a frame's pixels.
type StillOptions struct {
	// Palette, when set, is the panel's: the still is dithered to it.
	Palette Palette
	Dither  Dither // default DitherFS
	// Plain turns off the lift of contrast and saturation that a palette's
	// still gets by default (e-paper shows photos flat and dull).
	Plain bool
	// Rotate turns the finished still clockwise by 0, 90, 180 or 270
	// degrees, for a panel mounted sideways.
	Rotate int
	// Format is "jpeg" (full colour only), "png" or "bmp".
	Format string
}

// Formats of stills.
var StillFormats = []string{"jpeg", "png", "bmp"}

// Check says what is wrong with o, if anything.
func (o StillOptions) Check() error {
	switch {
	case o.Rotate != 0 && o.Rotate != 90 && o.Rotate != 180 && o.Rotate != 270:
		return fmt.Errorf("rotate %d: want 0, 90, 180 or 270", o.Rotate)
	case o.Format != "jpeg" && o.Format != "png" && o.Format != "bmp":
		return fmt.Errorf("format %q: want jpeg, png or bmp", o.Format)
	case o.Format == "jpeg" && o.Palette.On():
		return errors.New("format jpeg: a palette's still is png or bmp (JPEG would blur its colours)")
	case len(o.Palette.Nominal) > MaxPaletteColours || len(o.Palette.Seen) != len(o.Palette.Nominal):
		return fmt.Errorf("palette: want 2 to %d colours", MaxPaletteColours)
	}
	return nil
}

// Still turns m into a still: turned, dithered to the palette if there is
// one, and encoded. m is left as it is.
func Still(m *image.RGBA, o StillOptions, quality int) ([]byte, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	src := m
	switch o.Rotate {
	case 90:
		src = asRGBA(imaging.Rotate270(m)) // imaging turns anticlockwise
	case 180:
		src = asRGBA(imaging.Rotate180(m))
	case 270:
		src = asRGBA(imaging.Rotate90(m))
	}
	var buf bytes.Buffer
	if o.Palette.On() {
		if !o.Plain {
			src = lift(src)
		}
		p := dither(src, o.Palette, o.Dither)
		if o.Format == "bmp" {
			return appendBMP(nil, p), nil
		}
		err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, p)
		return buf.Bytes(), err
	}
	switch o.Format {
	case "png":
		err := png.Encode(&buf, src)
		return buf.Bytes(), err
	case "bmp":
		return appendBMP(nil, src), nil
	}
	return JPEG(src, quality)
}

// lift raises the contrast and saturation of a photo for a palette's
// still: e-paper's inks span a fraction of a screen's gamut, and a photo
// dithered as it is looks flat and washed out. Contrast is stretched by
// 15% about mid-grey in sRGB, and colours are pushed 30% away from their
// luma in linear light, as the photo-frame projects for these panels do.
func lift(m *image.RGBA) *image.RGBA {
	out := image.NewRGBA(m.Rect)
	lin := linearTable()
	var curve [256]uint8
	for v := range curve {
		curve[v] = uint8(math.Round(math.Max(0, math.Min(255, 127.5+(float64(v)-127.5)*1.15))))
	}
	for i := 0; i+3 < len(m.Pix); i += 4 {
		r, g, b := lin[m.Pix[i]], lin[m.Pix[i+1]], lin[m.Pix[i+2]]
		y := 0.2126*r + 0.7152*g + 0.0722*b
		for k, c := range [3]float32{r, g, b} {
			c = y + (c-y)*1.3
			out.Pix[i+k] = curve[encodeSRGB(c)]
		}
		out.Pix[i+3] = 255
	}
	return out
}

// linearTable maps an sRGB byte to linear light.
var linearTable = sync.OnceValue(func() *[256]float32 {
	var t [256]float32
	for v := range t {
		c := float64(v) / 255
		if c <= 0.04045 {
			t[v] = float32(c / 12.92)
		} else {
			t[v] = float32(math.Pow((c+0.055)/1.055, 2.4))
		}
	}
	return &t
})

// encodeSRGB maps linear light back to an sRGB byte, clamped.
func encodeSRGB(c float32) uint8 {
	v := float64(max(0, min(1, c)))
	if v <= 0.0031308 {
		v *= 12.92
	} else {
		v = 1.055*math.Pow(v, 1/2.4) - 0.055
	}
	return uint8(math.Round(v * 255))
}
