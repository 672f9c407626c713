package decode

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"os"
	"path/filepath"
	"testing"
)

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
	f, err := OpenBytes(name, data, lim)
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
