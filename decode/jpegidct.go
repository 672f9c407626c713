package decode

import "math"

// Inverse DCTs (A.3.3) at full size and reduced. The 8-point transform is
// split into its even and odd halves. A reduced one makes N = 4 or 2
// pixels a side, each exactly the average of the s = 8/N full-size pixels
// it replaces (before their rounding): g(n) = ½ Σ C(k) F(k) · (1/s) Σ_j
// cos((2(sn+j)+1)kπ/16), C(0) = 1/√2, over all eight coefficients (some
// weigh nothing: row and column 4 at 1/2), as libjpeg's reduced transforms
// do. Fixed point: constants carry 13 fractional bits, the first pass keeps
// 2 more than the output needs.

const (
	idctBits  = 13
	idctPass1 = 2
)

func fix(v float64) int32 { return int32(math.Round(v * (1 << idctBits))) }

var (
	c1, c2, c3 = fix(math.Cos(1 * math.Pi / 16)), fix(math.Cos(2 * math.Pi / 16)), fix(math.Cos(3 * math.Pi / 16))
	c4, c5, c6 = fix(math.Cos(4 * math.Pi / 16)), fix(math.Cos(5 * math.Pi / 16)), fix(math.Cos(6 * math.Pi / 16))
	c7         = fix(math.Cos(7 * math.Pi / 16))
)

// idct8 is the 8-point inverse DCT of in (stride apart) into out, times
// 2^idctBits, without the factor ½.
func idct8(x0, x1, x2, x3, x4, x5, x6, x7 int32) (o [8]int32) {
	a0, a1 := (x0+x4)*c4, (x0-x4)*c4
	b0, b1 := x2*c2+x6*c6, x2*c6-x6*c2
	e0, e1, e2, e3 := a0+b0, a1+b1, a1-b1, a0-b0
	d0 := x1*c1 + x3*c3 + x5*c5 + x7*c7
	d1 := x1*c3 - x3*c7 - x5*c1 - x7*c5
	d2 := x1*c5 - x3*c1 + x5*c7 + x7*c3
	d3 := x1*c7 - x3*c5 + x5*c3 - x7*c1
	return [8]int32{e0 + d0, e1 + d1, e2 + d2, e3 + d3, e3 - d3, e2 - d2, e1 - d1, e0 - d0}
}

// reduced4 and reduced2 are the averaging transforms, [n][k], in fixed
// point.
var reduced4, reduced2 = reducedMatrix(4), reducedMatrix(2)

func reducedMatrix(n int) [][8]int32 {
	s := 8 / n
	m := make([][8]int32, n)
	for i := range m {
		for k := range 8 {
			c := 1.0
			if k == 0 {
				c = 1 / math.Sqrt2
			}
			var sum float64
			for j := range s {
				sum += math.Cos(float64(2*(s*i+j)+1) * float64(k) * math.Pi / 16)
			}
			m[i][k] = fix(0.5 * c * sum / float64(s))
		}
	}
	return m
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

// idct turns a dequantised block (row-major) into its pixels at the
// decode's scale, in the component's plane.
func (d *jpegDec) idct(c *jcomp, bx, by int, b *[64]int32) {
	s := 8 >> d.shift
	dst := c.pix[by*s*c.stride+bx*s:]
	switch s {
	case 1:
		dst[0] = clampPixel((b[0]+4)>>3 + 128)
	case 8:
		idctFull(b, dst, c.stride)
	default:
		m := reduced4
		if s == 2 {
			m = reduced2
		}
		idctReduced(b, m, dst, c.stride)
	}
}

func idctFull(b *[64]int32, dst []byte, stride int) {
	var tmp [64]int32
	// Columns: each keeps idctPass1 bits more than a pixel, and the ½.
	const shift1 = idctBits - idctPass1 + 1
	for u := range 8 {
		if b[8+u]|b[16+u]|b[24+u]|b[32+u]|b[40+u]|b[48+u]|b[56+u] == 0 {
			v := b[u] * c4 // only DC: the column is flat
			v = (v + 1<<(shift1-1)) >> shift1
			for y := range 8 {
				tmp[y*8+u] = v
			}
			continue
		}
		o := idct8(b[u], b[8+u], b[16+u], b[24+u], b[32+u], b[40+u], b[48+u], b[56+u])
		for y := range 8 {
			tmp[y*8+u] = (o[y] + 1<<(shift1-1)) >> shift1
		}
	}
	// Rows, to pixels.
	const shift2 = idctBits + idctPass1 + 1
	const round = 1<<(shift2-1) + 128<<shift2
	for y := range 8 {
		r := tmp[y*8:][:8]
		o := idct8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
		row := dst[y*stride:][:8]
		for x := range 8 {
			row[x] = clampPixel((o[x] + round) >> shift2)
		}
	}
}

// idctReduced averages through m, which is symmetric in n for even k and
// antisymmetric for odd k, so the outputs come in pairs n, N-1-n from an
// even and an odd sum. Entries that are zero (k = 4 at 1/2; every even k
// but 0 at 1/4) are left out.
func idctReduced(b *[64]int32, m [][8]int32, dst []byte, stride int) {
	n := len(m)
	var tmp [4 * 8]int32 // n rows of 8 columns
	const shift1 = idctBits - idctPass1
	const r1 = 1 << (shift1 - 1)
	if n == 4 {
		for u := range 8 {
			x0, x1, x2, x3, x5, x6, x7 := b[u], b[8+u], b[16+u], b[24+u], b[40+u], b[48+u], b[56+u]
			if x1|x2|x3|x5|x6|x7 == 0 {
				if x0 != 0 {
					v := (m[0][0]*x0 + r1) >> shift1
					tmp[u], tmp[8+u], tmp[16+u], tmp[24+u] = v, v, v, v
				}
				continue
			}
			o := reduce4(m, x0, x1, x2, x3, x5, x6, x7)
			tmp[u], tmp[8+u], tmp[16+u], tmp[24+u] = (o[0]+r1)>>shift1, (o[1]+r1)>>shift1, (o[2]+r1)>>shift1, (o[3]+r1)>>shift1
		}
	} else {
		for u := range 8 {
			x0, x1, x3, x5, x7 := b[u], b[8+u], b[24+u], b[40+u], b[56+u]
			e := m[0][0] * x0
			o := m[0][1]*x1 + m[0][3]*x3 + m[0][5]*x5 + m[0][7]*x7
			tmp[u], tmp[8+u] = (e+o+r1)>>shift1, (e-o+r1)>>shift1
		}
	}
	const shift2 = idctBits + idctPass1
	const round = 1<<(shift2-1) + 128<<shift2
	for y := range n {
		r := tmp[y*8:][:8]
		row := dst[y*stride:][:n]
		if n == 4 {
			o := reduce4(m, r[0], r[1], r[2], r[3], r[5], r[6], r[7])
			row[0], row[1], row[2], row[3] = clampPixel((o[0]+round)>>shift2), clampPixel((o[1]+round)>>shift2),
				clampPixel((o[2]+round)>>shift2), clampPixel((o[3]+round)>>shift2)
			continue
		}
		e := m[0][0] * r[0]
		o := m[0][1]*r[1] + m[0][3]*r[3] + m[0][5]*r[5] + m[0][7]*r[7]
		row[0], row[1] = clampPixel((e+o+round)>>shift2), clampPixel((e-o+round)>>shift2)
	}
}

// reduce4 is the 1-D transform to 4 averages (coefficient 4 weighs
// nothing).
func reduce4(m [][8]int32, x0, x1, x2, x3, x5, x6, x7 int32) [4]int32 {
	a, c := &m[0], &m[1]
	dc := a[0] * x0
	e0 := dc + a[2]*x2 + a[6]*x6
	e1 := dc + c[2]*x2 + c[6]*x6
	o0 := a[1]*x1 + a[3]*x3 + a[5]*x5 + a[7]*x7
	o1 := c[1]*x1 + c[3]*x3 + c[5]*x5 + c[7]*x7
	return [4]int32{e0 + o0, e1 + o1, e1 - o1, e0 - o0}
}
