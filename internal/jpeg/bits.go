package jpeg

import (
	"encoding/binary"
	"errors"
)

// hasFF reports whether any byte of w is 0xFF.
func hasFF(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	v := ^w // FF bytes become 00
	return (v-lo)&^v&hi != 0
}

// bitReader reads the entropy-coded data of a scan (F.2.2.5): bytes FF 00
// stand for FF, and a marker (FF followed by anything else) ends the data.
// Past the end it supplies zero bits, as decoders do, counting them, so
// that a scan cut short is caught within a few blocks.
type bitReader struct {
	data   []byte
	pos    int    // next byte to read
	acc    uint64 // bits not yet consumed, the next one highest
	n      int    // how many
	padded int    // zero bytes supplied past the end
}

func (b *bitReader) fill() {
	// Whole bytes at once while none of the next eight is FF, the usual
	// case; byte by byte near FF and at the end.
	if b.pos+8 <= len(b.data) {
		if w := binary.BigEndian.Uint64(b.data[b.pos:]); !hasFF(w) {
			k := (64 - b.n) / 8
			b.acc |= (w >> (64 - 8*k)) << (64 - 8*k - b.n)
			b.n += 8 * k
			b.pos += k
			return
		}
	}
	for b.n <= 56 {
		var c byte
		switch {
		case b.pos >= len(b.data):
			b.padded++
		case b.data[b.pos] != 0xff:
			c = b.data[b.pos]
			b.pos++
		case b.pos+1 < len(b.data) && b.data[b.pos+1] == 0x00:
			c = 0xff
			b.pos += 2
		default: // a marker: the data ends here
			b.padded++
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

// peek returns the next 16 bits without consuming them.
func (b *bitReader) peek16() uint32 {
	if b.n < 16 {
		b.fill()
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
		b.fill()
	}
	v := uint32(b.acc >> (64 - n))
	b.consume(n)
	return v
}

// over reports whether the data ran out more than a little while ago: a
// decoder reads a few bytes ahead, so some padding is normal at the end.
func (b *bitReader) over() bool { return b.padded > 16 }

// end is where the next marker search starts: the reader never passes a
// marker, so no byte of the next segment has been read.
func (b *bitReader) end() int { return b.pos }

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
	// fastAC, for an AC table, holds for each lookBits bits the code and the
	// value after it when both fit: value<<8 | run<<4 | bits used, 0
	// where they do not.
	fastAC [1 << lookBits]int32
}

func (h *huffman) ok() bool { return h.vals != nil }

var errBadHuffman = errors.New("a bad Huffman code")

func (h *huffman) build(counts [16]int, vals []byte) error {
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
		if l == 0 || s == 0 || l+s > lookBits {
			continue
		}
		v := int32(i) >> (lookBits - l - s) & (1<<s - 1)
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		h.fastAC[i] = v<<8 | r<<4 | (l + s)
	}
	return nil
}

// decode reads one symbol.
func (h *huffman) decode(b *bitReader) (byte, error) {
	bits := b.peek16()
	if e := h.lut[bits>>(16-lookBits)]; e != 0 {
		b.consume(int(e & 0xff))
		return byte(e >> 8), nil
	}
	sym, l, ok := h.long(bits)
	if !ok {
		return 0, errBadHuffman
	}
	b.consume(l)
	return byte(sym), nil
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
