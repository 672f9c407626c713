package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
)

// The encoder's frames decode, in image/jpeg and in libjpeg, to the
// picture as faithfully as image/jpeg's own encoding of it at the same
// quality (within 0.3 dB), at about the same size, for odd sizes, an
// offset picture and every quality.
func TestEncoderMatchesImageJPEG(t *testing.T) {
	src := photoRGBA(t, "jpeg-large.jpg")
	sub := src.SubImage(image.Rect(101, 37, 101+333, 37+201)).(*image.RGBA)
	for _, c := range []struct {
		m       *image.RGBA
		quality int
	}{
		{src, 80}, {src, 95}, {src, 30}, {src, 100}, {src, 1}, {sub, 80},
		{src.SubImage(image.Rect(0, 0, 1, 1)).(*image.RGBA), 80},
		{src.SubImage(image.Rect(500, 300, 517, 309)).(*image.RGBA), 80},
	} {
		b := c.m.Bounds()
		t.Run(fmt.Sprintf("%dx%d-q%d", b.Dx(), b.Dy(), c.quality), func(t *testing.T) {
			var ours, theirs bytes.Buffer
			Encode(&ours, c.m, c.quality)
			if err := jpeg.Encode(&theirs, c.m, &jpeg.Options{Quality: c.quality}); err != nil {
				t.Fatal(err)
			}
			got, err := jpeg.Decode(bytes.NewReader(ours.Bytes()))
			if err != nil {
				t.Fatalf("image/jpeg cannot decode it: %v", err)
			}
			if got.Bounds().Size() != b.Size() {
				t.Fatalf("decodes to %v; want %v", got.Bounds().Size(), b.Size())
			}
			want, _ := jpeg.Decode(bytes.NewReader(theirs.Bytes()))
			base := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(base, base.Rect, c.m, b.Min, draw.Src)
			pg, pw := psnr(base, got), psnr(base, want)
			ratio := float64(ours.Len()) / float64(theirs.Len())
			t.Logf("PSNR %.2f dB (image/jpeg %.2f), %d bytes (image/jpeg %d)", pg, pw, ours.Len(), theirs.Len())
			if pg < min(pw, 48)-0.3 || b.Dx() > 16 && (ratio < 0.9 || ratio > 1.1) {
				t.Errorf("PSNR %.2f dB in %d bytes; image/jpeg %.2f dB in %d", pg, ours.Len(), pw, theirs.Len())
			}
			if djpeg, err := exec.LookPath("djpeg"); err == nil {
				cmd := exec.Command(djpeg)
				cmd.Stdin = bytes.NewReader(ours.Bytes())
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if out, err := cmd.Output(); err != nil || stderr.Len() > 0 || len(out) < 3*b.Dx()*b.Dy() {
					t.Errorf("djpeg: %v %s (%d bytes out)", err, stderr.String(), len(out))
				}
			}
		})
	}
}

// BenchmarkEncoders: a 1280x800 frame, here and by image/jpeg.
func BenchmarkEncoders(b *testing.B) {
	src := photoRGBA(b, "jpeg-large.jpg")
	m := src.SubImage(image.Rect(0, 0, min(1280, src.Rect.Dx()), min(800, src.Rect.Dy()))).(*image.RGBA)
	b.Run("own", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			Encode(&buf, m, 80)
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80})
		}
	})
}

// The factorised transform and quantiser give, on random blocks, the
// coefficients of the DCT's definition (A.3.3) quantised: off by one at
// most, where a value lies within rounding of a half.
func TestQuantiseMatchesTheDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	e := &jpegEncoder{recip: reciprocals(quantTables(90))}
	off := 0
	for range 2000 {
		var px [64]float32
		for i := range px {
			px[i] = float32(rng.IntN(256) - 128)
		}
		tbl := rng.IntN(2)
		var got [64]int32
		e.quantise(&px, tbl, &got)
		for i := range 64 {
			u, v := i>>3, i&7
			var sum float64
			for y := range 8 {
				for x := range 8 {
					sum += float64(px[8*y+x]) * math.Cos(float64((2*y+1)*u)*math.Pi/16) * math.Cos(float64((2*x+1)*v)*math.Pi/16)
				}
			}
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = 1 / math.Sqrt2
			}
			if v == 0 {
				cv = 1 / math.Sqrt2
			}
			want := math.Floor(cu*cv*sum/4/float64(quantTables(90)[tbl][i]) + 0.5)
			d := math.Abs(float64(got[unzig[i]]) - want)
			if d > 1 {
				t.Fatalf("coefficient (%d,%d) = %d; the definition gives %v", u, v, got[unzig[i]], want)
			}
			if d == 1 {
				off++
			}
		}
	}
	t.Logf("%d of %d coefficients one off", off, 2000*64)
	if off > 2000*64/1000 {
		t.Errorf("%d of %d coefficients one off; want rounding cases only", off, 2000*64)
	}
}

// The vector transform and quantiser give exactly the scalar one's
// coefficients (floating point, the same operations in the same order),
// on blocks of every range: flat, photo-like, noise, and the extremes.
func TestQuantiseVectorIsScalar(t *testing.T) {
	if !dctInVectors {
		t.Skip("no vector transform on this architecture")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	recip := reciprocals(quantTables(80))
	recip100 := reciprocals(quantTables(100))
	for n := range 20000 {
		var px [64]float32
		for i := range px {
			switch n % 4 {
			case 0:
				px[i] = float32(rng.IntN(256) - 128)
			case 1:
				px[i] = float32(n%256 - 128)
			case 2:
				px[i] = float32(127 * (1 - 2*((i+i/8)%2))) // a checkerboard of the extremes
			default:
				px[i] = float32((i%8)*(i/8)*4-128) + rng.Float32()/4
			}
		}
		for _, r := range []*[64]float32{&recip[0], &recip[1], &recip100[0]} {
			var got, want [64]int32
			quantiseVector(&px, r, &got)
			quantiseScalar(&px, r, &want)
			if got != want {
				t.Fatalf("block %v: vector %v, scalar %v", px, got, want)
			}
		}
	}
}
