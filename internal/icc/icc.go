package icc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"sync"
	"unicode/utf16"
)

// Colour profiles (ICC.1, versions 2 and 4). A photo shot or exported in a
// wide gamut (Display P3 from phones, Adobe RGB and ProPhoto from editors)
// stores numbers that mean other colours than the same numbers in sRGB;
// shown as if they were sRGB, such a photo looks dull or shifted. The
// profiles that describe RGB with three primaries and a tone curve each
// (matrix/TRC, what cameras, phones and editors write) and gray with a tone
// curve are applied here exactly; others (lookup tables, device links) are
// reported and the photo is shown as it is.

// MaxProfile bounds the colour profile read from a file.
const MaxProfile = 4 << 20

// Profile is a colour profile this package can convert from to sRGB.
type Profile struct {
	// Name is the profile's description, such as "Display P3".
	Name string
	gray bool
	trc  [3]curve      // red, green, blue; gray uses trc[0]
	rgb  [3][3]float64 // rows X, Y, Z; columns the red, green and blue colorants (D50)

	once sync.Once
	t    *colourTransform // nil when the profile is sRGB in all but name
}

// ProfileError says why a file's colour profile is not applied: Reason is
// shown on the status page. The photo is shown as it is.
type ProfileError struct {
	Name   string // the profile's description, when it could be read
	Reason string
}

func (e *ProfileError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("colour profile %q not applied: %s", e.Name, e.Reason)
	}
	return "colour profile not applied: " + e.Reason
}

// Parse reads a colour profile. A profile it cannot apply is a
// *ProfileError.
func Parse(b []byte) (*Profile, error) {
	bad := func(format string, a ...any) error {
		return &ProfileError{Reason: fmt.Sprintf(format, a...)}
	}
	if len(b) < 132 || len(b) > MaxProfile {
		return nil, bad("%d bytes is no profile", len(b))
	}
	if string(b[36:40]) != "acsp" {
		return nil, bad("no ICC signature")
	}
	if n := binary.BigEndian.Uint32(b); int64(n) < int64(len(b)) {
		b = b[:max(n, 132)] // what follows the declared size is not the profile's
	}
	class, space, pcs := string(b[12:16]), string(b[16:20]), string(b[20:24])
	tags := make(map[string][]byte)
	count := binary.BigEndian.Uint32(b[128:])
	if count > 200 || 132+int(count)*12 > len(b) {
		return nil, bad("a tag table of %d tags does not fit", count)
	}
	for i := range int(count) {
		e := b[132+12*i:]
		off, size := binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:])
		if uint64(off)+uint64(size) > uint64(len(b)) || size < 8 {
			return nil, bad("tag %q lies outside the profile", e[:4])
		}
		tags[string(e[:4])] = b[off : off+size]
	}
	p := &Profile{Name: profileName(tags["desc"])}
	unsupported := func(format string, a ...any) (*Profile, error) {
		return nil, &ProfileError{Name: p.Name, Reason: fmt.Sprintf(format, a...)}
	}
	switch {
	case class == "link" || class == "abst" || class == "nmcl":
		return unsupported("a %q profile, not one of a picture's colours", strings.TrimSpace(class))
	case pcs != "XYZ " && pcs != "Lab ":
		return unsupported("connection space %q", pcs)
	}
	var err error
	switch space {
	case "RGB ":
		for i, c := range []string{"rXYZ", "gXYZ", "bXYZ"} {
			xyz, err := parseXYZ(tags[c])
			if err != nil {
				if _, lut := tags["A2B0"]; lut {
					return unsupported("its colours are in lookup tables (A2B0), which are not applied")
				}
				return unsupported("%s: %v", c, err)
			}
			for row := range 3 {
				p.rgb[row][i] = xyz[row]
			}
		}
		for i, c := range []string{"rTRC", "gTRC", "bTRC"} {
			if p.trc[i], err = parseCurve(tags[c]); err != nil {
				return unsupported("%s: %v", c, err)
			}
		}
	case "GRAY":
		p.gray = true
		if p.trc[0], err = parseCurve(tags["kTRC"]); err != nil {
			return unsupported("kTRC: %v", err)
		}
	default:
		return unsupported("colour space %q is not RGB or gray", strings.TrimSpace(space))
	}
	return p, nil
}

// profileName reads a 'desc' tag: textDescriptionType (version 2) or
// multiLocalizedUnicodeType (version 4, the first record).
func profileName(t []byte) string {
	clean := func(s string) string {
		s = strings.TrimRight(s, "\x00 ")
		if len(s) > 80 {
			s = s[:80]
		}
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == 0xfffd {
				return -1
			}
			return r
		}, s)
	}
	switch {
	case len(t) >= 12 && string(t[:4]) == "desc":
		n := binary.BigEndian.Uint32(t[8:])
		if uint64(n) <= uint64(len(t)-12) {
			return clean(string(t[12 : 12+n]))
		}
	case len(t) >= 28 && string(t[:4]) == "mluc":
		n, size := binary.BigEndian.Uint32(t[8:]), binary.BigEndian.Uint32(t[12:])
		if n == 0 || size < 12 {
			return ""
		}
		length, off := binary.BigEndian.Uint32(t[20:]), binary.BigEndian.Uint32(t[24:])
		if uint64(off)+uint64(length) > uint64(len(t)) || length > 1024 {
			return ""
		}
		s := t[off : off+length]
		u := make([]uint16, len(s)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(s[2*i:])
		}
		return clean(string(utf16.Decode(u)))
	}
	return ""
}

// s15 reads an s15Fixed16Number.
func s15(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

func parseXYZ(t []byte) ([3]float64, error) {
	if len(t) < 20 || string(t[:4]) != "XYZ " {
		return [3]float64{}, errors.New("missing or not an XYZ value")
	}
	return [3]float64{s15(t[8:]), s15(t[12:]), s15(t[16:])}, nil
}

// curve is a tone curve: from a channel's value (0 to 1) to linear light.
type curve struct {
	table []float64  // sampled, evenly spaced; nil for a function
	kind  int        // parametric function type 0 to 4
	g     [7]float64 // its parameters g, a, b, c, d, e, f
}

func parseCurve(t []byte) (curve, error) {
	switch {
	case len(t) >= 12 && string(t[:4]) == "curv":
		n := binary.BigEndian.Uint32(t[8:])
		if uint64(n)*2 > uint64(len(t)-12) || n > 1<<16 {
			return curve{}, errors.New("a curve longer than its tag")
		}
		switch n {
		case 0:
			return curve{g: [7]float64{1, 1}}, nil // identity
		case 1:
			return curve{g: [7]float64{float64(binary.BigEndian.Uint16(t[12:])) / 256, 1}}, nil
		}
		c := curve{table: make([]float64, n)}
		for i := range c.table {
			c.table[i] = float64(binary.BigEndian.Uint16(t[12+2*i:])) / 65535
		}
		return c, nil
	case len(t) >= 12 && string(t[:4]) == "para":
		kind := int(binary.BigEndian.Uint16(t[8:]))
		if kind > 4 {
			return curve{}, fmt.Errorf("parametric curve type %d", kind)
		}
		n := [5]int{1, 3, 4, 5, 7}[kind]
		if len(t) < 12+4*n {
			return curve{}, errors.New("a curve longer than its tag")
		}
		c := curve{kind: kind, g: [7]float64{1, 1}}
		for i := range n {
			c.g[i] = s15(t[12+4*i:])
		}
		return c, nil
	}
	return curve{}, errors.New("missing or not a curve")
}

// at evaluates the curve at x in [0, 1].
func (c curve) at(x float64) float64 {
	if c.table != nil {
		f := x * float64(len(c.table)-1)
		i := min(int(f), len(c.table)-2)
		return c.table[i] + (c.table[i+1]-c.table[i])*(f-float64(i))
	}
	g, a, b, cc, d, e, f := c.g[0], c.g[1], c.g[2], c.g[3], c.g[4], c.g[5], c.g[6]
	pow := func(v float64) float64 {
		if v <= 0 {
			return 0
		}
		return math.Pow(v, g)
	}
	var y float64
	switch c.kind {
	case 0:
		y = pow(x)
	case 1:
		if a != 0 && x >= -b/a {
			y = pow(a*x + b)
		}
	case 2:
		y = cc
		if a != 0 && x >= -b/a {
			y = pow(a*x+b) + cc
		}
	case 3:
		if x >= d {
			y = pow(a*x + b)
		} else {
			y = cc * x
		}
	case 4:
		if x >= d {
			y = pow(a*x+b) + e
		} else {
			y = cc*x + f
		}
	}
	if math.IsNaN(y) {
		return 0
	}
	return min(max(y, 0), 1)
}

// srgbToXYZ50 is sRGB's own matrix: linear sRGB to XYZ under the D50
// illuminant that profiles connect in, made from sRGB's primaries and
// white (IEC 61966-2-1).
var srgbToXYZ50 = primariesToXYZ50([4][2]float64{{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}, {0.3127, 0.3290}})

// primariesToXYZ50 makes the matrix from linear RGB to D50 XYZ for the
// chromaticities (x, y) of red, green, blue and white, adapted from the
// white to D50 with the Bradford transform, as ICC profiles are.
func primariesToXYZ50(c [4][2]float64) [3][3]float64 {
	xyz := func(p [2]float64) [3]float64 { return [3]float64{p[0] / p[1], 1, (1 - p[0] - p[1]) / p[1]} }
	r, g, b, w := xyz(c[0]), xyz(c[1]), xyz(c[2]), xyz(c[3])
	prim := [3][3]float64{{r[0], g[0], b[0]}, {r[1], g[1], b[1]}, {r[2], g[2], b[2]}}
	s := mulVec(invert(prim), w) // each primary's share of white
	var m [3][3]float64
	for row := range 3 {
		for col := range 3 {
			m[row][col] = prim[row][col] * s[col]
		}
	}
	bradford := [3][3]float64{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	d50 := [3]float64{0.9642, 1, 0.8249}
	cw, cd := mulVec(bradford, w), mulVec(bradford, d50)
	scale := [3][3]float64{{cd[0] / cw[0]}, {0, cd[1] / cw[1]}, {0, 0, cd[2] / cw[2]}}
	adapt := mul(invert(bradford), mul(scale, bradford))
	return mul(adapt, m)
}

func mul(a, b [3][3]float64) (c [3][3]float64) {
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}

func mulVec(a [3][3]float64, v [3]float64) (out [3]float64) {
	for i := range 3 {
		out[i] = a[i][0]*v[0] + a[i][1]*v[1] + a[i][2]*v[2]
	}
	return out
}

// invert inverts a 3×3 matrix; a singular one gives zeros.
func invert(m [3][3]float64) (out [3][3]float64) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-12 {
		return out
	}
	for i := range 3 {
		for j := range 3 {
			a, b := (j+1)%3, (j+2)%3
			c, d := (i+1)%3, (i+2)%3
			out[i][j] = (m[a][c]*m[b][d] - m[a][d]*m[b][c]) / det
		}
	}
	return out
}

// srgbEncode is sRGB's tone curve, from linear light to the stored value.
func srgbEncode(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

// srgbDecode is its inverse.
func srgbDecode(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// colourTransform converts 8-bit pixels from a profile to sRGB: each
// channel through its curve to 16-bit linear light, the three through one
// fixed-point matrix, and back through sRGB's curve from a 14-bit table.
type colourTransform struct {
	lin  [3][256]int32
	m    [3][3]int32 // Q14
	gray bool
	enc  *[1 << 14]uint8 // srgbTable, shared
}

// srgbTable encodes 14-bit linear light with sRGB's curve, the same for
// every profile.
var srgbTable = sync.OnceValue(func() *[1 << 14]uint8 {
	var t [1 << 14]uint8
	for i := range t {
		t[i] = uint8(math.Round(srgbEncode(float64(i)/float64(len(t)-1)) * 255))
	}
	return &t
})

// sRGB reports whether the profile is sRGB in all but name (or close
// enough that converting would change no pixel by more than rounding).
func (p *Profile) sRGB() bool {
	for i := range 3 {
		if p.gray && i > 0 {
			break
		}
		for v := 0; v < 256; v += 5 {
			x := float64(v) / 255
			if math.Abs(p.trc[i].at(x)-srgbDecode(x)) > 0.002 {
				return false
			}
		}
	}
	if p.gray {
		return true
	}
	for row := range 3 {
		for col := range 3 {
			if math.Abs(p.rgb[row][col]-srgbToXYZ50[row][col]) > 0.002 {
				return false
			}
		}
	}
	return true
}

func (p *Profile) transform() *colourTransform {
	p.once.Do(func() {
		if p.sRGB() {
			return
		}
		t := &colourTransform{gray: p.gray}
		for c := range 3 {
			for v := range 256 {
				t.lin[c][v] = int32(math.Round(p.trc[c].at(float64(v)/255) * 65535))
			}
		}
		m := mul(invert(srgbToXYZ50), p.rgb)
		for row := range 3 {
			for col := range 3 {
				t.m[row][col] = int32(math.Round(m[row][col] * (1 << 14)))
			}
		}
		t.enc = srgbTable()
		p.t = t
	})
	return p.t
}

// ToSRGB converts an opaque picture's pixels, in place, from the profile
// to sRGB.
func (p *Profile) ToSRGB(m *image.RGBA) {
	if p == nil {
		return
	}
	t := p.transform()
	if t == nil {
		return
	}
	enc, lr, lg, lb, k := t.enc, &t.lin[0], &t.lin[1], &t.lin[2], t.m
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, y) : m.PixOffset(b.Min.X, y)+4*b.Dx()]
		for i := 0; i+3 < len(row); i += 4 {
			if t.gray {
				v := enc[lr[row[i]]>>2]
				row[i], row[i+1], row[i+2] = v, v, v
				continue
			}
			r, g, bl := lr[row[i]], lg[row[i+1]], lb[row[i+2]]
			row[i] = enc[clampLin((k[0][0]*r+k[0][1]*g+k[0][2]*bl+1<<13)>>14)>>2]
			row[i+1] = enc[clampLin((k[1][0]*r+k[1][1]*g+k[1][2]*bl+1<<13)>>14)>>2]
			row[i+2] = enc[clampLin((k[2][0]*r+k[2][1]*g+k[2][2]*bl+1<<13)>>14)>>2]
		}
	}
}

func clampLin(v int32) int32 { return min(max(v, 0), 65535) }
