package jpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// window is how many bytes of entropy-coded data a bitReader holds at
// once, with its stuffed bytes taken out.
const window = 4096

// bitReader reads the entropy-coded data of a scan (F.2.2.5): bytes FF 00
// stand for FF, and a marker (FF followed by anything else) ends the data.
//
// It copies the data a window at a time without the stuffing, so that
// refilling its bits is the same few steps every time, with no test for
// FF and no branch on how many bits are left (refill): the decoding loop
// refills before each code. Past the end it supplies zero bits, as
// decoders do, counting them, so that a scan cut short is caught within a
// few blocks.
type bitReader struct {
	data  []byte
	src   int  // next byte of data to copy into buf
	ended bool // src is at the marker (or the end of data) that ends the scan's data
	// buf[:window] holds the data from p on; past the end, zeros. The 8
	// bytes after the window are always zero, for the last load.
	buf  [window + 8]byte
	p    int    // next byte of buf to load into acc
	zero int    // where in buf the zeros past the end begin, once ended
	acc  uint64 // bits not yet consumed, the next one highest
	n    int    // how many: 8*p counts the same bits in buf as n does in acc
}

// start makes b read the entropy-coded data that begins at data[pos].
func (b *bitReader) start(data []byte, pos int) {
	b.data, b.src, b.ended = data, pos, false
	b.p, b.acc, b.n = window, 0, 0
	b.more()
}

// more moves the unread bytes of buf to its front and copies data after
// them, up to a full window.
func (b *bitReader) more() {
	have := copy(b.buf[:], b.buf[b.p:window])
	b.zero -= b.p
	b.p = 0
	for have < window && !b.ended {
		room := b.buf[have:window]
		rest := b.data[b.src:min(len(b.data), b.src+len(room))]
		i := bytes.IndexByte(rest, 0xff)
		if i < 0 {
			have += copy(room, rest)
			b.src += len(rest)
			if b.src == len(b.data) {
				b.ended, b.zero = true, have
			}
			continue
		}
		have += copy(room, rest[:i])
		b.src += i
		if b.src+1 < len(b.data) && b.data[b.src+1] == 0x00 {
			b.buf[have] = 0xff
			have++
			b.src += 2
			continue
		}
		b.ended, b.zero = true, have // a marker: the data ends here
	}
	clear(b.buf[have:window])
}

// refill tops acc up to at least 56 bits. The load takes whole bytes
// after the n bits held, those already held included again (or-ing the
// same bits changes nothing), and p steps over the bytes now fully held.
func (b *bitReader) refill() {
	if b.p > window-8 {
		b.more()
	}
	b.acc |= binary.BigEndian.Uint64(b.buf[b.p:]) >> b.n
	b.p += (63 - b.n) >> 3
	b.n |= 56
}

// topUp refills the bits a decoding loop holds in locals.
func (b *bitReader) topUp(acc uint64, n int) (uint64, int) {
	b.acc, b.n = acc, n
	b.refill()
	return b.acc, b.n
}

// peek16 returns the next 16 bits without consuming them.
func (b *bitReader) peek16() uint32 {
	if b.n < 16 {
		b.refill()
	}
	return uint32(b.acc >> 48)
}

func (b *bitReader) consume(n int) {
	b.acc <<= n
	b.n -= n
}

// read consumes n bits (at most 16).
func (b *bitReader) read(n int) uint32 {
	if n == 0 {
		return 0
	}
	if b.n < n {
		b.refill()
	}
	v := uint32(b.acc >> (64 - n))
	b.consume(n)
	return v
}

// over reports whether the data ran out more than a little while ago: a
// decoder reads a few bytes ahead, so some padding is normal at the end.
func (b *bitReader) over() bool { return b.ended && b.p-b.zero > 16 }

// end is where the next marker search starts: the reader never passes a
// marker, so no byte of the next segment has been read.
func (b *bitReader) end() int { return b.src }

// marker finds the marker that ends the data, or len(data): where the
// reader will stop, however little of the data it has read. It reads
// ahead without copying, so the reader goes on where it was.
func (b *bitReader) marker() int {
	p := b.src
	for !b.ended && p < len(b.data) {
		i := bytes.IndexByte(b.data[p:], 0xff)
		if i < 0 {
			return len(b.data)
		}
		p += i
		if p+1 < len(b.data) && b.data[p+1] == 0x00 {
			p += 2
			continue
		}
		break
	}
	return p
}

// lookBits is how many bits a Huffman table looks up at once: 11 decodes
// a 12 MP photo 10% faster than 9 (more codes, and codes with their
// values, fit), in tables of 12 KiB.
const lookBits = 11

// huffman is a Huffman table (C.2): codes of up to 16 bits, looked up
// lookBits at a time, longer ones by their length.
type huffman struct {
	lut     [1 << lookBits]uint16 // symbol<<8 | length, 0 when longer than lookBits
	maxcode [18]int32             // the largest code of each length, -1 for none
	valptr  [17]int32             // index in vals of the first code of each length
	mincode [17]int32
	vals    []byte
	// fast holds for each lookBits bits the code and the value after it
	// when both fit: value<<11 | run<<4 | bits used, 0 where they do not
	// (fastUsed, fastRun, fastValue). For an AC table, end of block is
	// there as a run of fastEnd with no value, which takes the position
	// past the block's last (so it costs nothing where a block is walked:
	// only where the position passes 63 is it told from an error); the
	// run of sixteen zeros is not. For a DC table the run is always 0,
	// and a difference of 0 (no value bits) is there.
	fast [1 << lookBits]int32
}

// The parts of a fast entry, and the run that stands for end of block.
func fastUsed(f int32) int    { return int(f & 15) }
func fastRun(f int32) int     { return int(f >> 4 & 127) }
func fastValue(f int32) int32 { return f >> 11 }

const fastEnd = 64

// fastIsEnd says whether f, which took the position past 63, is end of
// block rather than a run past the block's end.
func fastIsEnd(f int32) bool { return f>>4 == fastEnd }

func (h *huffman) ok() bool { return h.vals != nil }

var errBadHuffman = errors.New("a bad Huffman code")

func (h *huffman) build(counts [16]int, vals []byte, dc bool) error {
	*h = huffman{vals: append([]byte(nil), vals...)}
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		n := counts[l-1]
		h.valptr[l] = int32(k)
		h.mincode[l] = code
		h.maxcode[l] = -1
		if n > 0 {
			h.maxcode[l] = code + int32(n) - 1
		}
		for range n {
			if code >= 1<<l {
				return errors.New("a Huffman table with more codes than its lengths allow")
			}
			if l <= lookBits {
				shift := lookBits - l
				for i := code << shift; i < (code+1)<<shift; i++ {
					h.lut[i] = uint16(vals[k])<<8 | uint16(l)
				}
			}
			code++
			k++
		}
		code <<= 1
	}
	h.maxcode[17] = 1 << 30 // ends the search
	for i, e := range h.lut {
		sym, l := int32(e>>8), int32(e&0xff)
		r, s := sym>>4, sym&15
		if l == 0 || l+s > lookBits || (s == 0 && !dc && r != 0) || (dc && (r != 0 || s > 11)) {
			continue
		}
		if s == 0 && !dc { // end of block
			r = fastEnd
		}
		v := int32(0)
		if s > 0 {
			v = int32(i) >> (lookBits - l - s) & (1<<s - 1)
			if v < 1<<(s-1) {
				v += -1<<s + 1
			}
		}
		h.fast[i] = v<<11 | r<<4 | (l + s)
	}
	return nil
}

// decode reads one symbol.
func (h *huffman) decode(b *bitReader) (byte, error) {
	b.peek16() // at least 16 bits held
	sym, l, ok := h.symbol(b.acc)
	if !ok {
		return 0, errBadHuffman
	}
	b.consume(l)
	return byte(sym), nil
}

// symbol finds the code at the top of acc (16 bits or more there): its
// symbol and length.
func (h *huffman) symbol(acc uint64) (sym, length int, ok bool) {
	if e := h.lut[acc>>(64-lookBits)]; e != 0 {
		return int(e >> 8), int(e & 0xff), true
	}
	return h.long(uint32(acc >> 48))
}

// long finds a code longer than lookBits in the next 16 bits:
// its symbol and length.
func (h *huffman) long(bits uint32) (sym, length int, ok bool) {
	for l := lookBits + 1; l <= 16; l++ {
		code := int32(bits >> (16 - l))
		if code <= h.maxcode[l] {
			i := h.valptr[l] + code - h.mincode[l]
			if i < 0 || int(i) >= len(h.vals) {
				return 0, 0, false
			}
			return int(h.vals[i]), l, true
		}
	}
	return 0, 0, false
}
