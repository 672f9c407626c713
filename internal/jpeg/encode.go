package jpeg

import (
	"bytes"
	"encoding/binary"
	"image"
	"math"
	"math/bits"
)

// A baseline JPEG encoder (ITU T.81) for opaque frames: YCbCr 4:2:0, the
// example quantisation tables of Annex K scaled by quality the way libjpeg
// and image/jpeg scale them, and the Annex K Huffman tables. It does what
// image/jpeg does for an *image.RGBA, in about half the time: the forward
// DCT is split into even and odd halves, quantisation multiplies by
// reciprocals, and the 2×2 chroma averages are taken on RGB before one
// conversion.

// Annex K.1: luminance and chrominance quantisation tables, row-major.
var baseQuant = [2][64]float64{{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}, {
	17, 18, 24, 47, 99, 99, 99, 99,
	18, 21, 26, 66, 99, 99, 99, 99,
	24, 26, 56, 99, 99, 99, 99, 99,
	47, 66, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
	99, 99, 99, 99, 99, 99, 99, 99,
}}

// Annex K.3: code counts by length (1 to 16 bits) and symbols of the four
// Huffman tables: DC and AC luminance, DC and AC chrominance.
var huffSpecs = [4]struct {
	counts [16]byte
	values []byte
}{{
	[16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
	[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
}, {
	[16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d},
	[]byte{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
		0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
		0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
		0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
		0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
		0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	},
}, {
	[16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
	[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
}, {
	[16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77},
	[]byte{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
		0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
		0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
		0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
		0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
		0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
		0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
		0xf9, 0xfa,
	},
}}

// huffCode is a symbol's code: its bits, right-aligned, and how many.
type huffCode struct {
	bits uint32
	n    uint8
}

// huffCodes are the codes of the four tables by symbol (C.2).
var huffCodes = func() (t [4][256]huffCode) {
	for i, s := range huffSpecs {
		code, k := uint32(0), 0
		for l, n := range s.counts {
			for range n {
				t[i][s.values[k]] = huffCode{code, uint8(l + 1)}
				code++
				k++
			}
			code <<= 1
		}
	}
	return t
}()

// quantTables are the two tables at a quality (1 to 100), row-major.
func quantTables(quality int) (q [2][64]byte) {
	quality = max(1, min(100, quality))
	scale := 200 - 2*quality
	if quality < 50 {
		scale = 5000 / quality
	}
	for i := range q {
		for j, b := range baseQuant[i] {
			q[i][j] = byte(max(1, min(255, (int(b)*scale+50)/100)))
		}
	}
	return q
}

// The forward transform is the factorisation of Arai, Agui and Nakajima:
// five multiplications a line. It gives each frequency k of the
// unnormalised DCT-II, Σ x(n)·cos((2n+1)kπ/16), divided by aanScale(k);
// the quantisation multiplies that back along with its own factors.
const (
	fdctA = 0.70710678118654752 // cos(π/4)
	fdctB = 0.38268343236508977 // cos(3π/8)
	fdctC = 0.54119610014619698 // cos(π/8) - cos(3π/8)
	fdctD = 1.30656296487637652 // cos(π/8) + cos(3π/8)
)

// aanScale is the factor the transform leaves out of frequency k:
// 1/(2cos(kπ/16)), and 1 for k = 0 (TestQuantiseMatchesTheDefinition
// holds the two to the definition together). With the DCT's own c(0) =
// 1/√2 it is 1/(2·aanWeight(k)) at every k: the decoder's weights undo
// exactly what the encoder's take out.
func aanScale(k int) float64 {
	if k == 0 {
		return 1
	}
	return 1 / (2 * aanWeight(k))
}

// reciprocals are what quantise multiplies each transformed coefficient
// by: F(u,v) = ¼c(u)c(v)·R(u,v), R the unnormalised transform, which
// quantise has divided by aanScale(u)·aanScale(v), over the table's step.
func reciprocals(q [2][64]byte) (r [2][64]float32) {
	for t := range q {
		for i, v := range q[t] {
			cu, cv := 1.0, 1.0
			if i>>3 == 0 {
				cu = 1 / math.Sqrt2
			}
			if i&7 == 0 {
				cv = 1 / math.Sqrt2
			}
			r[t][i] = float32(cu * cv * aanScale(i>>3) * aanScale(i&7) / (4 * float64(v)))
		}
	}
	return r
}

// jpegEncoder holds what one encode needs.
type jpegEncoder struct {
	buf   []byte // the entropy-coded data, written to out at the end
	acc   uint64 // bits not yet in buf, the first highest
	n     uint   // how many: fewer than 32 between writes
	recip [2][64]float32
}

// encodeJPEG writes m, which must be opaque, as a baseline 4:2:0 JPEG.
func Encode(out *bytes.Buffer, m *image.RGBA, quality int) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	q := quantTables(quality)
	e := &jpegEncoder{recip: reciprocals(q)}
	e.headers(out, w, h, q)
	// About what a photo's frame takes at quality 80; buf grows past it.
	out.Grow(w*h/4 + 1024)
	e.buf = out.AvailableBuffer()

	var yb [4][64]float32
	var cb, cr [64]float32
	var pred [3]int32
	for my := 0; my < h; my += 16 {
		for mx := 0; mx < w; mx += 16 {
			if mx+16 <= w && my+16 <= h {
				inner(m, mx, my, &yb, &cb, &cr)
			} else {
				edge(m, mx, my, &yb, &cb, &cr)
			}
			for i := range yb {
				e.block(&yb[i], 0, &pred[0])
			}
			e.block(&cb, 1, &pred[1])
			e.block(&cr, 1, &pred[2])
		}
	}
	e.flush()
	e.buf = append(e.buf, 0xff, 0xd9)
	out.Write(e.buf)
}

// edge converts an MCU that reaches past m's right or bottom edge, at
// (mx, my) from m's corner, to its four luma blocks and its Cb and Cr
// averaged over 2×2, the pixels past the picture its edge's repeated.
func edge(m *image.RGBA, mx, my int, yb *[4][64]float32, cb, cr *[64]float32) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	for y := range 16 {
		row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+min(my+y, h-1)):]
		for x := range 16 {
			sx := min(mx+x, w-1)
			p := row[4*sx : 4*sx+3 : 4*sx+3]
			r, g, bl := int32(p[0]), int32(p[1]), int32(p[2])
			yv := (19595*r + 38470*g + 7471*bl + 1<<15) >> 16
			yb[(y>>3)*2+x>>3][(y&7)*8+x&7] = float32(yv - 128)
		}
	}
	for y := range 8 {
		y0, y1 := min(my+2*y, h-1), min(my+2*y+1, h-1)
		r0, r1 := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y0):], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y1):]
		for x := range 8 {
			x0, x1 := min(mx+2*x, w-1), min(mx+2*x+1, w-1)
			a, c, d, f := r0[4*x0:4*x0+3:4*x0+3], r0[4*x1:4*x1+3:4*x1+3], r1[4*x0:4*x0+3:4*x0+3], r1[4*x1:4*x1+3:4*x1+3]
			r := int32(a[0]) + int32(c[0]) + int32(d[0]) + int32(f[0])
			g := int32(a[1]) + int32(c[1]) + int32(d[1]) + int32(f[1])
			bl := int32(a[2]) + int32(c[2]) + int32(d[2]) + int32(f[2])
			// Four pixels' sums: ¼ of the conversion's factors.
			cb[y*8+x] = float32(-11059*r-21709*g+32768*bl) / (4 << 16)
			cr[y*8+x] = float32(32768*r-27439*g-5329*bl) / (4 << 16)
		}
	}
}

// inner converts an MCU wholly inside m, at (mx, my) from m's corner,
// to its four luma blocks and its Cb and Cr averaged over 2×2: what edge
// makes of it, without edge's care for the picture's edges.
func inner(m *image.RGBA, mx, my int, yb *[4][64]float32, cb, cr *[64]float32) {
	at := m.PixOffset(m.Rect.Min.X+mx, m.Rect.Min.Y+my)
	for y := range 16 {
		row := m.Pix[at+y*m.Stride:][:64]
		half := 2 * (y >> 3)
		for i := range 2 {
			d := yb[half+i][(y&7)*8:][:8]
			px := row[32*i:][:32]
			for x := range d {
				p := px[4*x : 4*x+3 : 4*x+3]
				r, g, b := int32(p[0]), int32(p[1]), int32(p[2])
				d[x] = float32((19595*r+38470*g+7471*b+1<<15)>>16 - 128)
			}
		}
	}
	for y := range 8 {
		r0 := m.Pix[at+2*y*m.Stride:][:64]
		r1 := m.Pix[at+(2*y+1)*m.Stride:][:64]
		db, dr := cb[8*y:][:8], cr[8*y:][:8]
		for x := range db {
			a, c := r0[8*x:8*x+8:8*x+8], r1[8*x:8*x+8:8*x+8]
			r := int32(a[0]) + int32(a[4]) + int32(c[0]) + int32(c[4])
			g := int32(a[1]) + int32(a[5]) + int32(c[1]) + int32(c[5])
			b := int32(a[2]) + int32(a[6]) + int32(c[2]) + int32(c[6])
			db[x] = float32(-11059*r-21709*g+32768*b) / (4 << 16)
			dr[x] = float32(32768*r-27439*g-5329*b) / (4 << 16)
		}
	}
}

// block transforms, quantises and codes one 8×8 block with table t
// (0 luminance, 1 chrominance), pred being its component's last DC.
func (e *jpegEncoder) block(px *[64]float32, t int, pred *int32) {
	var coef [64]int32 // in coding order
	nonzero := e.quantise(px, t, &coef)
	// DC as a difference from the last (F.1.2.1), then the AC run
	// lengths and values (F.1.2.2), each code written with its bits:
	// the coefficients that are not zero found from their bits in
	// nonzero, the zeros between them counted, not walked.
	dc, ac := &huffCodes[2*t], &huffCodes[2*t+1]
	diff := coef[0] - *pred
	*pred = coef[0]
	s, val := magnitude(diff)
	e.write(uint32(dc[s].bits)<<s|val, uint(dc[s].n)+uint(s))
	last := 0
	for nz := nonzero &^ 1; nz != 0; nz &= nz - 1 {
		k := bits.TrailingZeros64(nz)
		run := k - last - 1
		for ; run > 15; run -= 16 {
			e.write(uint32(ac[0xf0].bits), uint(ac[0xf0].n))
		}
		s, val := magnitude(coef[k])
		c := ac[run<<4|int(s)]
		e.write(uint32(c.bits)<<s|val, uint(c.n)+uint(s))
		last = k
	}
	if last < 63 {
		e.write(uint32(ac[0].bits), uint(ac[0].n))
	}
}

// quantise transforms px (rows, then columns: the same butterflies
// written out twice, as a call per line would cost a third of the encode)
// and quantises it with table t into coef, in coding order.
func (e *jpegEncoder) quantise(px *[64]float32, t int, coef *[64]int32) (nonzero uint64) {
	var nat [64]int32 // row-major
	if dctInVectors {
		quantiseVector(px, &e.recip[t], &nat)
	} else {
		quantiseScalar(px, &e.recip[t], &nat)
	}
	for k, z := range zigzag {
		v := nat[z]
		coef[k] = v
		nonzero |= uint64((v|-v)>>31&1) << k
	}
	return nonzero
}

// quantiseScalar transforms px, rows then columns (the same butterflies
// written out twice, as a call per line would cost a third of the
// encode), and quantises it with recip into out, in row-major order.
// Each product is rounded to float32 before it is added (the explicit
// conversions), so that no build fuses a multiply and an add: the
// coefficients are the same everywhere, and the same as quantiseVector's.
func quantiseScalar(px *[64]float32, recip *[64]float32, out *[64]int32) {
	var tmp [64]float32
	for y := range 8 {
		x := px[8*y : 8*y+8 : 8*y+8]
		s0, s1, s2, s3 := x[0]+x[7], x[1]+x[6], x[2]+x[5], x[3]+x[4]
		d0, d1, d2, d3 := x[0]-x[7], x[1]-x[6], x[2]-x[5], x[3]-x[4]
		e0, e3, e1, e2 := s0+s3, s0-s3, s1+s2, s1-s2
		o := tmp[8*y : 8*y+8 : 8*y+8]
		o[0], o[4] = e0+e1, e0-e1
		z := float32((e2 + e3) * fdctA)
		o[2], o[6] = e3+z, e3-z
		t0, t1, t2 := d3+d2, d2+d1, d1+d0
		z5 := float32((t0 - t2) * fdctB)
		z2, z4, z3 := float32(fdctC*t0)+z5, float32(fdctD*t2)+z5, float32(t1*fdctA)
		z11, z13 := d0+z3, d0-z3
		o[5], o[3], o[1], o[7] = z13+z2, z13-z2, z11+z4, z11-z4
	}
	for u := range 8 {
		x := tmp[u:][:57:57] // the column, every 8th value
		s0, s1, s2, s3 := x[0]+x[56], x[8]+x[48], x[16]+x[40], x[24]+x[32]
		d0, d1, d2, d3 := x[0]-x[56], x[8]-x[48], x[16]-x[40], x[24]-x[32]
		e0, e3, e1, e2 := s0+s3, s0-s3, s1+s2, s1-s2
		var o [8]float32
		o[0], o[4] = e0+e1, e0-e1
		z := float32((e2 + e3) * fdctA)
		o[2], o[6] = e3+z, e3-z
		t0, t1, t2 := d3+d2, d2+d1, d1+d0
		z5 := float32((t0 - t2) * fdctB)
		z2, z4, z3 := float32(fdctC*t0)+z5, float32(fdctD*t2)+z5, float32(t1*fdctA)
		z11, z13 := d0+z3, d0-z3
		o[5], o[3], o[1], o[7] = z13+z2, z13-z2, z11+z4, z11-z4
		for v, c := range o {
			i := 8*v + u
			// Rounded without a branch: quantised coefficients lie
			// well within ±4096, where truncating c+4096.5 is a floor.
			out[i] = int32(float32(c*recip[i])+4096.5) - 4096
		}
	}
}

// unzig is where each row-major coefficient goes in coding order.
var unzig = func() (u [64]uint8) {
	for k, z := range zigzag {
		u[z] = uint8(k)
	}
	return u
}()

// magnitude is a value's size category and the bits that follow its code
// (F.1.2.1): negative values as v-1 in that many bits.
func magnitude(v int32) (uint8, uint32) {
	a := v
	if v < 0 {
		a = -v
		v--
	}
	s := uint8(bits.Len32(uint32(a)))
	return s, uint32(v) & (1<<s - 1)
}

// write appends the n low bits of bits (n at most 32 less what is held),
// 32 bits at a time to buf.
func (e *jpegEncoder) write(bits uint32, n uint) {
	e.acc |= uint64(bits) << (64 - e.n - n) // 0 for n = 0
	e.n += n
	if e.n >= 32 {
		e.put(uint32(e.acc>>32), 4)
		e.acc <<= 32
		e.n -= 32
	}
}

// put appends the first k bytes of w (high first) to buf, stuffing a zero
// after every 0xFF byte (F.1.2.3). Four bytes without an 0xFF, most
// words, go in one append.
func (e *jpegEncoder) put(w uint32, k int) {
	if v := ^w; k == 4 && (v-0x01010101)&^v&0x80808080 == 0 {
		e.buf = binary.BigEndian.AppendUint32(e.buf, w)
		return
	}
	for i := range k {
		c := byte(w >> (24 - 8*i))
		e.buf = append(e.buf, c)
		if c == 0xff {
			e.buf = append(e.buf, 0)
		}
	}
}

// flush pads the last byte with 1 bits and appends what is held.
func (e *jpegEncoder) flush() {
	if pad := (8 - e.n%8) % 8; pad > 0 {
		e.acc |= (1<<pad - 1) << (64 - e.n - pad)
		e.n += pad
	}
	e.put(uint32(e.acc>>32), int(e.n/8))
	e.acc, e.n = 0, 0
}

// headers writes SOI, the tables, the frame header and the scan header.
func (e *jpegEncoder) headers(o *bytes.Buffer, w, h int, q [2][64]byte) {
	o.Write([]byte{0xff, 0xd8})
	segment := func(marker byte, n int) {
		o.Write([]byte{0xff, marker})
		binary.Write(o, binary.BigEndian, uint16(n+2))
	}
	segment(0xdb, 2*65)
	for t := range q {
		o.WriteByte(byte(t))
		for _, z := range zigzag {
			o.WriteByte(q[t][z])
		}
	}
	segment(0xc0, 6+3*3)
	o.WriteByte(8)
	binary.Write(o, binary.BigEndian, uint16(h))
	binary.Write(o, binary.BigEndian, uint16(w))
	o.Write([]byte{3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1})
	n := 0
	for _, s := range huffSpecs {
		n += 17 + len(s.values)
	}
	segment(0xc4, n)
	for i, s := range huffSpecs {
		o.WriteByte(byte(i&1<<4 | i>>1)) // class (DC 0, AC 1), table
		o.Write(s.counts[:])
		o.Write(s.values)
	}
	segment(0xda, 1+3*2+3)
	o.Write([]byte{3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0})
}
