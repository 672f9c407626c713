package encode

// The vertical pass: each output row a weighted sum of whole source rows.
// Where the machine has a vector kernel for it (rowsInVectors), sixteen
// samples of a row are summed at once, two source rows to an instruction,
// and resizePlane runs this pass first, over the plane's full width, so
// that the scalar pass across works on the few output rows instead of
// every source row.

// pairUp packs ws two to a 32-bit word, each weight as 16 bits (the
// first low), a last one alone beside a zero, into dst, which holds
// (len(ws)+1)/2 words: what the vector kernel takes. It returns nil when
// a weight does not fit 16 bits, which Lanczos-3 weights of
// 1<<weightBits in all never do.
func pairUp(dst, ws []int32) []int32 {
	dst = dst[:(len(ws)+1)/2]
	clear(dst)
	for i, w := range ws {
		if w != int32(int16(w)) {
			return nil
		}
		dst[i/2] |= int32(uint32(uint16(w)) << (16 * uint(i%2)))
	}
	return dst
}

// weighRows sets d[i] to the sum over t's weights w[k]·src[k·stride+i],
// rounded off its weightBits and clamped to a byte, for every i < len(d):
// src starts at the first of t's rows. acc is scratch for the scalar
// kernel, grown as needed.
func weighRows(d, src []uint8, stride int, t taps, acc *[]int32) {
	n := len(t.weights)
	if n == 0 || len(d) == 0 {
		return
	}
	if (n-1)*stride+len(d) > len(src) {
		panic("encode: weighRows reads past its source")
	}
	if rowsInVectors && len(d) >= 16 && t.pairs != nil {
		// The last sixteen again if the width is not a multiple: their
		// sums are the same, written twice.
		full := len(d) &^ 15
		weighRows16(&d[0], full, &src[0], stride, &t.pairs[0], n)
		if full < len(d) {
			weighRows16(&d[len(d)-16], 16, &src[len(d)-16], stride, &t.pairs[0], n)
		}
		return
	}
	weighRowsScalar(d, src, stride, t.weights, acc)
}

// weighRowsScalar is weighRows one sample at a time, four rows per pass
// over the sums.
func weighRowsScalar(d, src []uint8, stride int, ws []int32, accp *[]int32) {
	if cap(*accp) < len(d) {
		*accp = make([]int32, len(d))
	}
	acc := (*accp)[:len(d)]
	clear(acc)
	r := 0
	for ; len(ws) >= 4; ws, r = ws[4:], r+4 {
		w0, w1, w2, w3 := ws[0], ws[1], ws[2], ws[3]
		a, b := src[r*stride:][:len(acc)], src[(r+1)*stride:][:len(acc)]
		c, e := src[(r+2)*stride:][:len(acc)], src[(r+3)*stride:][:len(acc)]
		for i := range acc {
			acc[i] += w0*int32(a[i]) + w1*int32(b[i]) + w2*int32(c[i]) + w3*int32(e[i])
		}
	}
	for ; len(ws) > 0; ws, r = ws[1:], r+1 {
		w0 := ws[0]
		for i, v := range src[r*stride:][:len(acc)] {
			acc[i] += w0 * int32(v)
		}
	}
	for i, v := range acc {
		d[i] = clamp8(v)
	}
}

// eighths gives each of tx (made for src inputs) its weights as 16 bits,
// zero-padded to a multiple of 8 (w8), and where they start (at8): moved
// left where the padding would reach past the last input, so the vector
// pass across reads only inputs. All of tx keep w8 nil where a weight
// does not fit 16 bits or the padded weights are wider than the source.
func eighths(tx []taps, src int) {
	n := 0
	for _, t := range tx {
		k := (len(t.weights) + 7) &^ 7
		if t.pairs == nil || k > src {
			return
		}
		n += k
	}
	buf := make([]int16, n)
	for i, t := range tx {
		k := (len(t.weights) + 7) &^ 7
		at := min(t.start, src-k)
		w8 := buf[:k:k]
		for j, w := range t.weights {
			w8[t.start-at+j] = int16(w)
		}
		tx[i].at8, tx[i].w8 = at, w8
		buf = buf[k:]
	}
}
