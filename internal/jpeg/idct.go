package jpeg

import "math"

// Inverse DCTs (A.3.3) at full size and reduced.
//
// At full size, the 8-point transform is the factorisation of Arai, Agui
// and Nakajima: five multiplications, by 2cos(π/8), √2, 2√2·sin(π/8) and
// 2√2·cos(π/8), the rest sums. It gives cos((2n+1)kπ/16) / cos(kπ/16) for
// frequency k, so each coefficient is weighed by cos(kπ/16) along each
// axis (1/√2 for k = 0, its C(k)) when dequantised, with the ¼ of the 2-D
// transform: a block costs 80 multiplications instead of 352.
//
// A reduced one makes N = 4 or 2 pixels a side, each exactly the average
// of the s = 8/N full-size pixels it replaces (before their rounding):
// g(n) = ½ Σ C(k) F(k) · (1/s) Σ_j cos((2(sn+j)+1)kπ/16), over all eight
// coefficients (some weigh nothing: row and column 4 at 1/2), as libjpeg's
// reduced transforms do.

// aanBits is the fixed-point precision of the full-size transform's
// dequantised coefficients and its constants; the first pass's results
// keep foldBits, as the reduced transforms' do.
const aanBits = 16

func fix(v float64) int64 { return int64(math.Round(v * (1 << aanBits))) }

var (
	aanSqrt2 = fix(math.Sqrt2)
	aan2Cos  = fix(2 * math.Cos(math.Pi/8))
	aanA     = fix(2 * math.Sqrt2 * math.Sin(math.Pi/8))
	aanB     = fix(2 * math.Sqrt2 * math.Cos(math.Pi/8))
)

// idctFold4 is the 4-point inverse DCT of a folded 4×4 block, rows then
// columns, to pixels: idctFold4Vector where the machine has it, the same
// arithmetic four lanes at a time, or idctFold4Scalar.
func idctFold4(b *[65]int32, dst []byte, stride int) {
	if idctInVectors {
		_ = dst[3*stride+3] // the last pixel written
		idctFold4Vector(b, &dst[0], stride)
		return
	}
	idctFold4Scalar(b, dst, stride)
}

// idctFold4Scalar is idctFold4 one value at a time. Frequencies 1 and 3
// carry cos(π/8) and 2 carries cos(π/4) already, so the odd half needs
// only tan(π/8).
func idctFold4Scalar(b *[65]int32, dst []byte, stride int) {
	var t [16]int32
	for r := range 4 {
		g := b[4*r : 4*r+4 : 4*r+4]
		e0, e1 := g[0]+g[2], g[0]-g[2]
		o0, o1 := g[1]+mulTan(g[3]), mulTan(g[1])-g[3]
		t[4*r], t[4*r+1], t[4*r+2], t[4*r+3] = e0+o0, e1+o1, e1-o1, e0-o0
	}
	const round = 1<<(foldBits-1) + 128<<foldBits
	for x := range 4 {
		e0, e1 := t[x]+t[8+x], t[x]-t[8+x]
		o0, o1 := t[4+x]+mulTan(t[12+x]), mulTan(t[4+x])-t[12+x]
		dst[x] = clampPixel((e0 + o0 + round) >> foldBits)
		dst[stride+x] = clampPixel((e1 + o1 + round) >> foldBits)
		dst[2*stride+x] = clampPixel((e1 - o1 + round) >> foldBits)
		dst[3*stride+x] = clampPixel((e0 - o0 + round) >> foldBits)
	}
}

func mulTan(x int32) int32 { return int32((int64(x)*tanPi8 + 1<<15) >> 16) }

// idctFold2 is the 2-point inverse DCT of a folded 2×2 block: sums and
// differences.
func idctFold2(b *[65]int32, dst []byte, stride int) {
	const round = 1<<(foldBits-1) + 128<<foldBits
	t0, t1, t2, t3 := b[0]+b[1], b[0]-b[1], b[2]+b[3], b[2]-b[3]
	dst[0] = clampPixel((t0 + t2 + round) >> foldBits)
	dst[1] = clampPixel((t1 + t3 + round) >> foldBits)
	dst[stride] = clampPixel((t0 - t2 + round) >> foldBits)
	dst[stride+1] = clampPixel((t1 - t3 + round) >> foldBits)
}

func clampPixel(v int32) byte {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// idct turns a dequantised block (folded at a reduced scale, see fold)
// into its pixels at the decode's scale, in the component's plane.
func (d *jpegDec) idct(c *jcomp, bx, by int, b *[65]int32) {
	s := 8 >> d.shift
	dst := c.pix[by*s*c.stride+bx*s:]
	switch s {
	case 1:
		dst[0] = clampPixel((b[0] + 1<<(foldBits-1) + 128<<foldBits) >> foldBits)
	case 2:
		idctFold2(b, dst, c.stride)
	case 4:
		idctFold4(b, dst, c.stride)
	default:
		if idctInVectors {
			_ = dst[7*c.stride+7] // the last pixel written
			idctFullVector((*[64]int32)(b[:64]), &dst[0], c.stride)
			return
		}
		idctFull((*[64]int32)(b[:64]), dst, c.stride)
	}
}

// idctFull is the full-size transform of a block dequantised with the
// weights of aanWeight, columns then rows, to pixels. The two passes
// write the same butterflies out: as a function they cost a call and a
// copy of eight results each, a fifth of a baseline decode.
func idctFull(b *[64]int32, dst []byte, stride int) {
	var tmp [64]int32
	const shift1 = aanBits - foldBits
	const round1 = 1 << (shift1 - 1)
	for u := range 8 {
		c := b[u:][:57:57] // the column, every 8th value
		x0, x1, x2, x3, x4, x5, x6, x7 := c[0]+round1, c[8], c[16], c[24], c[32], c[40], c[48], c[56]
		t := tmp[u:][:57:57]
		if x1|x2|x3|x4|x5|x6|x7 == 0 {
			v := x0 >> shift1 // only DC: the column is flat
			t[0], t[8], t[16], t[24], t[32], t[40], t[48], t[56] = v, v, v, v, v, v, v, v
			continue
		}
		a0, a1 := x0+x4, x0-x4
		a3 := x2 + x6
		a2 := mulAAN(x2-x6, aanSqrt2) - a3
		e0, e1, e2, e3 := a0+a3, a1+a2, a1-a2, a0-a3
		z10, z11, z12, z13 := x5-x3, x1+x7, x1-x7, x5+x3
		o7 := z11 + z13
		o11 := mulAAN(z11-z13, aanSqrt2)
		z5 := mulAAN(z10+z12, aan2Cos)
		o10 := mulAAN(z12, aanA) - z5
		o6 := z5 - mulAAN(z10, aanB) - o7
		o5 := o11 - o6
		o4 := o10 + o5
		t[0], t[56] = (e0+o7)>>shift1, (e0-o7)>>shift1
		t[8], t[48] = (e1+o6)>>shift1, (e1-o6)>>shift1
		t[16], t[40] = (e2+o5)>>shift1, (e2-o5)>>shift1
		t[24], t[32] = (e3-o4)>>shift1, (e3+o4)>>shift1
	}
	const round = 1<<(foldBits-1) + 128<<foldBits
	for y := range 8 {
		r := tmp[8*y:][:8:8]
		x0, x1, x2, x3, x4, x5, x6, x7 := r[0]+round, r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		a0, a1 := x0+x4, x0-x4
		a3 := x2 + x6
		a2 := mulAAN(x2-x6, aanSqrt2) - a3
		e0, e1, e2, e3 := a0+a3, a1+a2, a1-a2, a0-a3
		z10, z11, z12, z13 := x5-x3, x1+x7, x1-x7, x5+x3
		o7 := z11 + z13
		o11 := mulAAN(z11-z13, aanSqrt2)
		z5 := mulAAN(z10+z12, aan2Cos)
		o10 := mulAAN(z12, aanA) - z5
		o6 := z5 - mulAAN(z10, aanB) - o7
		o5 := o11 - o6
		o4 := o10 + o5
		row := dst[y*stride:][:8:8]
		row[0], row[7] = clampPixel((e0+o7)>>foldBits), clampPixel((e0-o7)>>foldBits)
		row[1], row[6] = clampPixel((e1+o6)>>foldBits), clampPixel((e1-o6)>>foldBits)
		row[2], row[5] = clampPixel((e2+o5)>>foldBits), clampPixel((e2-o5)>>foldBits)
		row[3], row[4] = clampPixel((e3-o4)>>foldBits), clampPixel((e3+o4)>>foldBits)
	}
}
