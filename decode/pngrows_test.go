package decode

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// rowsOf reads every row of p into one image: *image.NRGBA for 8-bit
// files, *image.NRGBA64 for 16-bit ones.
func rowsOf(p *PNGRows) (image.Image, error) {
	ch, depth := p.Channels(), p.Depth()
	// sample returns sample i of the pixel at x, widened to 16 bits.
	sample := func(row []byte, x, i int) uint16 {
		if depth == 8 {
			return uint16(row[ch*x+i]) * 0x101
		}
		o := 2 * (ch*x + i)
		return uint16(row[o])<<8 | uint16(row[o+1])
	}
	m8, m16 := image.NewNRGBA(p.Bounds()), image.NewNRGBA64(p.Bounds())
	y := 0
	err := p.Rows(func(row []byte) {
		for x := 0; x < p.w; x++ {
			var c color.NRGBA64
			switch ch {
			case 1:
				v := sample(row, x, 0)
				c = color.NRGBA64{v, v, v, 0xffff}
			case 2:
				v := sample(row, x, 0)
				c = color.NRGBA64{v, v, v, sample(row, x, 1)}
			case 3:
				c = color.NRGBA64{sample(row, x, 0), sample(row, x, 1), sample(row, x, 2), 0xffff}
			case 4:
				c = color.NRGBA64{sample(row, x, 0), sample(row, x, 1), sample(row, x, 2), sample(row, x, 3)}
			}
			m16.SetNRGBA64(x, y, c)
			m8.SetNRGBA(x, y, color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)})
		}
		y++
	})
	if depth == 8 {
		return m8, err
	}
	return m16, err
}

// samePixels fails unless got (from rowsOf) has the pixels of want, as
// image/png decoded them, compared at the file's own precision.
func samePixels(t testing.TB, got, want image.Image) {
	t.Helper()
	model := got.ColorModel()
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := got.At(x, y), model.Convert(want.At(x, y)); g != w {
				t.Fatalf("pixel (%d,%d) = %v; image/png decodes %v", x, y, g, w)
			}
		}
	}
}

// sameAsStdlib fails unless the rows of p are the pixels image/png decodes
// from the same file.
func sameAsStdlib(t *testing.T, p *PNGRows, data []byte) {
	t.Helper()
	got, err := rowsOf(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	samePixels(t, got, want)
}

// chunk appends one PNG chunk with its CRC.
func chunk(b []byte, kind string, body []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	start := len(b)
	b = append(b, kind...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// filtered builds a PNG of w×h noisy, banded pixels (channels samples of
// depth bits each) in which row y uses filter type y%5, so every filter is
// exercised in every position. The pixel data is split over several IDAT
// chunks.
func filtered(t *testing.T, w, h, channels, depth int, seed uint64) []byte {
	bpp := channels * depth / 8
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	raw := make([][]byte, h)
	for y := range raw {
		raw[y] = make([]byte, w*bpp)
		for i := range raw[y] {
			// Smooth bands plus noise, so predictors both hit and miss.
			raw[y][i] = uint8(i/7+y*3) + uint8(rng.IntN(1+y%4*20))
		}
	}
	var stream bytes.Buffer
	z := zlib.NewWriter(&stream)
	prev := make([]byte, w*bpp)
	for y, cur := range raw {
		kind := byte(y % 5)
		out := make([]byte, len(cur))
		for i := range cur {
			var a, b, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b = int(prev[i])
			var pred int
			switch kind {
			case 1:
				pred = a
			case 2:
				pred = b
			case 3:
				pred = (a + b) / 2
			case 4:
				p := a + b - c
				pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
				switch {
				case pa <= pb && pa <= pc:
					pred = a
				case pb <= pc:
					pred = b
				default:
					pred = c
				}
			}
			out[i] = cur[i] - uint8(pred)
		}
		z.Write([]byte{kind})
		z.Write(out)
		prev = cur
	}
	z.Close()
	ctype := map[int]byte{1: 0, 2: 4, 3: 2, 4: 6}[channels]
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, byte(depth), ctype, 0, 0, 0)
	out := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	data := stream.Bytes()
	for len(data) > 0 {
		n := min(len(data), 1000)
		out = chunk(out, "IDAT", data[:n])
		data = data[n:]
	}
	return chunk(out, "IEND", nil)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func openRows(t *testing.T, data []byte) *PNGRows {
	t.Helper()
	img, err := readBytes("test.png", data, Limits{}, Options{Rows: true})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := img.Pixels.(*PNGRows)
	if !ok {
		t.Fatalf("Decode with Rows gave %T; want *PNGRows", img.Pixels)
	}
	return p
}

func TestPNGRowsEveryFilter(t *testing.T) {
	for _, channels := range []int{1, 2, 3, 4} {
		for _, depth := range []int{8, 16} {
			for _, w := range []int{1, 2, 37} {
				t.Run(fmt.Sprintf("%d channels, %d bits, %d wide", channels, depth, w), func(t *testing.T) {
					data := filtered(t, w, 23, channels, depth, uint64(w))
					sameAsStdlib(t, openRows(t, data), data)
				})
			}
		}
	}
}

func TestPNGRowsFixtures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "*.png"))
	rows := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := readBytes(path, data, Limits{}, Options{Rows: true})
		if err != nil {
			t.Fatal(err)
		}
		p, ok := img.Pixels.(*PNGRows)
		if !ok {
			continue // palette, interlaced: decoded by image/png
		}
		rows++
		t.Run(filepath.Base(path), func(t *testing.T) { sameAsStdlib(t, p, data) })
	}
	if rows < 7 {
		t.Fatalf("only %d fixtures are read by rows; want every grey, grey+alpha, RGB and RGBA one, 8 and 16 bits", rows)
	}
}

// The kinds of PNG Rows does not read go to image/png, whole.
func TestPNGRowsFallback(t *testing.T) {
	for _, name := range []string{"png-interlaced.png", "png-palette.png"} {
		img, err := read(fixture(name), Limits{}, Options{Rows: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := img.Pixels.(*PNGRows); ok {
			t.Errorf("%s: Decode with Rows gave *PNGRows; want image/png's pixels", name)
		}
	}
	// A colour key (tRNS) on an RGB image.
	m := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	var b bytes.Buffer
	png.Encode(&b, m)
	data := b.Bytes()
	iend := bytes.LastIndex(data, []byte("IEND")) - 4
	idat := bytes.Index(data, []byte("IDAT")) - 4
	keyed := chunk(append([]byte{}, data[:idat]...), "tRNS", []byte{0, 1, 0, 2, 0, 3})
	keyed = append(keyed, data[idat:iend]...)
	keyed = chunk(keyed, "IEND", nil)
	if img, err := readBytes("keyed.png", keyed, Limits{}, Options{Rows: true}); err == nil {
		if _, ok := img.Pixels.(*PNGRows); ok {
			t.Error("an RGB PNG with tRNS was read by rows; the colour key would be lost")
		}
	}
}

// Damage inside the compressed data is found while reading rows and
// reported as the file's fault; damage to the chunks is found at once.
func TestPNGRowsCorrupt(t *testing.T) {
	good := filtered(t, 64, 64, 3, 8, 7)
	idat := bytes.Index(good, []byte("IDAT")) - 4

	// Flip a byte inside the second IDAT chunk and fix its CRC: only
	// inflating finds it.
	bad := bytes.Clone(good)
	second := idat + 12 + 1000
	bad[second+8+500] ^= 0x55
	n := binary.BigEndian.Uint32(bad[second:])
	binary.BigEndian.PutUint32(bad[second+8+int(n):], crc32.ChecksumIEEE(bad[second+4:second+8+int(n)]))

	// Cut the pixel data short but keep a well-formed chunk list.
	short := chunk(bytes.Clone(good[:idat]), "IDAT", good[idat+8:idat+8+700])
	short = chunk(short, "IEND", nil)

	for name, data := range map[string][]byte{"flipped byte": bad, "short data": short} {
		t.Run(name, func(t *testing.T) {
			p := openRows(t, data)
			_, err := rowsOf(p)
			var de *Error
			if !errors.As(err, &de) || !errors.Is(err, ErrCorrupt) || de.File != "test.png" {
				t.Fatalf("Rows error = %v; want a *decode.Error with ErrCorrupt naming the file", err)
			}
			t.Log(err)
		})
	}

	// A bad CRC is refused by Open, as image/png refuses it in File.
	crc := bytes.Clone(good)
	crc[idat+8] ^= 1
	if _, err := readBytes("crc.png", crc, Limits{}, Options{Rows: true}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Decode of a PNG with a bad CRC: err = %v; want ErrCorrupt", err)
	}
}

// A PNG budgeted as rows that the row reader refuses (here a chunk between
// two IDATs, which image/png refuses too) is refused without a whole
// decode: image/png would first allocate the whole picture.
func TestPNGRowsRefusalIsNotDecodedWhole(t *testing.T) {
	good := filtered(t, 2000, 1500, 4, 8, 3) // 12 MB of pixels, its data in several IDATs
	second := bytes.Index(good[bytes.Index(good, []byte("IDAT"))+4:], []byte("IDAT")) + bytes.Index(good, []byte("IDAT")) + 4 - 4
	split := chunk(append([]byte{}, good[:second]...), "tEXt", []byte("Comment\x00between"))
	split = append(split, good[second:]...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readBytes("split.png", split, Limits{}, Options{Rows: true})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Decode = %v; want ErrCorrupt", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("refusing it allocated %d MB; want no picture allocated", alloc>>20)
	}
	if _, err := png.Decode(bytes.NewReader(split)); err == nil {
		t.Error("image/png decodes the file; the row reader must too")
	}
}
