package jpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// planesDiff compares two pictures of the same kind plane by plane: the
// largest difference of any sample, and the mean.
func planesDiff(t *testing.T, got, want image.Image) (worst int, mean float64) {
	t.Helper()
	var sum, n float64
	eachSample(t, got, want, func(_, _, _ int, a, b byte) {
		d := int(a) - int(b)
		d = max(d, -d)
		worst = max(worst, d)
		sum += float64(d)
		n++
	})
	return worst, sum / n
}

// planesAgree fails unless got and want (same bounds and kind) agree to
// within a level in each plane, but where excuse, given the plane (0 Y or
// grey, 1 Cb, 2 Cr) and the place in it, allows the difference.
func planesAgree(t *testing.T, got, want image.Image, excuse func(plane, x, y int) bool) {
	t.Helper()
	eachSample(t, got, want, func(plane, x, y int, v, u byte) {
		if d := int(v) - int(u); (d > 1 || d < -1) && !excuse(plane, x, y) {
			t.Fatalf("plane %d at %d,%d: %d; image/jpeg has %d", plane, x, y, v, u)
		}
	})
}

// eachSample calls fn with every sample of got's planes (0 Y or grey, 1
// Cb, 2 Cr) and want's at the same place; both must be of the same bounds
// and kind (grey, or YCbCr at the same ratio).
func eachSample(t *testing.T, got, want image.Image, fn func(plane, x, y int, a, b byte)) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v; want %v", got.Bounds(), want.Bounds())
	}
	walk := func(plane int, a, b []byte, stride1, stride2, w, h int) {
		for y := range h {
			for x := range w {
				fn(plane, x, y, a[y*stride1+x], b[y*stride2+x])
			}
		}
	}
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	switch g := got.(type) {
	case *image.Gray:
		wg := want.(*image.Gray)
		walk(0, g.Pix, wg.Pix, g.Stride, wg.Stride, w, h)
	case *image.YCbCr:
		wy := want.(*image.YCbCr)
		if g.SubsampleRatio != wy.SubsampleRatio {
			t.Fatalf("ratio %v; want %v", g.SubsampleRatio, wy.SubsampleRatio)
		}
		walk(0, g.Y, wy.Y, g.YStride, wy.YStride, w, h)
		cw, ch := chromaSize(w, h, g.SubsampleRatio)
		walk(1, g.Cb, wy.Cb, g.CStride, wy.CStride, cw, ch)
		walk(2, g.Cr, wy.Cr, g.CStride, wy.CStride, cw, ch)
	default:
		t.Fatalf("unexpected %T", got)
	}
}

// inRange reports whether a block as the decoder holds it before
// idctFull (dequantised, weighted) has coefficients in the range of 8-bit
// pictures: at most 1,024 each, plus a quantiser's rounding (A.3.3).
func inRange(b *[65]int32) bool {
	for i, v := range b[:64] {
		if math.Abs(float64(v))/(1<<aanBits)*4/(aanWeight(i>>3)*aanWeight(i&7)) > 2048 {
			return false
		}
	}
	return true
}

// outOfSpecSymbols reports whether a Huffman table of the file holds a
// symbol T.81 does not define for 8-bit sequential scans (F.1.2): an AC
// size over 10, a DC one over 11, or a run with no size other than EOB
// (0x00) and ZRL (0xF0). Decoders part ways on them: a sizeless run ends
// the block in libjpeg and here, and starts a progressive EOB run in
// image/jpeg, which then leaves blocks out; a size over 10 makes
// coefficients that each decoder's fixed point wraps its own way.
func outOfSpecSymbols(data []byte) bool {
	// Every FF C4 in the file: both decoders skip bytes between
	// segments, and entropy-coded data cannot hold one. One inside
	// another segment only makes the check wary.
	for at := 0; ; {
		i := bytes.Index(data[at:], []byte{0xff, 0xc4})
		if i < 0 || at+i+4 > len(data) {
			return false
		}
		at += i + 4
		p := data[at:min(len(data), at+max(0, int(binary.BigEndian.Uint16(data[at-2:]))-2))]
		for len(p) >= 17 {
			n := 0
			for _, c := range p[1:17] {
				n += int(c)
			}
			for _, rs := range p[17:min(len(p), 17+n)] {
				if p[0]>>4 == 0 && rs > 11 || p[0]>>4 != 0 && (rs&15 > 10 || rs&15 == 0 && rs != 0 && rs != 0xf0) {
					return true
				}
			}
			p = p[min(len(p), 17+n):]
		}
	}
}

// At full size the decoder agrees with image/jpeg to within a level.
func TestScaledJPEGFullSizeMatchesImageJPEG(t *testing.T) {
	for _, name := range []string{"jpeg-420.jpg", "jpeg-422.jpg", "jpeg-444.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg", "jpeg-large.jpg", "orient-6.jpg", "jpeg-thumbnail.jpg", "icc-adobergb.jpg"} {
		data := readFixture(t, name)
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeScaled(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		worst, mean := planesDiff(t, got, want)
		t.Logf("%s: worst %d, mean %.3f", name, worst, mean)
		if worst > 1 {
			t.Errorf("%s: differs from image/jpeg by up to %d levels; want at most 1", name, worst)
		}
	}
}

// djpegLuma runs libjpeg's djpeg at 1/2^shift, keeping only the luma (or
// grey) plane; the test is skipped where djpeg is not installed.
func djpegLuma(t *testing.T, data []byte, shift int) *image.Gray {
	t.Helper()
	path, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skip("djpeg (libjpeg-turbo-progs) is not installed")
	}
	cmd := exec.Command(path, "-grayscale", "-scale", fmt.Sprintf("1/%d", 1<<shift), "-dct", "int", "-pnm")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	var w, h, maxv int
	n, err := fmt.Sscanf(string(out), "P5\n%d %d\n%d\n", &w, &h, &maxv)
	if err != nil || n != 3 {
		t.Fatalf("djpeg's output: %v", err)
	}
	pix := out[len(out)-w*h:]
	return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

func lumaOf(m image.Image) *image.Gray {
	switch m := m.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	}
	return nil
}

// At each reduced scale the luma is libjpeg's reduced decode, near enough.
func TestScaledJPEGMatchesLibjpeg(t *testing.T) {
	for _, name := range []string{"jpeg-420.jpg", "jpeg-444.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg", "jpeg-large.jpg"} {
		data := readFixture(t, name)
		for shift := 0; shift <= 3; shift++ {
			got, err := DecodeScaled(data, shift)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", name, 1<<shift, err)
			}
			worst, mean := planesDiff(t, lumaOf(got), djpegLuma(t, data, shift))
			t.Logf("%s at 1/%d: worst %d, mean %.3f", name, 1<<shift, worst, mean)
			if worst > 1 {
				t.Errorf("%s at 1/%d: differs from libjpeg by up to %d levels; want at most 1", name, 1<<shift, worst)
			}
		}
	}
}

// benchJPEG is the 12.5-megapixel benchmark photo as a baseline 4:2:0
// JPEG at quality 90, and as a progressive one when djpeg's sibling
// jpegtran is installed.
func benchJPEG(b *testing.B, progressive bool) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, benchPixels(b), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	if !progressive {
		return buf.Bytes()
	}
	path, err := exec.LookPath("jpegtran")
	if err != nil {
		b.Skip("jpegtran (libjpeg-turbo-progs) is not installed")
	}
	cmd := exec.Command(path, "-progressive")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkJPEGDecode: the benchmark photo decoded by image/jpeg and by
// this package's decoder at each scale, baseline and progressive.
func BenchmarkJPEGDecode(b *testing.B) {
	for _, progressive := range []bool{false, true} {
		kind := "baseline"
		if progressive {
			kind = "progressive"
		}
		data := benchJPEG(b, progressive)
		b.Run(kind+"/image-jpeg", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		for shift := range 4 {
			b.Run(fmt.Sprintf("%s/1:%d", kind, 1<<shift), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := DecodeScaled(data, shift); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// At each scale a block's pixels are the averages of its full-size
// pixels (at full size, the pixels themselves), computed in floating point
// from the definition (A.3.3), to within a level: random blocks, DC anywhere and AC smaller
// toward the high frequencies, many of them zero.
func TestFoldedTransformsAverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for shift := 0; shift <= 3; shift++ {
		s := 8 >> shift
		d := &jpegDec{shift: shift}
		for i := range 64 {
			d.quant[0][i] = int32(1 + rng.IntN(24))
		}
		d.dequant(0)
		worst := 0.0
		for range 3000 {
			var coef [64]int32 // natural order, quantised
			coef[0] = int32(rng.IntN(160) - 80)
			for z := 1; z < 64; z++ {
				if f := z>>3 + z&7; rng.IntN(16) > f {
					a := 24 - 3*f/2
					coef[z] = int32(rng.IntN(2*a+1) - a)
				}
			}
			var block [65]int32
			for k, z := range zigzag {
				block[d.slot[k]] += coef[z] * d.wq[0][k]
			}
			c := jcomp{stride: s, pix: make([]byte, s*s)}
			d.idct(&c, 0, 0, &block)
			var full [8][8]float64
			for y := range 8 {
				for x := range 8 {
					for u := range 8 {
						for v := range 8 {
							cu, cv := 1.0, 1.0
							if u == 0 {
								cu = 1 / math.Sqrt2
							}
							if v == 0 {
								cv = 1 / math.Sqrt2
							}
							f := float64(coef[8*u+v] * d.quant[0][8*u+v])
							full[y][x] += cu * cv * f * math.Cos(float64(2*y+1)*float64(u)*math.Pi/16) *
								math.Cos(float64(2*x+1)*float64(v)*math.Pi/16) / 4
						}
					}
				}
			}
			for y := range s {
				for x := range s {
					var sum float64
					for j := range 8 / s {
						for i := range 8 / s {
							sum += full[y*8/s+j][x*8/s+i]
						}
					}
					want := math.Max(0, math.Min(255, sum/float64(64/(s*s))+128))
					diff := math.Abs(float64(c.pix[y*s+x]) - want)
					worst = math.Max(worst, diff)
				}
			}
		}
		t.Logf("1/%d: worst %.2f levels from the exact average", 1<<shift, worst)
		if worst > 1 {
			t.Errorf("1/%d: pixels up to %.2f levels from the averages of the full-size ones", 1<<shift, worst)
		}
	}
}

// cjpeg runs libjpeg's encoder on a PPM with the given flags.
func cjpeg(t *testing.T, ppm []byte, flags ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("cjpeg")
	if err != nil {
		t.Skip("cjpeg (libjpeg-turbo-progs) is not installed")
	}
	cmd := exec.Command(path, flags...)
	cmd.Stdin = bytes.NewReader(ppm)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cjpeg %v: %v", flags, err)
	}
	return out
}

// testPPM is a w×h picture with gradients, edges and noise, as PPM.
func testPPM(w, h int, seed uint32) []byte {
	b := fmt.Appendf(nil, "P6\n%d %d\n255\n", w, h)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			n := int(seed>>24) / 8
			r := (x*255/max(w-1, 1) + n) % 256
			g := (y*255/max(h-1, 1) + 2*n) % 256
			bl := 40
			if (x/7+y/5)%2 == 0 {
				bl = 220
			}
			b = append(b, byte(r), byte(g), byte(bl))
		}
	}
	return b
}

// Over a corpus made by libjpeg's own encoder (every sampling factor
// image.YCbCr holds, progressive scripts with spectral selection and
// successive approximation, restart intervals, odd sizes, grey): at full
// size within a level of image/jpeg, at each reduced scale within a level
// of libjpeg's; and what the decoder does not handle says so, for
// image/jpeg to take.
func TestScaledJPEGCorpus(t *testing.T) {
	sizes := [][2]int{{1, 1}, {17, 9}, {9, 17}, {301, 203}, {65500, 1}} // libjpeg writes at most 65500 a side
	variants := [][]string{
		{"-sample", "1x1"}, {"-sample", "2x1"}, {"-sample", "1x2"}, {"-sample", "2x2"},
		{"-sample", "4x1"}, {"-sample", "4x2"}, {"-sample", "2x2,2x1,2x1"},
		{"-grayscale"}, {"-progressive"}, {"-progressive", "-sample", "1x1"}, {"-progressive", "-grayscale"},
		{"-restart", "1"}, {"-restart", "3B"}, {"-progressive", "-restart", "2B"},
		{"-optimize", "-quality", "100"}, {"-quality", "5"},
	}
	for _, sz := range sizes {
		ppm := testPPM(sz[0], sz[1], uint32(sz[0]*31+sz[1]))
		for _, v := range variants {
			data := cjpeg(t, ppm, v...)
			name := fmt.Sprintf("%dx%d %v", sz[0], sz[1], v)
			got, err := DecodeScaled(data, 0)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if want, err := jpeg.Decode(bytes.NewReader(data)); err == nil {
				if worst, _ := planesDiff(t, got, want); worst > 1 {
					t.Errorf("%s at 1/1: differs from image/jpeg by up to %d", name, worst)
				}
			} else if worst, _ := planesDiff(t, lumaOf(got), djpegLuma(t, data, 0)); worst > 1 {
				// image/jpeg cannot read progressive files with
				// restart markers ("missing 0xff00 sequence"): libjpeg
				// is the reference there.
				t.Errorf("%s at 1/1: differs from libjpeg by up to %d", name, worst)
			}
			for shift := 0; shift <= 3; shift++ {
				got, err := DecodeScaled(data, shift)
				if err != nil {
					t.Errorf("%s at 1/%d: %v", name, 1<<shift, err)
					continue
				}
				if worst, _ := planesDiff(t, lumaOf(got), djpegLuma(t, data, shift)); worst > 1 {
					t.Errorf("%s at 1/%d: differs from libjpeg by up to %d", name, 1<<shift, worst)
				}
			}
		}
	}
	// What image/jpeg decodes instead.
	ppm := testPPM(64, 48, 7)
	for _, v := range [][]string{{"-arithmetic"}, {"-sample", "3x1"}, {"-rgb"}} {
		data := cjpeg(t, ppm, v...)
		if _, err := DecodeScaled(data, 1); !errors.Is(err, ErrNotScaled) {
			t.Errorf("%v: %v; want ErrNotScaled", v, err)
		}
	}
}

// Hostile files fail quickly with a reason: thousands of scans, scans cut
// short, Huffman tables that make no sense, restart markers missing.
func TestScaledJPEGHostile(t *testing.T) {
	base := readFixture(t, "jpeg-420.jpg")
	prog := readFixture(t, "jpeg-progressive.jpg")
	sos := bytes.Index(prog, []byte{0xff, 0xda})
	lastSOS := bytes.LastIndex(prog, []byte{0xff, 0xda})
	bomb := append([]byte(nil), prog[:lastSOS]...)
	scan := prog[sos:lastSOS]
	for len(bomb) < 1<<20 {
		bomb = append(bomb, scan...)
	}
	bomb = append(bomb, 0xff, 0xd9)
	dht := bytes.Index(base, []byte{0xff, 0xc4})
	badHuff := bytes.Clone(base)
	for i := dht + 5; i < dht+21; i++ {
		badHuff[i] = 0xff // 255 codes of every length
	}
	// A restart interval of one MCU, in a file that has no markers.
	dri := []byte{0xff, 0xdd, 0, 4, 0, 1}
	noRST := append(append(append([]byte(nil), base[:2]...), dri...), base[2:]...)
	for _, c := range []struct {
		name string
		data []byte
		says string
	}{
		{"scan bomb", bomb, "scans"},
		{"truncated baseline", base[:len(base)/2], "ends too early"},
		{"truncated progressive", prog[:len(prog)*2/3], ""},
		{"bad Huffman table", badHuff, "Huffman"},
		{"restart markers missing", noRST, "restart marker"},
		{"empty", nil, ""},
	} {
		for shift := range 4 {
			start := time.Now()
			_, err := DecodeScaled(c.data, shift)
			if c.name == "truncated progressive" && err == nil {
				continue // the scans that came are a picture: libjpeg shows it too
			}
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Errorf("%s at 1/%d: %v; want an error saying %q", c.name, 1<<shift, err, c.says)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s at 1/%d took %v", c.name, 1<<shift, d)
			}
		}
	}
}

func FuzzScaledJPEG(f *testing.F) {
	for _, name := range []string{"jpeg-420.jpg", "jpeg-422.jpg", "jpeg-444.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg", "orient-6.jpg"} {
		f.Add(readFixture(f, name), uint8(0))
		f.Add(readFixture(f, name), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, shift uint8) {
		shift %= 4
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil || int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			return // what the header check refuses never reaches a decoder
		}
		got, err := DecodeScaled(data, int(shift))
		if err != nil {
			return
		}
		div := 1 << shift
		if b := got.Bounds(); b.Dx() != (cfg.Width+div-1)/div || b.Dy() != (cfg.Height+div-1)/div {
			t.Fatalf("decoded %v at 1/%d of %dx%d", b, div, cfg.Width, cfg.Height)
		}
		probe := &jpegDec{data: data}
		wild := map[[3]int]bool{}
		probe.inspect = func(c *jcomp, bx, by int, b *[65]int32) {
			if !inRange(b) {
				wild[[3]int{int(c.id), bx, by}] = true
			}
		}
		probe.decode()
		probe.done()
		if shift != 0 || probe.progressive || outOfSpecSymbols(data) {
			// A progressive file's component that no scan reached is
			// grey here and black in image/jpeg: garbage either way.
			// The corpus tests compare progressive files.
			return
		}
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil || want.Bounds() != got.Bounds() || fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return
		}
		// A block with a coefficient no 8-bit picture has overflows
		// the fixed point of every decoder (libjpeg's too), each
		// wrapping its own way: garbage in each, compared nowhere.
		planesAgree(t, got, want, func(plane, x, y int) bool {
			return wild[[3]int{int(probe.comps[plane].id), x / 8, y / 8}]
		})
	})
}

// The vector 4-point transform gives exactly the scalar one's pixels, on
// blocks of every size of coefficient: the range of real photos, values
// that clip the pixels both ways, and hostile ones up to the int32 range
// (the high and low halves mulTan splits, negative and positive).
func TestIDCTFold4VectorIsScalar(t *testing.T) {
	if !idctInVectors {
		t.Skip("no vector transform on this architecture")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, limit := range []int32{1 << 10, 1 << 16, 1 << 22, 1 << 30, math.MaxInt32} {
		for range 20000 {
			var b [65]int32
			for i := range 16 {
				switch rng.IntN(4) {
				case 0: // left zero, as most high frequencies are
				case 1:
					b[i] = rng.Int32N(2*(limit/2)+1) - limit/2
				default:
					b[i] = int32(rng.Uint32()) % limit
				}
			}
			const stride = 7
			got, want := make([]byte, 4*stride), make([]byte, 4*stride)
			idctFold4(&b, got, stride)
			idctFold4Scalar(&b, want, stride)
			if !bytes.Equal(got, want) {
				t.Fatalf("block %v: vector %v, scalar %v", b[:16], got, want)
			}
		}
	}
	if tanPi8 != 27146 {
		t.Errorf("tan(π/8) in 16 bits is %d; the vector transform has 27146", tanPi8)
	}
}

// The vector 8-point transform gives exactly idctFull's pixels, on blocks
// of real photos' range, DC alone, and hostile values up to the int32
// range, where both wrap the same way.
func TestIDCTFullVectorIsScalar(t *testing.T) {
	if !idctInVectors {
		t.Skip("no vector transform on this architecture")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, limit := range []int32{1 << 12, 1 << 20, 1 << 26, 1 << 30, math.MaxInt32} {
		for n := range 20000 {
			var b [64]int32
			for i := range b {
				switch {
				case n%5 == 0 && i > 0: // DC alone
				case rng.IntN(3) == 0:
				default:
					b[i] = int32(rng.Uint32()) % limit
				}
			}
			const stride = 11
			got, want := make([]byte, 8*stride), make([]byte, 8*stride)
			in := b
			idctFullVector(&in, &got[0], stride)
			in = b
			idctFull(&in, want, stride)
			if !bytes.Equal(got, want) {
				t.Fatalf("block %v: vector %v, scalar %v", b, got, want)
			}
		}
	}
}
