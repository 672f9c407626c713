package encode

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"
)

// The vector kernel gives each sample exactly what the scalar sums give,
// at every width (multiples of 16 and not, where the last sixteen are
// summed again), with odd and even numbers of taps, on rows that drive
// the filter's lobes to their extremes (0 and 255 alternating down the
// rows and across) and on noise, shrinking and enlarging.
func TestWeighRowsVectorIsScalar(t *testing.T) {
	if !rowsInVectors {
		t.Skip("no vector kernel on this architecture")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ sh, h int }{{1512, 480}, {3024, 960}, {301, 97}, {97, 301}, {40, 3}, {9, 1}, {5, 5}} {
		for _, width := range []int{16, 17, 31, 32, 100, 2016} {
			stride := width + 7
			src := make([]uint8, stride*c.sh)
			for i := range src {
				switch row, col := i/stride, i%stride; {
				case row%5 == 0:
					src[i] = uint8(255 * (row / 5 % 2))
				case row%7 == 0:
					src[i] = uint8(255 * (col % 2))
				default:
					src[i] = uint8(rng.IntN(256))
				}
			}
			ty := weightsAt(c.h, c.sh, float64(c.sh)/float64(c.h))
			odd, even := 0, 0
			var acc []int32
			for y, tp := range ty {
				if tp.pairs == nil {
					t.Fatalf("%d to %d, row %d: weights %v do not pair up", c.sh, c.h, y, tp.weights)
				}
				if len(tp.weights)%2 == 1 {
					odd++
				} else {
					even++
				}
				got, want := make([]uint8, width), make([]uint8, width)
				weighRows(got, src[tp.start*stride:], stride, tp, &acc)
				weighRowsScalar(want, src[tp.start*stride:], stride, tp.weights, &acc)
				if !bytes.Equal(got, want) {
					t.Fatalf("%d to %d rows, %d wide, row %d (%d taps): vector %v, scalar %v", c.sh, c.h, width, y, len(tp.weights), got, want)
				}
			}
			if width == 2016 {
				t.Logf("%d to %d rows: %d with an odd number of taps, %d even", c.sh, c.h, odd, even)
			}
		}
	}
}

// Weights that do not fit 16 bits are not paired, and the scalar kernel
// sums them.
func TestPairUp(t *testing.T) {
	got := pairUp(make([]int32, 2), []int32{-3, 16384, 7})
	want := []int32{int32(uint32(0xfffd) | 16384<<16), 7}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("pairUp = %#x, want %#x", got, want)
	}
	if pairUp(make([]int32, 1), []int32{40000, -24000}) != nil {
		t.Error("a weight beyond 16 bits was paired")
	}
}

// Taps computed once are handed out again for the same sizes, equal to
// what computing them gives; other sizes get their own.
func TestRecentTaps(t *testing.T) {
	a := weightsAt(640, 2016, 2016.0/640)
	b := weightsAt(640, 2016, 2016.0/640)
	if &a[0] != &b[0] {
		t.Error("the same taps were computed twice")
	}
	want := computeWeights(640, 2016, 2016.0/640)
	for i := range want {
		if a[i].start != want[i].start || !slices.Equal(a[i].weights, want[i].weights) || !slices.Equal(a[i].pairs, want[i].pairs) {
			t.Fatalf("output %d: kept taps %+v, computed %+v", i, a[i], want[i])
		}
	}
	if c := weightsAt(640, 2017, 2017.0/640); len(c) != 640 || &c[0] == &a[0] {
		t.Error("another size got the kept taps")
	}
}

// RGB rows resampled across four at a time, channel by channel, come out
// exactly as each channel of each row resampled alone (acrossRow),
// whatever is left of the rows after the last four.
func TestAcrossRGBIsAcrossRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ sw, sh, w int }{{640, 9, 211}, {301, 10, 97}, {97, 11, 301}, {2016, 12, 640}, {64, 1, 20}} {
		m := image.NewRGBA(image.Rect(0, 0, c.sw, c.sh))
		for i := range m.Pix {
			m.Pix[i] = uint8(rng.IntN(256))
			if i%7 == 0 {
				m.Pix[i] = 255 * uint8(i/7%2)
			}
		}
		tx := weightsAt(c.w, c.sw, float64(c.sw)/float64(c.w))
		if rowsInVectors && tx[0].w8 == nil {
			t.Fatalf("%d to %d: no weights in eighths", c.sw, c.w)
		}
		got, want := make([]uint8, 3*c.w*c.sh), make([]uint8, 3*c.w*c.sh)
		bg := color.RGBA{A: 255}
		if err := flattenEach(m, bg, 1, acrossRGB(got, c.w, c.sw, c.sh, tx)); err != nil {
			t.Fatal(err)
		}
		ch, out := make([]uint8, c.sw), make([]uint8, c.w)
		for y := range c.sh {
			for k := range 3 {
				for x := range ch {
					ch[x] = m.Pix[y*m.Stride+4*x+k]
				}
				acrossRow(out, ch, tx)
				for x, v := range out {
					want[3*(y*c.w+x)+k] = v
				}
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%dx%d to %d across: the four-row pass differs from one row and channel at a time", c.sw, c.sh, c.w)
		}
	}
}
