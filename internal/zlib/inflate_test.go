package zlib

import (
	"bytes"
	stdzlib "compress/zlib"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"slidestream/internal/benchphoto"
)

// inflateAll reads a whole stream split into chunks, at most limit bytes.
func inflateAll(chunks [][]byte, limit int64) ([]byte, error) {
	f, err := NewReader(chunks)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// zlibAll is the same by compress/zlib.
func zlibAll(data []byte, limit int64) ([]byte, error) {
	z, err := stdzlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(z, limit))
}

// split cuts data into n pieces at random places, some of them empty.
func split(rng *rand.Rand, data []byte, n int) [][]byte {
	var out [][]byte
	for range n - 1 {
		k := rng.IntN(len(data) + 1)
		out, data = append(out, data[:k]), data[k:]
	}
	return append(out, data)
}

// Every compression level compress/zlib writes (stored, fixed and dynamic
// blocks, long and overlapping matches), split into IDAT-like chunks,
// inflates to the bytes that went in; a stream cut short, one with a byte
// changed and one with a wrong checksum are refused.
func TestInflateMatchesZlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	photo := readFixture(t, "png-rgb.png")
	var inputs [][]byte
	inputs = append(inputs, photo, bytes.Repeat([]byte("abcabcabd"), 20000), make([]byte, 300000), nil, []byte{7})
	noise := make([]byte, 200000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	inputs = append(inputs, noise)
	// Runs of a few symbols: long matches at distance 1 and near 32 KiB.
	var runs []byte
	for i := 0; len(runs) < 400000; i++ {
		runs = append(runs, bytes.Repeat([]byte{byte(i)}, 1+rng.IntN(600))...)
		runs = append(runs, noise[rng.IntN(1000):][:rng.IntN(40000)]...)
	}
	inputs = append(inputs, runs)
	for i, in := range inputs {
		for _, level := range []int{stdzlib.NoCompression, stdzlib.BestSpeed, 6, stdzlib.BestCompression, stdzlib.HuffmanOnly} {
			var buf bytes.Buffer
			w, _ := stdzlib.NewWriterLevel(&buf, level)
			w.Write(in)
			w.Close()
			z := buf.Bytes()
			got, err := inflateAll(split(rng, z, 1+rng.IntN(6)), 1<<30)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("input %d, level %d: %d bytes, %v; want %d bytes", i, level, len(got), err, len(in))
			}
			if len(z) < 10 {
				continue
			}
			if _, err := inflateAll([][]byte{z[:len(z)-5]}, 1<<30); err == nil {
				t.Errorf("input %d, level %d: a stream cut short inflates", i, level)
			}
			bad := bytes.Clone(z)
			bad[len(bad)-1] ^= 1
			if _, err := inflateAll([][]byte{bad}, 1<<30); err != ErrChecksum {
				t.Errorf("input %d, level %d: a wrong checksum gives %v", i, level, err)
			}
		}
	}
}

// FuzzInflate: any bytes inflate to what compress/zlib makes of them, or
// fail where it fails, however they are split.
func FuzzInflate(f *testing.F) {
	for _, s := range []string{"hello, hello, hello", "", "\x00\x00\x00\x00"} {
		var buf bytes.Buffer
		w := stdzlib.NewWriter(&buf)
		w.Write([]byte(s))
		w.Close()
		f.Add(buf.Bytes(), uint8(3))
	}
	f.Add(readFixture(f, "png-rgb.png"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		const limit = 1 << 20
		want, werr := zlibAll(data, limit)
		k := int(cut) % (len(data) + 1)
		got, gerr := inflateAll([][]byte{data[:k], data[k:]}, limit)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("compress/zlib: %v; here: %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("%d bytes; compress/zlib makes %d", len(got), len(want))
		}
	})
}

// BenchmarkInflate: the pixel data of a 12.5-megapixel PNG photo (the
// benchmark photo's RGB rows, each after a Sub filter byte, compressed by
// compress/zlib at its default level), here and by compress/zlib.
func BenchmarkInflate(b *testing.B) {
	pixels := benchPixels(b)
	r := pixels.Bounds()
	var raw []byte
	for y := r.Min.Y; y < r.Max.Y; y++ {
		raw = append(raw, 1)
		var prev [3]byte
		for x := r.Min.X; x < r.Max.X; x++ {
			c, g, bl, _ := pixels.At(x, y).RGBA()
			p := [3]byte{byte(c >> 8), byte(g >> 8), byte(bl >> 8)}
			raw = append(raw, p[0]-prev[0], p[1]-prev[1], p[2]-prev[2])
			prev = p
		}
	}
	var z bytes.Buffer
	w := stdzlib.NewWriter(&z)
	w.Write(raw)
	w.Close()
	b.Run("own", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if out, err := inflateAll([][]byte{z.Bytes()}, 1<<30); err != nil || len(out) != len(raw) {
				b.Fatal(err)
			}
		}
	})
	b.Run("compress-zlib", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if out, err := zlibAll(z.Bytes(), 1<<30); err != nil || len(out) != len(raw) {
				b.Fatal(err)
			}
		}
	})
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// benchPixels is the 12.5-megapixel benchmark photo, decoded.
func benchPixels(b *testing.B) image.Image {
	b.Helper()
	m, err := benchphoto.Pixels(filepath.Join("..", "..", "testdata"))
	if err != nil {
		b.Fatal(err)
	}
	return m
}
