package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"slidestream/internal/heif"
)

// HEIC and AVIF decode as libheif decodes them (the references are its
// decodes through libvips, or ffmpeg's where libheif gets it wrong;
// testdata/make.sh), colour profiles applied as Little CMS applies them.
func TestHEIFMatchesReferences(t *testing.T) {
	for _, c := range []struct {
		file    string
		format  Format
		w, h    int
		profile string
		limit   float64 // mean difference, levels of 255
	}{
		{"heic-photo.heic", HEIC, 160, 120, "", 1.5},
		{"avif-photo.avif", AVIF, 160, 120, "", 1},
		// A grid of four tiles, cropped and turned a quarter (irot).
		{"heic-grid.heic", HEIC, 128, 96, "", 1},
		// Limited range, BT.709 matrix, said only by the nclx box.
		{"heic-709-limited.heic", HEIC, 128, 128, "", 1.5},
		{"heic-adobergb.heic", HEIC, 128, 96, "Compatible with Adobe RGB (1998)", 1.5},
		{"avif-swapped.avif", AVIF, 64, 48, "Swapped Red and Green", 1.5},
	} {
		m, img := converted(t, c.file)
		if img.Format != c.format || m.Rect.Dx() != c.w || m.Rect.Dy() != c.h {
			t.Errorf("%s: %s %v; want %s %dx%d", c.file, img.Format, m.Rect.Size(), c.format, c.w, c.h)
			continue
		}
		if name := ""; img.Profile != nil || c.profile != "" {
			if img.Profile != nil {
				name = img.Profile.Name
			}
			if name != c.profile {
				t.Errorf("%s: profile %q; want %q", c.file, name, c.profile)
			}
		}
		// libheif 1.15, the reference, upsamples the outermost chroma
		// samples unlike the interior's: differences of up to 40 levels
		// line the edges (measured). The two outermost rows and columns
		// are left out.
		border := 0
		if c.format == HEIC {
			border = 2
		}
		mean, worst := compareRef(t, m, c.file, 1, border)
		t.Logf("%s: mean difference %.2f levels, worst %.0f", c.file, mean, worst)
		if mean > c.limit {
			t.Errorf("%s: mean difference %.2f levels from the reference; want at most %.1f", c.file, mean, c.limit)
		}
	}
}

// A profile that swaps red and green swaps them.
func TestHEIFSwappedProfileSwaps(t *testing.T) {
	m, img := converted(t, "avif-swapped.avif")
	raw := img.Pixels.(*image.RGBA)
	var moved int
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			a, b := raw.RGBAAt(x, y), m.RGBAAt(x, y)
			if int(a.R)-int(a.G) > 40 || int(a.G)-int(a.R) > 40 {
				if !near(color.RGBA{a.G, a.R, a.B, 255}, b, 6) {
					t.Fatalf("at %d,%d the coded %v shows as %v; want red and green swapped", x, y, a, b)
				}
				moved++
			}
		}
	}
	if moved < 100 {
		t.Fatalf("only %d pixels where red and green differ: the fixture tells nothing", moved)
	}
}

// Display P3 given as nclx code points converts as the published P3 to
// sRGB matrix says.
func TestHEIFNclxDisplayP3(t *testing.T) {
	m, img := converted(t, "avif-p3.avif")
	if img.Profile == nil || img.Profile.Name != "Display P3 (nclx)" {
		t.Fatalf("profile %+v; want Display P3 (nclx)", img.Profile)
	}
	raw := img.Pixels.(*image.RGBA)
	toSRGB := [3][3]float64{{1.2249, -0.2247, 0}, {-0.0420, 1.0419, 0}, {-0.0197, -0.0786, 1.0979}}
	var sum float64
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			c := raw.RGBAAt(x, y)
			lin := [3]float64{srgbToLinear(float64(c.R) / 255), srgbToLinear(float64(c.G) / 255), srgbToLinear(float64(c.B) / 255)}
			got := m.RGBAAt(x, y)
			for i, v := range times(toSRGB, lin) {
				want := math.Round(linearToSRGB(min(max(v, 0), 1)) * 255)
				sum += math.Abs(want - float64([]uint8{got.R, got.G, got.B}[i]))
			}
		}
	}
	if mean := sum / float64(3*m.Rect.Dx()*m.Rect.Dy()); mean > 0.6 {
		t.Errorf("mean difference %.2f levels from the published matrix; want at most 0.6", mean)
	}
}

// AVIF's rotations and mirrors (irot, imir) become the orientation the
// picture is turned by once small; HEIC comes turned by libheif, and the
// EXIF orientation either carries is never applied on top.
func TestHEIFOrientation(t *testing.T) {
	for o := Orientation(1); o <= 8; o++ {
		name := "avif-orient-" + string(rune('0'+o)) + ".avif"
		img, err := read(fixture(name), Limits{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if img.Orientation != o {
			t.Errorf("%s: orientation %d; want %d", name, img.Orientation, o)
		}
	}
	f, err := Open(fixture("heic-grid.heic"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if o := f.Orientation(); o != Upright {
		t.Errorf("heic-grid.heic (irot 3, EXIF orientation 8): orientation %d; want 1, libheif turns it", o)
	}
	img, err := f.Decode(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{{8, 8, color.RGBA{255, 0, 0, 255}}, {120, 8, color.RGBA{0, 255, 0, 255}}, {8, 88, color.RGBA{0, 0, 255, 255}}, {120, 88, color.RGBA{255, 255, 0, 255}}} {
		r, g, b, _ := img.Pixels.At(c.x, c.y).RGBA()
		if got := (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}); !near(got, c.want, 8) {
			t.Errorf("heic-grid.heic at %d,%d: %v; want %v", c.x, c.y, got, c.want)
		}
	}
	taken, ok := f.Taken()
	want := time.Date(2023, 7, 14, 18, 30, 5, 0, time.FixedZone("", 2*3600))
	if !ok || !taken.Equal(want) {
		t.Errorf("heic-grid.heic taken %v, %v; want %v from its Exif item", taken, ok, want)
	}
}

// AVIF's alpha is kept (premultiplied), to be flattened like PNG's.
func TestHEIFAlpha(t *testing.T) {
	img, err := read(fixture("avif-alpha.avif"), Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    int
		want color.RGBA
	}{{5, color.RGBA{255, 0, 0, 255}}, {30, color.RGBA{128, 0, 0, 128}}, {50, color.RGBA{}}} {
		r, g, b, a := img.Pixels.At(c.x, 10).RGBA()
		got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
		if !near(got, c.want, 3) || int(got.A)-int(c.want.A) > 3 || int(c.want.A)-int(got.A) > 3 {
			t.Errorf("avif-alpha.avif at x=%d: %v; want %v", c.x, got, c.want)
		}
	}
}

// setISPE rewrites every ispe box of a HEIF file to claim w×h.
func setISPE(b []byte, w, h uint32) []byte {
	out := bytes.Clone(b)
	for i := 0; ; {
		j := bytes.Index(out[i:], []byte("ispe"))
		if j < 0 {
			return out
		}
		i += j
		binary.BigEndian.PutUint32(out[i+8:], w)
		binary.BigEndian.PutUint32(out[i+12:], h)
		i += 4
	}
}

// A HEIF file is refused from its boxes, before the decoder starts: too
// many pixels, or no picture this package can decode. Every refusal is an
// *Error naming the file, and none takes long.
func TestHEIFRefusedFromItsHeader(t *testing.T) {
	grid := readFixture(t, "heic-grid.heic")
	photo := readFixture(t, "avif-photo.avif")
	hvc1 := bytes.Index(grid, []byte("grid\x00"))
	other := bytes.Clone(grid)
	copy(other[hvc1:], "jpeg")
	for _, c := range []struct {
		name string
		data []byte
		kind error
		says string
	}{
		{"huge.heic", setISPE(grid, 100000, 100000), ErrTooManyPixels, "100000x100000 is 10000 megapixels"},
		{"huge.avif", setISPE(photo, 100000, 100000), ErrTooManyPixels, "100000x100000"},
		{"truncated.heic", grid[:300], ErrCorrupt, "HEIC"},
		{"ftyp-only.avif", photo[:32], ErrCorrupt, "AVIF"},
		{"other.heic", other, ErrCorrupt, `"jpeg" item`},
		{"no-size.heic", bytes.ReplaceAll(grid, []byte("ispe"), []byte("xxxx")), ErrCorrupt, "no size (ispe)"},
		{"narrow.heic", setISPE(grid, 64, 48), ErrUnsupported, "narrower than 128 pixels"},
	} {
		start := time.Now()
		_, err := readBytes(c.name, c.data, Limits{}, Options{})
		var de *Error
		if !errors.As(err, &de) || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want a %v saying %q", c.name, err, c.kind, c.says)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v to refuse", c.name, d)
		}
	}
	// The refusal comes from Open, before any decode.
	if _, err := openBytes("huge.heic", setISPE(grid, 100000, 100000), Limits{}); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("OpenBytes of a HEIC claiming 100000x100000: %v; want ErrTooManyPixels", err)
	}
}

// The brands decide, not the name: a HEIC named .jpg is a HEIC, an AVIF
// whose brands are only the generic ones is decoded by its item type.
func TestHEIFByContent(t *testing.T) {
	heic := readFixture(t, "heic-photo.heic")
	if img, err := readBytes("photo.jpg", heic, Limits{}, Options{}); err != nil || img.Format != HEIC {
		t.Errorf("a HEIC named .jpg: %v", err)
	}
	avif := bytes.Clone(readFixture(t, "avif-photo.avif"))
	n := int(binary.BigEndian.Uint32(avif))
	for i := 8; i+4 <= n; i += 4 {
		if string(avif[i:i+4]) == "avif" {
			copy(avif[i:], "mif1")
		}
	}
	img, err := readBytes("generic", avif, Limits{}, Options{})
	if err != nil || img.Pixels.Bounds().Dx() != 160 {
		t.Errorf("an AVIF with only generic brands: %v", err)
	}
}

func FuzzHEIF(f *testing.F) {
	for _, name := range []string{"heic-grid.heic", "heic-photo.heic", "avif-orient-7.avif", "avif-swapped.avif", "heic-709-limited.heic"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := heif.Parse(b, true)
		if err == nil {
			if m.Width < 0 || m.Height < 0 {
				t.Fatalf("size %dx%d", m.Width, m.Height)
			}
			x0, y0, w, h := m.CropRect()
			if x0 < 0 || y0 < 0 || x0+w > m.Width || y0+h > m.Height {
				t.Fatalf("crop %d,%d %dx%d outside %dx%d", x0, y0, w, h, m.Width, m.Height)
			}
			if o := m.Orientation(); o < 1 || o > 8 {
				t.Fatalf("orientation %d", o)
			}
		}
		heifHeader("fuzz", b)
		heifExif(b)
		heifProfile(b)
		heifExifAt(bytes.NewReader(b), int64(len(b)))
	})
}

// HEIC's alpha plane, a picture of its own, is joined to the colour.
func TestHEICAlpha(t *testing.T) {
	img, err := read(fixture("heic-alpha.heic"), Limits{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.Pixels.(*image.NYCbCrA); !ok {
		t.Fatalf("heic-alpha.heic decodes to %T; want *image.NYCbCrA", img.Pixels)
	}
	for _, c := range []struct {
		x    int
		want color.NRGBA
	}{{10, color.NRGBA{255, 0, 0, 255}}, {60, color.NRGBA{255, 0, 0, 128}}, {100, color.NRGBA{A: 0}}} {
		got := color.NRGBAModel.Convert(img.Pixels.At(c.x, 20)).(color.NRGBA)
		d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
		if d(got.A, c.want.A) > 4 || (c.want.A > 0 && (d(got.R, c.want.R) > 8 || d(got.G, c.want.G) > 8 || d(got.B, c.want.B) > 8)) {
			t.Errorf("heic-alpha.heic at x=%d: %v; want %v", c.x, got, c.want)
		}
	}
}

// HEIC and AVIF are decoded in a child process, kept for the next file:
// the pictures are those a decode in this process makes, a file the
// decoder refuses costs no child, and a child that dies is replaced.
func TestHEIFDecodedInAChild(t *testing.T) {
	kids := NewChildren()
	defer kids.Close()
	started := func() int {
		return kids.Started()
	}
	before := started()
	for _, name := range []string{"heic-photo.heic", "avif-photo.avif", "heic-alpha.heic", "heic-709-limited.heic"} {
		data := readFixture(t, name)
		img, err := readBytes(name, data, Limits{}, Options{Children: kids})
		if err != nil {
			t.Fatal(err)
		}
		here, err := decodeHEIFHere(data)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%T", img.Pixels) != fmt.Sprintf("%T", here) {
			t.Fatalf("%s: the child sent a %T; decoded here it is a %T", name, img.Pixels, here)
		}
		samePixels(t, img.Pixels, here)
	}
	kids.mu.Lock()
	idle := len(kids.free)
	kids.mu.Unlock()
	if n := started() - before; n > 1 || idle < 1 {
		t.Errorf("%d children started for four files decoded one after another, %d idle after; want at most 1, and 1 idle", n, idle)
	}
	// A file whose boxes are sound but whose coded picture ends early.
	photo := readFixture(t, "heic-photo.heic")
	bad := photo[:len(photo)-100]
	n := started()
	if _, err := readBytes("bad.heic", bad, Limits{}, Options{Children: kids}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a HEIC with damaged coded data: %v; want ErrCorrupt", err)
	}
	if _, err := readBytes("ok.heic", readFixture(t, "heic-photo.heic"), Limits{}, Options{Children: kids}); err != nil {
		t.Fatal(err)
	}
	if started() != n {
		t.Errorf("a file the decoder refused cost its child")
	}
	// Kill the idle child: the next decode starts another.
	kids.mu.Lock()
	for _, c := range kids.free {
		c.cmd.Process.Kill()
	}
	kids.mu.Unlock()
	if _, err := readBytes("again.heic", readFixture(t, "heic-photo.heic"), Limits{}, Options{Children: kids}); err != nil {
		t.Errorf("after its child was killed: %v", err)
	}
}

// A child killed while it decodes (kill -9, or the kernel short of
// memory) is the moment's fault, not the photo's: the error says it was
// killed, as ErrKilled, never ErrCorrupt.
func TestHEIFChildKilledIsNotCorrupt(t *testing.T) {
	c, err := startHEIFChild()
	if err != nil {
		t.Skip("no child process here:", err)
	}
	defer c.kill()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Process.Wait()
	photo := readFixture(t, "heic-photo.heic")
	_, err = c.decode(photo, 64, 64)
	err = corrupt("photo.heic", HEIC, err)
	if !errors.Is(err, ErrKilled) || errors.Is(err, ErrCorrupt) || Kind(err) != "killed" {
		t.Fatalf("decode in a killed child: %v (kind %s); want ErrKilled", err, Kind(err))
	}
	if !strings.Contains(err.Error(), "killed") {
		t.Errorf("reason %q does not say the decoder was killed", err)
	}
}
