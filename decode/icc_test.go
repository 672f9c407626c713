package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// converted decodes a fixture at full size and converts it to sRGB with its
// profile, as Scale does with the small picture.
func converted(t *testing.T, name string) (*image.RGBA, *Image) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return toSRGB(t, name, b)
}

// toSRGB decodes a file held in memory and converts it with its profile.
func toSRGB(t *testing.T, name string, b []byte) (*image.RGBA, *Image) {
	t.Helper()
	f, err := openBytes(name, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.Decode(Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := image.NewRGBA(img.Pixels.Bounds())
	draw.Draw(m, m.Rect, img.Pixels, m.Rect.Min, draw.Src)
	img.Profile.ToSRGB(m)
	return m, img
}

// Every format's profile is found and applied as Little CMS applies it (the
// references are its conversions, through libvips; testdata/make.sh).
func TestProfilesMatchLittleCMS(t *testing.T) {
	for _, c := range []struct{ file, profile string }{
		{"icc-adobergb.jpg", "Compatible with Adobe RGB (1998)"}, // JPEG APP2
		{"icc-swapped.jpg", "Swapped Red and Green"},
		{"icc-prophoto.png", "ProPhoto RGB"},     // PNG iCCP
		{"icc-widegamut.webp", "Wide Gamut RGB"}, // WebP ICCP
	} {
		m, img := converted(t, c.file)
		if img.Profile == nil || img.Profile.Name != c.profile {
			t.Errorf("%s: profile %+v; want %q", c.file, img.Profile, c.profile)
			continue
		}
		mean, worst := againstRef(t, m, c.file)
		t.Logf("%s: mean difference %.2f levels, worst %.0f", c.file, mean, worst)
		// The JPEG and WebP decoders alone differ by about 0.3 on average.
		if mean > 1 || worst > 16 {
			t.Errorf("%s: mean difference %.2f levels, worst %.0f, from Little CMS's; want at most 1 and 16", c.file, mean, worst)
		}
	}
}

// againstRef compares a decoded picture with the reference decode of the
// fixture (testdata/ref/NAME.png): the mean and the worst difference, in
// levels of 255, over every channel of every pixel.
func againstRef(t *testing.T, m *image.RGBA, file string) (mean, worst float64) {
	t.Helper()
	return compareRef(t, m, file, 1, 0)
}

// compareRef is againstRef on both pictures shrunk k times by averaging
// k×k blocks, as a frame is made from them, leaving out a border of that
// many blocks.
func compareRef(t *testing.T, m *image.RGBA, file string, k, border int) (mean, worst float64) {
	t.Helper()
	rf, err := os.Open(filepath.Join("..", "testdata", "ref", strings.TrimSuffix(file, filepath.Ext(file))+".png"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := png.Decode(rf)
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ref.Bounds().Size() != m.Rect.Size() {
		t.Fatalf("%s: decoded %v, the reference is %v", file, m.Rect.Size(), ref.Bounds().Size())
	}
	w, h := m.Rect.Dx()/k, m.Rect.Dy()/k
	block := func(c func(x, y int) [3]float64, x0, y0 int) (v [3]float64) {
		for y := y0 * k; y < (y0+1)*k; y++ {
			for x := x0 * k; x < (x0+1)*k; x++ {
				p := c(x, y)
				for i := range v {
					v[i] += p[i] / float64(k*k)
				}
			}
		}
		return v
	}
	refAt := func(x, y int) [3]float64 {
		r, g, b, _ := ref.At(x, y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(b >> 8)}
	}
	gotAt := func(x, y int) [3]float64 {
		c := m.RGBAAt(x, y)
		return [3]float64{float64(c.R), float64(c.G), float64(c.B)}
	}
	var sum float64
	for y := border; y < h-border; y++ {
		for x := border; x < w-border; x++ {
			want, got := block(refAt, x, y), block(gotAt, x, y)
			for i := range want {
				d := math.Abs(want[i] - got[i])
				sum += d
				worst = max(worst, d)
			}
		}
	}
	return sum / float64(3*(w-2*border)*(h-2*border)), worst
}

// iccWriter builds profiles for tests.
type iccWriter struct {
	space string // "RGB " or "GRAY"
	tags  []struct {
		sig  string
		data []byte
	}
}

func (w *iccWriter) tag(sig string, data []byte) *iccWriter {
	w.tags = append(w.tags, struct {
		sig  string
		data []byte
	}{sig, data})
	return w
}

func (w *iccWriter) bytes() []byte {
	head := make([]byte, 128)
	copy(head[12:], "mntr")
	copy(head[16:], w.space)
	copy(head[20:], "XYZ ")
	copy(head[36:], "acsp")
	table := binary.BigEndian.AppendUint32(nil, uint32(len(w.tags)))
	off := 128 + 4 + 12*len(w.tags)
	var body []byte
	for _, t := range w.tags {
		table = append(table, t.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	out := append(append(head, table...), body...)
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	return out
}

func fixed(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}

func xyzTag(v [3]float64) []byte {
	b := []byte("XYZ \x00\x00\x00\x00")
	for _, c := range v {
		b = append(b, fixed(c)...)
	}
	return b
}

// paraTag is a parametric curve of function type 3 (sRGB's shape).
func paraTag(g, a, b, c, d float64) []byte {
	out := []byte("para\x00\x00\x00\x00\x00\x03\x00\x00")
	for _, v := range []float64{g, a, b, c, d} {
		out = append(out, fixed(v)...)
	}
	return out
}

func gammaTag(g float64) []byte {
	return append([]byte("curv\x00\x00\x00\x00\x00\x00\x00\x01"), byte(int(g*256)>>8), byte(int(g*256)))
}

func descTag(s string) []byte {
	b := []byte("desc\x00\x00\x00\x00")
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)+1))
	return append(append(b, s...), 0)
}

// displayP3 is Display P3 as phones write it: P3 primaries, D65 white, the
// sRGB tone curve, the colorants adapted to D50 with Bradford.
func displayP3() []byte {
	xyz := func(x, y float64) [3]float64 { return [3]float64{x / y, 1, (1 - x - y) / y} }
	r, g, b, w := xyz(0.680, 0.320), xyz(0.265, 0.690), xyz(0.150, 0.060), xyz(0.3127, 0.3290)
	prim := [3][3]float64{{r[0], g[0], b[0]}, {r[1], g[1], b[1]}, {r[2], g[2], b[2]}}
	s := times(invert(prim), w)
	brad := [3][3]float64{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	cw, cd := times(brad, w), times(brad, [3]float64{0.9642, 1, 0.8249})
	adapt := mul(invert(brad), mul([3][3]float64{{cd[0] / cw[0]}, {0, cd[1] / cw[1]}, {0, 0, cd[2] / cw[2]}}, brad))
	var m [3][3]float64
	for row := range 3 {
		for col := range 3 {
			m[row][col] = prim[row][col] * s[col]
		}
	}
	m = mul(adapt, m)
	col := func(i int) [3]float64 { return [3]float64{m[0][i], m[1][i], m[2][i]} }
	trc := paraTag(2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045)
	return (&iccWriter{space: "RGB "}).tag("desc", descTag("Display P3")).
		tag("rXYZ", xyzTag(col(0))).tag("gXYZ", xyzTag(col(1))).tag("bXYZ", xyzTag(col(2))).
		tag("rTRC", trc).tag("gTRC", trc).tag("bTRC", trc).bytes()
}

// withICC returns a JPEG of one colour carrying profile in APP2 segments of
// at most chunk bytes, in the order given by seqs (1-based; nil: in order).
func withICC(t *testing.T, c color.RGBA, profile []byte, chunk int, seqs []int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(m, m.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	var buf bytes.Buffer
	jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100})
	var pieces [][]byte
	for len(profile) > 0 {
		n := min(chunk, len(profile))
		pieces = append(pieces, profile[:n])
		profile = profile[n:]
	}
	if seqs == nil {
		for i := range pieces {
			seqs = append(seqs, i+1)
		}
	}
	out := []byte{0xff, 0xd8}
	for _, s := range seqs {
		p := append([]byte("ICC_PROFILE\x00"), byte(s), byte(len(pieces)))
		p = append(p, pieces[s-1]...)
		out = append(out, 0xff, 0xe2, byte((len(p)+2)>>8), byte(len(p)+2))
		out = append(out, p...)
	}
	return append(out, buf.Bytes()[2:]...)
}

func centre(t *testing.T, b []byte) color.RGBA {
	t.Helper()
	m, _ := toSRGB(t, "x.jpg", b)
	return m.RGBAAt(8, 8)
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// A Display P3 photo's colours come out as a colour-managed viewer shows
// them: checked against the published P3-to-sRGB matrix (D65), computed
// here without the profile.
func TestDisplayP3ToSRGB(t *testing.T) {
	p3 := displayP3()
	prof, err := ParseICC(p3)
	if err != nil || prof.Name != "Display P3" {
		t.Fatalf("ParseICC(Display P3) = %+v, %v", prof, err)
	}
	toSRGB := [3][3]float64{{1.2249, -0.2247, 0}, {-0.0420, 1.0419, 0}, {-0.0197, -0.0786, 1.0979}}
	for _, c := range []color.RGBA{{200, 120, 60, 255}, {90, 160, 200, 255}, {128, 128, 128, 255}, {240, 200, 190, 255}} {
		lin := [3]float64{srgbToLinear(float64(c.R) / 255), srgbToLinear(float64(c.G) / 255), srgbToLinear(float64(c.B) / 255)}
		out := times(toSRGB, lin)
		var ch [3]uint8
		for i, v := range out {
			ch[i] = uint8(math.Round(linearToSRGB(min(max(v, 0), 1)) * 255))
		}
		want := color.RGBA{ch[0], ch[1], ch[2], 255}
		// Quality 100 JPEG of a flat colour keeps it within a level.
		if got := centre(t, withICC(t, c, p3, 1<<16, nil)); !near(got, want, 3) {
			t.Errorf("Display P3 %v shows as %v; want about %v", c, got, want)
		}
	}
}

// The profile that swaps red and green really is applied, also when it is
// split over several APP2 segments stored out of order; a piece missing
// leaves the picture as it is.
func TestSwappedProfileAcrossSegments(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "icc-swapped.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	swapped := jpegICC(b)
	if swapped == nil {
		t.Fatal("no profile found in icc-swapped.jpg")
	}
	red := color.RGBA{220, 30, 30, 255}
	for _, c := range []struct {
		what  string
		chunk int
		seqs  []int
		want  color.RGBA
	}{
		{"one segment", 1 << 16, nil, color.RGBA{30, 220, 30, 255}},
		{"four segments", len(swapped)/4 + 1, []int{1, 2, 3, 4}, color.RGBA{30, 220, 30, 255}},
		{"four segments out of order", len(swapped)/4 + 1, []int{3, 1, 4, 2}, color.RGBA{30, 220, 30, 255}},
		{"a segment missing", len(swapped)/4 + 1, []int{1, 2, 4}, red},
		{"a segment twice", len(swapped)/4 + 1, []int{1, 2, 2, 4}, red},
	} {
		if got := centre(t, withICC(t, red, swapped, c.chunk, c.seqs)); !near(got, c.want, 4) {
			t.Errorf("%s: red shows as %v; want %v", c.what, got, c.want)
		}
	}
}

// Profiles that cannot be applied say why, and leave the picture alone;
// gray profiles are applied.
func TestProfilesNotApplied(t *testing.T) {
	lut := (&iccWriter{space: "RGB "}).tag("desc", descTag("Camera LUT")).tag("A2B0", []byte("mft2\x00\x00\x00\x00\x03\x03\x02\x00")).bytes()
	_, err := ParseICC(lut)
	var pe *ProfileError
	if !errors.As(err, &pe) || pe.Name != "Camera LUT" || !strings.Contains(pe.Reason, "lookup tables") {
		t.Errorf("a LUT profile: %v; want a ProfileError naming it and saying lookup tables", err)
	}
	cmyk := (&iccWriter{space: "CMYK"}).tag("desc", descTag("Press")).bytes()
	if _, err := ParseICC(cmyk); !errors.As(err, &pe) || !strings.Contains(err.Error(), "CMYK") {
		t.Errorf("a CMYK profile: %v", err)
	}
	for _, junk := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte{0xff}, 200), lut[:140]} {
		if p, err := ParseICC(junk); err == nil {
			t.Errorf("ParseICC(%q...) = %+v; want an error", junk[:min(len(junk), 8)], p)
		}
	}
	// Linear gray: the stored 128 is half the light, sRGB's 188.
	gray := (&iccWriter{space: "GRAY"}).tag("desc", descTag("Linear gray")).tag("kTRC", gammaTag(1)).bytes()
	p, err := ParseICC(gray)
	if err != nil {
		t.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, 1, 1))
	m.Pix[0], m.Pix[1], m.Pix[2], m.Pix[3] = 128, 128, 128, 255
	p.ToSRGB(m)
	if got := m.RGBAAt(0, 0); !near(got, color.RGBA{188, 188, 188, 255}, 1) {
		t.Errorf("linear gray 128 shows as %v; want 188", got)
	}
	// An sRGB profile (the colorants editors embed) changes nothing at all.
	d50 := [3][3]float64{{0.4361, 0.3851, 0.1431}, {0.2225, 0.7169, 0.0606}, {0.0139, 0.0971, 0.7141}}
	srgbTRC := paraTag(2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045)
	srgb := (&iccWriter{space: "RGB "}).tag("rXYZ", xyzTag([3]float64{d50[0][0], d50[1][0], d50[2][0]})).
		tag("gXYZ", xyzTag([3]float64{d50[0][1], d50[1][1], d50[2][1]})).
		tag("bXYZ", xyzTag([3]float64{d50[0][2], d50[1][2], d50[2][2]})).
		tag("rTRC", srgbTRC).tag("gTRC", srgbTRC).tag("bTRC", srgbTRC).bytes()
	p, err = ParseICC(srgb)
	if err != nil {
		t.Fatalf("an sRGB profile: %v", err)
	}
	m = image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 37)
	}
	before := bytes.Clone(m.Pix)
	p.ToSRGB(m)
	if !bytes.Equal(m.Pix, before) {
		t.Errorf("an sRGB profile changed the pixels")
	}
}

// FuzzICC feeds any bytes to the profile parser, as a photo's APP2, iCCP or
// ICCP may: it never panics, and a profile it accepts converts a picture.
func FuzzICC(f *testing.F) {
	f.Add(displayP3())
	for _, name := range []string{"icc-adobergb.jpg", "icc-swapped.jpg"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", name)); err == nil {
			f.Add(jpegICC(b))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseICC(b)
		if err != nil {
			return
		}
		m := image.NewRGBA(image.Rect(0, 0, 4, 4))
		for i := range m.Pix {
			m.Pix[i] = byte(i * 17)
		}
		p.ToSRGB(m)
	})
}

// BenchmarkToSRGB: converting a 1280x720 frame from Display P3, the cost a
// profile adds to a slide's transcode.
func BenchmarkToSRGB(b *testing.B) {
	p, err := ParseICC(displayP3())
	if err != nil {
		b.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	p.ToSRGB(m) // builds the tables once
	b.SetBytes(int64(len(m.Pix)))
	for b.Loop() {
		p.ToSRGB(m)
	}
}

// BenchmarkProfileSetup: reading a profile and making its tables, done
// once per transcode of a photo that carries one.
func BenchmarkProfileSetup(b *testing.B) {
	raw := displayP3()
	m := image.NewRGBA(image.Rect(0, 0, 1, 1))
	for b.Loop() {
		p, err := ParseICC(raw)
		if err != nil {
			b.Fatal(err)
		}
		p.ToSRGB(m)
	}
}
