package jpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"slidestream/internal/offheap"
)

// A JPEG decoder that decodes only what the frame needs (ITU T.81):
// baseline and progressive Huffman-coded frames of 8-bit samples, one
// component (grey) or three (YCbCr), any sampling factors Go's image.YCbCr
// can hold, with restart intervals. It decodes at 1/1, 1/2, 1/4 or 1/8 of
// the size, in the DCT domain: a block becomes N×N pixels, each the
// average of the full-size pixels it stands for, without making those.
// At 1/8 a progressive file needs only its DC scans; its AC scans are
// stepped over without being decoded, and only one coefficient per block
// is kept. Anything else (arithmetic coding, 12-bit samples, lossless or
// hierarchical frames, CMYK and YCCK, RGB by Adobe's transform flag) is
// ErrNotScaled, for image/jpeg to decode instead.

// ErrNotScaled says this decoder does not handle the file; image/jpeg
// does.
var ErrNotScaled = errors.New("not a JPEG this decoder handles")

// jcomp is a frame component and where its pixels go.
type jcomp struct {
	id     byte
	h, v   int // sampling factors
	tq     int // quantisation table
	td, ta int // Huffman tables of the current scan
	pred   int // DC prediction
	// bw, bh are its blocks in the whole-MCU grid; cw, ch those that
	// hold image samples (what a scan of this component alone walks).
	bw, bh, cw, ch int
	pix            []byte // its samples at the decode's scale
	stride         int
	coef           []int16 // progressive: per block, k coefficients in coding order
}

type jpegDec struct {
	data          []byte
	pos           int
	width, height int
	progressive   bool
	comps         []jcomp
	hmax, vmax    int
	mcusX, mcusY  int
	quant         [4][64]int32 // natural order
	wq            [4][64]int32 // quant in coding order, weighted at a reduced scale (dequant)
	slot          [64]uint8    // where each coefficient in coding order lands in a block (dequant)
	haveQuant     [4]bool
	dc, ac        [4]huffman
	restart       int
	shift         int // log2 of the scale: 0 for 1/1 .. 3 for 1/8
	k             int // coefficients kept per block (progressive)
	eobrun        int
	bits          bitReader
	scans         int
	adobeRGB      bool
	probe         bool                                         // read the frame header only: allocate nothing
	inspect       func(c *jcomp, bx, by int, block *[65]int32) // sees each sequential block before its transform (tests)
	release       func()                                       // gives back the coefficients (offheap.Int16s)
}

// done gives back what the decode holds outside the Go heap; nothing may
// use the coefficients after it.
func (d *jpegDec) done() {
	for i := range d.comps {
		d.comps[i].coef = nil
	}
	if d.release != nil {
		d.release()
		d.release = nil
	}
}

// DecodeScaled decodes data at 1/2^shift of its size (shift 0 to 3).
func DecodeScaled(data []byte, shift int) (image.Image, error) {
	d := &jpegDec{data: data, shift: shift}
	defer d.done()
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.image()
}

func (d *jpegDec) segment() ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, errShortJPEG
	}
	n := int(binary.BigEndian.Uint16(d.data[d.pos:]))
	if n < 2 || d.pos+n > len(d.data) {
		return nil, errShortJPEG
	}
	p := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return p, nil
}

var errShortJPEG = errors.New("the JPEG data ends too early")

func (d *jpegDec) decode() error {
	if len(d.data) < 2 || d.data[0] != 0xff || d.data[1] != 0xd8 {
		return errors.New("missing start of image")
	}
	d.pos = 2
	frame := false
	for {
		// Find the next marker, skipping fill bytes.
		for d.pos < len(d.data) && d.data[d.pos] != 0xff {
			d.pos++ // garbage between segments, as some writers leave
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xff {
			d.pos++
		}
		if d.pos >= len(d.data) {
			if frame && d.scans > 0 {
				return nil // no end-of-image marker: what was decoded stands
			}
			return errShortJPEG
		}
		marker := d.data[d.pos]
		d.pos++
		switch {
		case marker == 0xd9: // EOI
			if !frame || d.scans == 0 {
				return errors.New("no picture before the end of the image")
			}
			return nil
		case marker >= 0xd0 && marker <= 0xd7: // a stray restart marker
			continue
		case marker == 0x01 || marker == 0x00: // TEM; stuffed data left over
			continue
		}
		p, err := d.segment()
		if err != nil {
			return err
		}
		switch {
		case marker == 0xc0 || marker == 0xc1 || marker == 0xc2:
			if frame {
				return errors.New("a second frame header")
			}
			frame = true
			if marker == 0xc2 {
				// Each progressive scan walks every block, whatever its
				// size: a small file with thousands of tiny scans is
				// refused before the first (FF DA cannot occur inside
				// entropy-coded data). A sequential scan carries at
				// least two bits a block, so its cost stays in
				// proportion to the file; the count below bounds both.
				if n := bytes.Count(d.data[d.pos:], []byte{0xff, 0xda}); n > MaxScans {
					return fmt.Errorf("the JPEG has %d scans, over the %d a real photo could need (a decoding bomb?)", n, MaxScans)
				}
			}
			if err := d.frame(p, marker == 0xc2); err != nil {
				return err
			}
		case marker >= 0xc3 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			return ErrNotScaled // lossless, hierarchical or arithmetic
		case marker == 0xc4:
			if err := d.huffmanTables(p); err != nil {
				return err
			}
		case marker == 0xcc:
			return ErrNotScaled // arithmetic conditioning
		case marker == 0xdb:
			if err := d.quantTables(p); err != nil {
				return err
			}
		case marker == 0xdd:
			if len(p) < 2 {
				return errors.New("a short restart interval segment")
			}
			d.restart = int(binary.BigEndian.Uint16(p))
		case marker == 0xee: // APP14: Adobe's transform flag
			if len(p) >= 12 && string(p[:5]) == "Adobe" && p[11] == 0 && len(d.comps) != 1 {
				d.adobeRGB = true
			}
		case marker == 0xda:
			if !frame {
				return errors.New("a scan before the frame header")
			}
			if d.scans++; d.scans > MaxScans {
				return fmt.Errorf("over %d scans (a decoding bomb?)", MaxScans)
			}
			if err := d.scan(p); err != nil {
				return err
			}
		}
	}
}

func (d *jpegDec) frame(p []byte, progressive bool) error {
	if len(p) < 6 {
		return errors.New("a short frame header")
	}
	if p[0] != 8 {
		return ErrNotScaled // 12-bit samples
	}
	d.progressive = progressive
	d.height, d.width = int(binary.BigEndian.Uint16(p[1:])), int(binary.BigEndian.Uint16(p[3:]))
	n := int(p[5])
	if d.width == 0 || d.height == 0 {
		return ErrNotScaled // the height comes in a DNL segment: rare
	}
	if n != 1 && n != 3 {
		return ErrNotScaled // CMYK, YCCK, or odd
	}
	if len(p) < 6+3*n {
		return errors.New("a short frame header")
	}
	for i := range n {
		c := p[6+3*i:]
		h, v := int(c[1]>>4), int(c[1]&15)
		if h < 1 || h > 4 || v < 1 || v > 4 || c[2] > 3 {
			return fmt.Errorf("component %d has sampling %dx%d, table %d", i, h, v, c[2])
		}
		if n == 1 {
			h, v = 1, 1 // one component is never subsampled
		}
		d.comps = append(d.comps, jcomp{id: c[0], h: h, v: v, tq: int(c[2])})
		d.hmax, d.vmax = max(d.hmax, h), max(d.vmax, v)
	}
	if n == 3 {
		// image.YCbCr holds luma at the full sampling and both chromas
		// alike, at a ratio it knows.
		y, cb, cr := d.comps[0], d.comps[1], d.comps[2]
		if y.h != d.hmax || y.v != d.vmax || cb.h != cr.h || cb.v != cr.v || d.subsample() < 0 {
			return ErrNotScaled
		}
	}
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
		c.cw = (d.width*c.h + 8*d.hmax - 1) / (8 * d.hmax)
		c.ch = (d.height*c.v + 8*d.vmax - 1) / (8 * d.vmax)
	}
	d.k = 64
	if d.shift == 3 {
		d.k = 1 // the DC coefficient is all a pixel of 1/8 needs
	}
	if d.probe {
		return nil
	}
	s := 8 >> d.shift // pixels per block side
	total := 0
	for i := range d.comps {
		c := &d.comps[i]
		c.stride = c.bw * s
		c.pix = make([]byte, c.stride*c.bh*s)
		total += c.bw * c.bh * d.k
	}
	if progressive {
		coef, free := offheap.Int16s(total)
		d.release = free
		for i := range d.comps {
			c := &d.comps[i]
			c.coef, coef = coef[:c.bw*c.bh*d.k:c.bw*c.bh*d.k], coef[c.bw*c.bh*d.k:]
		}
	}
	return nil
}

// memory is what a decode at 1/2^shift holds: the planes at that scale
// and, for a progressive file, the coefficients kept until its last scan.
func (d *jpegDec) memory(shift int) int64 {
	var m int64
	s := int64(8 >> shift)
	for _, c := range d.comps {
		blocks := int64(c.bw) * int64(c.bh)
		m += blocks * s * s
		if d.progressive {
			k := int64(64)
			if shift == 3 {
				k = 1
			}
			m += blocks * k * 2
		}
	}
	return m
}

// Memory reads the segments before the first scan and, for a file
// this decoder handles, returns the memory a decode at each scale holds.
func Memory(b []byte) func(shift int) int64 {
	d := &jpegDec{probe: true}
	ok := false
	Segments(b, func(marker byte, p []byte) bool {
		switch {
		case marker == 0xc0 || marker == 0xc1 || marker == 0xc2:
			ok = d.frame(p, marker == 0xc2) == nil
		case marker >= 0xc3 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8:
			ok = false
			return false
		case marker == 0xee:
			if len(p) >= 12 && string(p[:5]) == "Adobe" && p[11] == 0 {
				d.adobeRGB = true
			}
		}
		return true
	})
	if !ok || (d.adobeRGB && len(d.comps) != 1) {
		return nil
	}
	return d.memory
}

// subsample names the chroma ratio of a three-component frame, -1 for
// one image.YCbCr has no name for.
func (d *jpegDec) subsample() image.YCbCrSubsampleRatio {
	cb := d.comps[1]
	if d.hmax%cb.h != 0 || d.vmax%cb.v != 0 {
		return -1
	}
	switch [2]int{d.hmax / cb.h, d.vmax / cb.v} {
	case [2]int{1, 1}:
		return image.YCbCrSubsampleRatio444
	case [2]int{2, 1}:
		return image.YCbCrSubsampleRatio422
	case [2]int{2, 2}:
		return image.YCbCrSubsampleRatio420
	case [2]int{1, 2}:
		return image.YCbCrSubsampleRatio440
	case [2]int{4, 1}:
		return image.YCbCrSubsampleRatio411
	case [2]int{4, 2}:
		return image.YCbCrSubsampleRatio410
	}
	return -1
}

func (d *jpegDec) quantTables(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, int(p[0]&15)
		if tq > 3 || pq > 1 {
			return errors.New("a bad quantisation table")
		}
		n := 64 << pq
		if len(p) < 1+n {
			return errors.New("a short quantisation table")
		}
		for i := range 64 {
			v := int32(p[1+i])
			if pq == 1 {
				v = int32(binary.BigEndian.Uint16(p[1+2*i:]))
			}
			d.quant[tq][zigzag[i]] = v
		}
		d.haveQuant[tq] = true
		p = p[1+n:]
	}
	return nil
}

func (d *jpegDec) huffmanTables(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return errors.New("a short Huffman table")
		}
		tc, th := p[0]>>4, int(p[0]&15)
		if tc > 1 || th > 3 {
			return errors.New("a bad Huffman table")
		}
		var counts [16]int
		total := 0
		for i := range 16 {
			counts[i] = int(p[1+i])
			total += counts[i]
		}
		if total == 0 || total > 256 || len(p) < 17+total {
			return errors.New("a bad Huffman table")
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		if err := t.build(counts, p[17:17+total], tc == 0); err != nil {
			return err
		}
		p = p[17+total:]
	}
	return nil
}

// image assembles the planes into a picture the size libjpeg gives at this
// scale: each side divided and rounded up.
func (d *jpegDec) image() (image.Image, error) {
	if d.progressive {
		d.finishProgressive()
	}
	div := 1 << d.shift
	r := image.Rect(0, 0, (d.width+div-1)/div, (d.height+div-1)/div)
	if len(d.comps) == 1 {
		c := d.comps[0]
		return &image.Gray{Pix: c.pix, Stride: c.stride, Rect: r}, nil
	}
	if d.adobeRGB {
		return nil, ErrNotScaled
	}
	return &image.YCbCr{Y: d.comps[0].pix, Cb: d.comps[1].pix, Cr: d.comps[2].pix,
		YStride: d.comps[0].stride, CStride: d.comps[1].stride, SubsampleRatio: d.subsample(), Rect: r}, nil
}

// scan reads a scan header and decodes its entropy-coded data.
func (d *jpegDec) scan(p []byte) error {
	if len(p) < 1 {
		return errors.New("a short scan header")
	}
	n := int(p[0])
	if n < 1 || n > len(d.comps) || len(p) < 1+2*n+3 {
		return errors.New("a bad scan header")
	}
	var comps []*jcomp
	for i := range n {
		id, tables := p[1+2*i], p[2+2*i]
		var c *jcomp
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return fmt.Errorf("a scan of component %d, which the frame lacks", id)
		}
		for _, o := range comps {
			if o == c {
				return errors.New("a component twice in one scan")
			}
		}
		c.td, c.ta = int(tables>>4), int(tables&15)
		if c.td > 3 || c.ta > 3 {
			return errors.New("a bad Huffman table number")
		}
		if !d.haveQuant[c.tq] {
			return errors.New("a component without its quantisation table")
		}
		comps = append(comps, c)
	}
	ss, se := int(p[1+2*n]), int(p[2+2*n])
	ah, al := int(p[3+2*n]>>4), int(p[3+2*n]&15)
	if d.progressive {
		if ss > se || se > 63 || (ss == 0 && se != 0) || (ss > 0 && n != 1) || ah > 13 || al > 13 {
			return errors.New("a bad progressive scan")
		}
		if ss > 0 && d.k == 1 {
			// At 1/8 the AC coefficients are not needed: step over the
			// scan's data without decoding it.
			d.skipEntropy()
			return nil
		}
	} else if ss != 0 || se != 63 || ah != 0 || al != 0 {
		// Sequential scans always carry whole blocks; libjpeg ignores
		// these fields there too.
		ss, se, ah, al = 0, 63, 0, 0
	}
	total := 0
	for _, c := range comps {
		total += c.h * c.v
		if ss == 0 && ah == 0 && !d.dc[c.td].ok() {
			return errors.New("a scan uses a DC Huffman table never defined")
		}
		if (!d.progressive || ss > 0) && !d.ac[c.ta].ok() {
			return errors.New("a scan uses an AC Huffman table never defined")
		}
	}
	if n > 1 && total > 10 {
		return errors.New("an MCU of more than 10 blocks")
	}
	d.bits.start(d.data, d.pos)
	for _, c := range comps {
		c.pred = 0
	}
	d.eobrun = 0
	// Blocks in scan order: interleaved by MCU, or one component's own
	// blocks row by row.
	var unitsX, unitsY int
	if n == 1 {
		unitsX, unitsY = comps[0].cw, comps[0].ch
	} else {
		unitsX, unitsY = d.mcusX, d.mcusY
	}
	for _, c := range comps {
		d.dequant(c.tq)
	}
	var block [65]int32
	units := 0
	for uy := range unitsY {
		for ux := range unitsX {
			if d.restart > 0 && units > 0 && units%d.restart == 0 {
				if err := d.nextRestart(); err != nil {
					return err
				}
				for _, c := range comps {
					c.pred = 0
				}
				d.eobrun = 0
			}
			units++
			for _, c := range comps {
				bx0, by0, nx, ny := ux, uy, 1, 1
				if n > 1 {
					bx0, by0, nx, ny = ux*c.h, uy*c.v, c.h, c.v
				}
				for by := by0; by < by0+ny; by++ {
					for bx := bx0; bx < bx0+nx; bx++ {
						var err error
						if d.progressive {
							err = d.progressiveBlock(c, bx, by, ss, se, ah, al)
						} else {
							err = d.baselineBlock(c, bx, by, &block)
						}
						if err != nil {
							return err
						}
					}
				}
			}
			if d.bits.over() {
				return errShortJPEG
			}
		}
	}
	d.pos = d.bits.end()
	return nil
}

// nextRestart expects a restart marker at the next byte boundary.
func (d *jpegDec) nextRestart() error {
	p := d.bits.marker()
	for p < len(d.data) && d.data[p] == 0xff && p+1 < len(d.data) && d.data[p+1] == 0xff {
		p++
	}
	if p+1 >= len(d.data) || d.data[p] != 0xff || d.data[p+1] < 0xd0 || d.data[p+1] > 0xd7 {
		return errors.New("a restart marker is missing")
	}
	d.bits.start(d.data, p+2)
	return nil
}

// skipEntropy steps over a scan's entropy-coded data to the next marker
// that is not a restart marker.
func (d *jpegDec) skipEntropy() {
	p := d.pos
	for p+1 < len(d.data) {
		if d.data[p] == 0xff {
			if m := d.data[p+1]; m != 0 && (m < 0xd0 || m > 0xd7) && m != 0xff {
				break
			}
		}
		p++
	}
	d.pos = p
}

// receive reads an s-bit magnitude and extends its sign (F.2.2.1).
func (d *jpegDec) receive(s int) int32 {
	if s == 0 {
		return 0
	}
	v := int32(d.bits.read(s))
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// dcDiff decodes a block's DC difference (F.2.2.1) into the component's
// prediction.
func (d *jpegDec) dcDiff(c *jcomp) error {
	s, err := d.dc[c.td].decode(&d.bits)
	if err != nil {
		return err
	}
	if s > 11 {
		return errors.New("a DC difference of more than 11 bits")
	}
	c.pred += int(d.receive(int(s)))
	return nil
}

// baselineBlock decodes one block of a sequential scan and writes its
// pixels at this scale.
func (d *jpegDec) baselineBlock(c *jcomp, bx, by int, block *[65]int32) error {
	*block = [65]int32{}
	br := &d.bits
	if br.n < 32 {
		br.refill()
	}
	if f := d.dc[c.td].fast[br.acc>>(64-lookBits)]; f != 0 {
		// The code and the difference in one look, most blocks' case.
		br.consume(fastUsed(f))
		c.pred += int(fastValue(f))
	} else if err := d.dcDiff(c); err != nil {
		return err
	}
	q := &d.wq[c.tq]
	block[0] = int32(c.pred) * q[0]
	slot := &d.slot
	ac := &d.ac[c.ta]
	// The reader's bits live in locals here, where most of a photo's
	// decoding time goes, and are refilled (bitReader.refill) before
	// every code or two, so that a code (16 bits at most) and its value
	// (15) never need a check.
	acc, n, p := br.acc, br.n, br.p
	for k := 1; k < 64; k++ {
		if p > window-8 {
			br.acc, br.n, br.p = acc, n, p
			br.more()
			p = br.p
		}
		acc |= binary.BigEndian.Uint64(br.buf[p:]) >> n
		p += (63 - n) >> 3
		n |= 56
		if f := ac.fast[acc>>(64-lookBits)]; f != 0 {
			// The code and its value in one look.
			acc <<= fastUsed(f)
			n -= fastUsed(f)
			if k += fastRun(f); k > 63 {
				if fastIsEnd(f) {
					break
				}
				return errors.New("AC coefficients run past the block")
			}
			block[slot[k]] += fastValue(f) * q[k]
			// The next code fits in the bits left (at least 56-11), so
			// it is looked up without a refill: the refill's load waits
			// on the bits this code took.
			if k++; k > 63 {
				break
			}
			if f := ac.fast[acc>>(64-lookBits)]; f != 0 {
				acc <<= fastUsed(f)
				n -= fastUsed(f)
				if k += fastRun(f); k > 63 {
					if fastIsEnd(f) {
						break
					}
					return errors.New("AC coefficients run past the block")
				}
				block[slot[k]] += fastValue(f) * q[k]
				continue
			}
		}
		rs, l, ok := ac.symbol(acc)
		if !ok {
			return errBadHuffman
		}
		acc <<= l
		n -= l
		r, sz := rs>>4, rs&15
		if sz == 0 {
			if r != 15 {
				break // end of block
			}
			k += 15
			continue
		}
		if k += r; k > 63 {
			return errors.New("AC coefficients run past the block")
		}
		v := int32(acc >> (64 - sz))
		acc <<= sz
		n -= sz
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		block[slot[k]] += v * q[k]
	}
	br.acc, br.n, br.p = acc, n, p
	if bx < c.bw && by < c.bh {
		if d.inspect != nil {
			d.inspect(c, bx, by, block)
		}
		d.idct(c, bx, by, block)
	}
	return nil
}

// progressiveBlock decodes one block's part of a progressive scan (G.1.2)
// into the kept coefficients.
func (d *jpegDec) progressiveBlock(c *jcomp, bx, by, ss, se, ah, al int) error {
	if bx >= c.bw || by >= c.bh {
		return nil
	}
	coef := c.coef[(by*c.bw+bx)*d.k:][:d.k]
	if ss == 0 { // DC
		if ah == 0 {
			if err := d.dcDiff(c); err != nil {
				return err
			}
			coef[0] = int16(c.pred << al)
		} else if d.bits.read(1) != 0 {
			coef[0] |= int16(1 << al)
		}
		return nil
	}
	ac := &d.ac[c.ta]
	// The reader's bits in locals, as in baselineBlock: topped up to 32
	// before a code, enough for it and the bits after it. The block's
	// coefficients are kept in coding order, so a scan's band is one
	// run of memory.
	br := &d.bits
	acc, n := br.acc, br.n
	if ah == 0 { // first AC scan of a band
		if d.eobrun > 0 {
			d.eobrun--
			return nil
		}
		for k := ss; k <= se; k++ {
			if n < 32 {
				acc, n = br.topUp(acc, n)
			}
			if f := ac.fast[acc>>(64-lookBits)]; f != 0 {
				acc <<= fastUsed(f)
				n -= fastUsed(f)
				if k += fastRun(f); k > 63 {
					if fastIsEnd(f) { // end of band, the same as a run of one
						break
					}
					return errors.New("AC coefficients run past the block")
				}
				coef[k] = int16(fastValue(f) << al)
				continue
			}
			rs, l, ok := ac.symbol(acc)
			if !ok {
				return errBadHuffman
			}
			acc <<= l
			n -= l
			r, s := rs>>4, rs&15
			if s == 0 {
				if r < 15 {
					d.eobrun = 1<<r - 1
					if r > 0 {
						d.eobrun += int(acc >> (64 - r))
						acc <<= r
						n -= r
					}
					break
				}
				k += 15
				continue
			}
			if k += r; k > 63 {
				return errors.New("AC coefficients run past the block")
			}
			v := int32(acc >> (64 - s))
			acc <<= s
			n -= s
			if v < 1<<(s-1) {
				v += -1<<s + 1
			}
			coef[k] = int16(v << al)
		}
		br.acc, br.n = acc, n
		return nil
	}
	// A refinement scan (G.1.2.3): one more bit for every coefficient
	// already non-zero, and new coefficients of magnitude 1.
	p1, m1 := int16(1<<al), int16(-1<<al)
	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			if n < 32 {
				acc, n = br.topUp(acc, n)
			}
			rs, l, ok := ac.symbol(acc)
			if !ok {
				return errBadHuffman
			}
			acc <<= l
			n -= l
			r, s := rs>>4, rs&15
			var v int16
			if s == 0 {
				if r < 15 {
					d.eobrun = 1 << r
					if r > 0 {
						d.eobrun += int(acc >> (64 - r))
						acc <<= r
						n -= r
					}
					break
				}
			} else {
				if s != 1 {
					return errors.New("a refinement of more than one bit")
				}
				v = m1
				if acc>>63 != 0 {
					v = p1
				}
				acc <<= 1
				n--
			}
			// Skip r zero coefficients (refining the non-zero ones on
			// the way), then place v.
			for ; k <= se; k++ {
				if z := coef[k]; z != 0 {
					if n < 1 {
						acc, n = br.topUp(acc, n)
					}
					coef[k] = refined(z, acc>>63, p1)
					acc <<= 1
					n--
				} else {
					if r == 0 {
						if v != 0 {
							coef[k] = v
						}
						break
					}
					r--
				}
			}
		}
	}
	if d.eobrun > 0 {
		// The block is in an end-of-band run: only its non-zero
		// coefficients take a bit.
		for ; k <= se; k++ {
			if z := coef[k]; z != 0 {
				if n < 1 {
					acc, n = br.topUp(acc, n)
				}
				coef[k] = refined(z, acc>>63, p1)
				acc <<= 1
				n--
			}
		}
		d.eobrun--
	}
	br.acc, br.n = acc, n
	return nil
}

// refined is a non-zero coefficient z after its correction bit (G.1.2.3):
// a 1 adds p1 (the bit's weight) to its magnitude, unless it has that bit
// already.
func refined(z int16, bit uint64, p1 int16) int16 {
	if bit == 0 || z&p1 != 0 {
		return z
	}
	if z >= 0 {
		return z + p1
	}
	return z - p1
}

// finishProgressive turns the kept coefficients into pixels.
func (d *jpegDec) finishProgressive() {
	var block [65]int32
	for i := range d.comps {
		c := &d.comps[i]
		d.dequant(c.tq)
		q, slot := &d.wq[c.tq], &d.slot
		for by := range c.bh {
			for bx := range c.bw {
				coef := c.coef[(by*c.bw+bx)*d.k:][:d.k]
				block = [65]int32{}
				for k, v := range coef {
					block[slot[k]] += int32(v) * q[k]
				}
				d.idct(c, bx, by, &block)
			}
		}
		c.coef = nil
	}
}
