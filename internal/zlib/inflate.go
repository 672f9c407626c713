package zlib

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
)

// An inflater for PNG pixel data: a zlib stream (RFC 1950) of DEFLATE
// blocks (RFC 1951), read from the IDAT payloads in memory. It does what
// compress/zlib does, 1.4 times as fast on a photo's rows (BenchmarkInflate):
// the next 64 bits are kept in a register and filled eight bytes at a
// time, a symbol's code is looked up by its first 10 bits, and decoded
// bytes go straight into the window they are read back from. FuzzInflate
// holds it to compress/zlib's output and errors.

var (
	ErrCorrupt  = errors.New("corrupt compressed data")
	ErrShort    = errors.New("the compressed data ends too early")
	ErrChecksum = errors.New("the compressed data fails its checksum")
)

const (
	fastBits   = 10
	windowSize = 1 << 15 // how far back a match may reach
	outSize    = 1 << 16 // decoded at a time, after the history
	maxMatch   = 258     // the longest match
	winLen     = windowSize + outSize + maxMatch
	codeLimit  = 15  // the longest code
	litSymbols = 288 // 286 used
	endOfBlock = 256
	bitsWanted = 15 + 5 + 15 + 13 // a length and a distance, codes and extra bits
)

// huffDecoder decodes one Huffman code (3.2.2): codes up to fastBits long
// by one lookup of the next bits (LSB first), longer ones canonically from
// the count of codes of each length.
type huffDecoder struct {
	fast    [1 << fastBits]uint16 // symbol<<4 | length; 0 for a longer code
	count   [codeLimit + 1]uint16 // codes of each length
	symbols []uint16              // symbols ordered by code
}

// build makes the decoder for the code lengths of symbols 0, 1, ...
// (0 for an unused symbol). The code must be complete, but for a single
// code of length 1, which RFC 1951 allows for distances; an empty code is
// accepted and fails when used.
func (h *huffDecoder) build(lengths []uint8) error {
	*h = huffDecoder{symbols: h.symbols[:0]}
	n := 0
	for _, l := range lengths {
		h.count[l]++
		if l > 0 {
			n++
		}
	}
	h.count[0] = 0
	left := 1
	for l := 1; l <= codeLimit; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return ErrCorrupt // more codes than the lengths allow
		}
	}
	if left > 0 && n > 0 && !(n == 1 && h.count[1] == 1) {
		return ErrCorrupt // codes left unused
	}
	// The first code of each length (3.2.2), then each symbol's.
	var next [codeLimit + 2]int
	var offset [codeLimit + 2]int // where each length's symbols start
	code := 0
	for l := 1; l <= codeLimit; l++ {
		code = (code + int(h.count[l-1])) << 1
		next[l] = code
		offset[l+1] = offset[l] + int(h.count[l])
	}
	if cap(h.symbols) < n {
		h.symbols = make([]uint16, n)
	}
	h.symbols = h.symbols[:n]
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		h.symbols[offset[l]] = uint16(sym)
		offset[l]++
		if int(l) <= fastBits {
			// The code's bits arrive first bit first: reversed, and
			// every value of the bits after it.
			r := int(bits.Reverse16(uint16(c)) >> (16 - l))
			for i := r; i < 1<<fastBits; i += 1 << l {
				h.fast[i] = uint16(sym)<<4 | uint16(l)
			}
		}
	}
	return nil
}

// slow decodes a code longer than fastBits from b (next bit lowest): its
// symbol and length, or ok false for none.
func (h *huffDecoder) slow(b uint64) (sym, length int, ok bool) {
	code, first, index := 0, 0, 0
	for l := 1; l <= codeLimit; l++ {
		code |= int(b & 1)
		b >>= 1
		n := int(h.count[l])
		if code-first < n {
			return int(h.symbols[index+code-first]), l, true
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, 0, false
}

// Lengths and distances: base values and extra bits (3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order code length code lengths come in (3.2.7).
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// fixedLit and fixedDist are the codes of blocks compressed with fixed
// Huffman codes (3.2.6).
var fixedLit, fixedDist = func() (l, d *huffDecoder) {
	var ll [litSymbols]uint8
	for i := range ll {
		switch {
		case i < 144:
			ll[i] = 8
		case i < 256:
			ll[i] = 9
		case i < 280:
			ll[i] = 7
		default:
			ll[i] = 8
		}
	}
	var dl [32]uint8 // 30 and 31 are never used
	for i := range dl {
		dl[i] = 5
	}
	l, d = new(huffDecoder), new(huffDecoder)
	if l.build(ll[:]) != nil || d.build(dl[:]) != nil {
		panic("inflate: bad fixed codes")
	}
	return l, d
}()

// Reader is an io.Reader of the decompressed bytes.
type Reader struct {
	cur  []byte   // the input slice being read
	rest [][]byte // the slices after it
	bits uint64   // input bits not yet used, the next lowest
	n    uint     // how many
	pad  int      // zero bytes supplied past the end

	win        []byte // history, then bytes decoded but not yet read
	w, r       int    // decoded up to w; read up to r
	total      int64  // bytes decoded, for how far back a match may reach
	final      bool   // the last block has begun
	inBlock    bool   // a block is under way
	stored     int    // bytes of a stored block left; -1 in a coded block
	lit, dist  *huffDecoder
	dyn        [2]huffDecoder // a dynamic block's codes
	sum        uint32         // Adler-32 of the bytes read
	done       bool
	err        error
	clDecoder  huffDecoder
	lengthsBuf [litSymbols + 32]uint8
}

// NewReader reads the zlib header from the front of chunks.
func NewReader(chunks [][]byte) (*Reader, error) {
	f := &Reader{rest: chunks, win: make([]byte, winLen), sum: 1}
	cmf, flg := f.take(8), f.take(8)
	if f.overrun() {
		return nil, ErrShort
	}
	if cmf&0x0f != 8 || cmf>>4 > 7 || (cmf<<8|flg)%31 != 0 {
		return nil, errors.New("not a zlib stream")
	}
	if flg&0x20 != 0 {
		return nil, errors.New("a zlib stream with a preset dictionary")
	}
	return f, nil
}

// refill tops the bit register up to at least 57 bits, past the end with
// zero bytes (counted, so that using them is caught).
func (f *Reader) refill() {
	for f.n <= 56 {
		if len(f.cur) >= 8 {
			k := (64 - f.n) >> 3 // whole bytes that fit
			v := binary.LittleEndian.Uint64(f.cur)
			f.bits |= (v & (1<<(8*k) - 1)) << f.n
			f.cur = f.cur[k:]
			f.n += 8 * k
			continue
		}
		if len(f.cur) > 0 {
			f.bits |= uint64(f.cur[0]) << f.n
			f.cur = f.cur[1:]
			f.n += 8
			continue
		}
		if len(f.rest) > 0 {
			f.cur, f.rest = f.rest[0], f.rest[1:]
			continue
		}
		f.pad++
		f.n += 8
	}
}

func (f *Reader) consume(k uint) {
	f.bits >>= k
	f.n -= k
}

// take consumes and returns k bits (k <= 32), refilling first.
func (f *Reader) take(k uint) int {
	if f.n < k {
		f.refill()
	}
	v := int(f.bits & (1<<k - 1))
	f.consume(k)
	return v
}

// overrun reports whether bits past the end of the input were used.
func (f *Reader) overrun() bool { return f.pad*8 > int(f.n) }

// decodeSym reads one symbol of h; the register holds at least 15 bits.
func (f *Reader) decodeSym(h *huffDecoder) (int, error) {
	e := h.fast[f.bits&(1<<fastBits-1)]
	if e != 0 {
		f.consume(uint(e & 15))
		return int(e >> 4), nil
	}
	sym, l, ok := h.slow(f.bits)
	if !ok {
		return 0, ErrCorrupt
	}
	f.consume(uint(l))
	return sym, nil
}

// Read hands out decoded bytes, decoding more as needed.
func (f *Reader) Read(p []byte) (int, error) {
	for f.r == f.w {
		if f.err != nil {
			return 0, f.err
		}
		if f.done {
			return 0, io.EOF
		}
		if f.w >= windowSize+outSize {
			// Everything decoded was read: keep the last 32 KiB as
			// history at the front.
			copy(f.win, f.win[f.w-windowSize:f.w])
			f.w, f.r = windowSize, windowSize
		}
		if err := f.decode(); err != nil {
			// What this call decoded may come from past the end of
			// damaged data: none of it is handed out.
			f.err, f.w = err, f.r
		}
	}
	n := copy(p, f.win[f.r:f.w])
	f.sum = adlerUpdate(f.sum, f.win[f.r:f.r+n])
	f.r += n
	return n, nil
}

// decode decodes until the window's output part is full or the stream
// ends, then checks the checksum at the end.
func (f *Reader) decode() error {
	limit := windowSize + outSize
	for f.w < limit {
		if !f.inBlock {
			if f.final {
				if f.r != f.w {
					return nil // Read hands out the rest first
				}
				return f.finish()
			}
			if err := f.blockHeader(); err != nil {
				return err
			}
			continue
		}
		if f.stored >= 0 {
			if err := f.storedBytes(limit); err != nil {
				return err
			}
			continue
		}
		if err := f.codedSymbols(limit); err != nil {
			return err
		}
	}
	return nil
}

// finish reads the Adler-32 sum after the last block, once every byte
// decoded has been read (so that the running sum is complete).
func (f *Reader) finish() error {
	f.consume(f.n & 7) // to a byte boundary
	var want uint32
	for range 4 { // most significant byte first
		want = want<<8 | uint32(f.take(8))
	}
	if f.overrun() {
		return ErrShort
	}
	if want != f.sum {
		return ErrChecksum
	}
	f.done = true
	return nil
}

// blockHeader reads a block's type and, for a stored block, its length,
// for a dynamic one its codes (3.2.3).
func (f *Reader) blockHeader() error {
	h := f.take(3)
	f.final = h&1 == 1
	switch h >> 1 {
	case 0:
		f.consume(f.n & 7)
		length, nlength := f.take(16), f.take(16)
		if length != ^nlength&0xffff {
			return ErrCorrupt
		}
		f.stored = length
	case 1:
		f.stored, f.lit, f.dist = -1, fixedLit, fixedDist
	case 2:
		if err := f.dynamicCodes(); err != nil {
			return err
		}
		f.stored, f.lit, f.dist = -1, &f.dyn[0], &f.dyn[1]
	default:
		return ErrCorrupt
	}
	if f.overrun() {
		return ErrShort
	}
	f.inBlock = true
	return nil
}

// dynamicCodes reads the code lengths of a dynamic block (3.2.7).
func (f *Reader) dynamicCodes() error {
	nlit, ndist, ncl := f.take(5)+257, f.take(5)+1, f.take(4)+4
	if nlit > 286 || ndist > 30 {
		return ErrCorrupt
	}
	var cl [19]uint8
	for _, s := range clOrder[:ncl] {
		cl[s] = uint8(f.take(3))
	}
	if err := f.clDecoder.build(cl[:]); err != nil {
		return err
	}
	lengths := f.lengthsBuf[:nlit+ndist]
	for i := 0; i < len(lengths); {
		if f.n < 16 {
			f.refill()
		}
		sym, err := f.decodeSym(&f.clDecoder)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var v uint8
		var rep int
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			v, rep = lengths[i-1], 3+f.take(2)
		case 17:
			rep = 3 + f.take(3)
		default:
			rep = 11 + f.take(7)
		}
		if i+rep > len(lengths) {
			return ErrCorrupt
		}
		for range rep {
			lengths[i] = v
			i++
		}
		if f.overrun() {
			return ErrShort
		}
	}
	if lengths[endOfBlock] == 0 {
		return ErrCorrupt // a block that cannot end
	}
	if err := f.dyn[0].build(lengths[:nlit]); err != nil {
		return err
	}
	return f.dyn[1].build(lengths[nlit:])
}

// storedBytes copies a stored block's bytes to the window.
func (f *Reader) storedBytes(limit int) error {
	for f.stored > 0 && f.w < limit {
		if f.n < 8 {
			f.refill()
		}
		f.win[f.w] = byte(f.bits)
		f.consume(8)
		f.w++
		f.total++
		f.stored--
	}
	if f.overrun() {
		return ErrShort
	}
	if f.stored == 0 {
		f.inBlock = false
	}
	return nil
}

// codedSymbols decodes literals and matches until the block ends or the
// window is full. The bit register and the write position live in locals
// here, where nearly all the time goes.
func (f *Reader) codedSymbols(limit int) (err error) {
	lit, dist := f.lit, f.dist
	win := f.win[:limit+maxMatch]
	w0, w := f.w, f.w
	b, n := f.bits, f.n
	defer func() {
		f.bits, f.n = b, n
		f.total += int64(w - w0)
		f.w = w
	}()
	for w < limit {
		if n < bitsWanted {
			f.bits, f.n = b, n
			f.refill()
			b, n = f.bits, f.n
			if f.overrun() {
				return ErrShort
			}
		}
		var sym int
		if e := lit.fast[b&(1<<fastBits-1)]; e != 0 {
			b >>= e & 15
			n -= uint(e & 15)
			sym = int(e >> 4)
		} else {
			s, l, ok := lit.slow(b)
			if !ok {
				return ErrCorrupt
			}
			b >>= uint(l)
			n -= uint(l)
			sym = s
		}
		if sym < 256 {
			win[w] = byte(sym)
			w++
			continue
		}
		if sym == endOfBlock {
			f.inBlock = false
			return nil
		}
		sym -= 257
		if sym >= len(lengthBase) {
			return ErrCorrupt
		}
		x := lengthExtra[sym]
		length := int(lengthBase[sym]) + int(b&(1<<x-1))
		b >>= x
		n -= uint(x)
		var ds int
		if e := dist.fast[b&(1<<fastBits-1)]; e != 0 {
			b >>= e & 15
			n -= uint(e & 15)
			ds = int(e >> 4)
		} else {
			s, l, ok := dist.slow(b)
			if !ok {
				return ErrCorrupt
			}
			b >>= uint(l)
			n -= uint(l)
			ds = s
		}
		if ds >= len(distBase) {
			return ErrCorrupt
		}
		x = distExtra[ds]
		d := int(distBase[ds]) + int(b&(1<<x-1))
		b >>= x
		n -= uint(x)
		if int64(d) > f.total+int64(w-w0) {
			return ErrCorrupt // before the start of the data
		}
		// The window has room for a whole match past limit.
		src := w - d
		if d >= length {
			copy(win[w:w+length], win[src:src+length])
		} else {
			for i := range length { // overlapping: bytes just written
				win[w+i] = win[src+i]
			}
		}
		w += length
	}
	return nil
}

// adlerUpdate is RFC 1950's checksum, continued: two sums modulo 65521,
// reduced every 5552 bytes (the most that cannot overflow 32 bits).
func adlerUpdate(sum uint32, p []byte) uint32 {
	const mod = 65521
	a, b := sum&0xffff, sum>>16
	for len(p) > 0 {
		q := p[:min(len(p), 5552)]
		p = p[len(q):]
		for _, c := range q {
			a += uint32(c)
			b += a
		}
		a %= mod
		b %= mod
	}
	return b<<16 | a
}
