package decode

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets the test binary serve as a HEIC decode child, as the
// server's binary does.
func TestMain(m *testing.M) {
	ServeChild()
	os.Exit(m.Run())
}

func fixture(name string) string { return filepath.Join("..", "testdata", name) }

// benchPixels is the 12.5-megapixel benchmark photo, decoded.
func benchPixels(b *testing.B) image.Image {
	b.Helper()
	f, err := Open(fixture("bench/photo-12mp.webp"), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, err := f.Decode(Options{})
	if err != nil {
		b.Fatal(err)
	}
	return img.Pixels
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// read opens path and decodes it, as a transcode does.
func read(path string, lim Limits, o Options) (*Image, error) {
	f, err := Open(path, lim)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Decode(o)
}

// readBytes is read for bytes in memory.
func readBytes(name string, data []byte, lim Limits, o Options) (*Image, error) {
	f, err := openBytes(name, data, lim)
	if err != nil {
		return nil, err
	}
	return f.Decode(o)
}

// pngClaiming builds a valid PNG signature and IHDR claiming w×h, followed by
// a tiny IDAT: enough for DecodeConfig, far too little for the pixels.
func pngClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// jpegClaiming rewrites the frame header (SOF) of a real JPEG to claim w×h.
func jpegClaiming(t *testing.T, w, h uint16) []byte {
	b := bytes.Clone(readFixture(t, "jpeg-420.jpg"))
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			t.Fatal("lost marker sync")
		}
		m, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xc0 || m == 0xc2 {
			binary.BigEndian.PutUint16(b[i+5:], h)
			binary.BigEndian.PutUint16(b[i+7:], w)
			return b
		}
		i += 2 + n
	}
	t.Fatal("no SOF marker in fixture")
	return nil
}

// webpClaiming builds a lossy WebP whose VP8 key frame header claims w×h.
func webpClaiming(t *testing.T, w, h uint16) []byte {
	b := bytes.Clone(readFixture(t, "webp-lossy.webp"))
	i := bytes.Index(b, []byte("VP8 "))
	if i < 0 {
		t.Fatal("no VP8 chunk in fixture")
	}
	// Chunk header (8), frame tag (3), start code (3), then 14-bit sizes.
	binary.LittleEndian.PutUint16(b[i+14:], w&0x3fff)
	binary.LittleEndian.PutUint16(b[i+16:], h&0x3fff)
	return b
}

// The sRGB tone curve both ways (IEC 61966-2-1) and a matrix times a
// vector, as the published conversion is written.
func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func linearToSRGB(v float64) float64 {
	if v <= 0.0031308 {
		return v * 12.92
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

func times(m [3][3]float64, v [3]float64) (out [3]float64) {
	for i := range 3 {
		out[i] = m[i][0]*v[0] + m[i][1]*v[1] + m[i][2]*v[2]
	}
	return out
}

func mul(a, b [3][3]float64) (c [3][3]float64) {
	for i := range 3 {
		for j := range 3 {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return c
}

// invert inverts a 3×3 matrix by its cofactors.
func invert(m [3][3]float64) (out [3][3]float64) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	for i := range 3 {
		for j := range 3 {
			a, b := (j+1)%3, (j+2)%3
			c, d := (i+1)%3, (i+2)%3
			out[i][j] = (m[a][c]*m[b][d] - m[a][d]*m[b][c]) / det
		}
	}
	return out
}
