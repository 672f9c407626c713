package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func fixture(name string) string { return filepath.Join("..", "testdata", name) }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileAcceptsEveryKind(t *testing.T) {
	tests := []struct {
		file        string
		format      Format
		w, h        int
		pixels      string // Go type of Image.Pixels
		orientation Orientation
	}{
		{"jpeg-420.jpg", JPEG, 160, 120, "*image.YCbCr", 1},
		{"jpeg-422.jpg", JPEG, 160, 120, "*image.YCbCr", 1},
		{"jpeg-444.jpg", JPEG, 160, 120, "*image.YCbCr", 1},
		{"jpeg-progressive.jpg", JPEG, 160, 120, "*image.YCbCr", 1},
		{"jpeg-gray.jpg", JPEG, 160, 120, "*image.Gray", 1},
		{"jpeg-cmyk.jpg", JPEG, 160, 120, "*image.CMYK", 1},
		{"jpeg-ycck.jpg", JPEG, 160, 120, "*image.CMYK", 1},
		{"jpeg-thumbnail.jpg", JPEG, 160, 120, "*image.YCbCr", 1},
		{"orient-1.jpg", JPEG, 64, 48, "*image.YCbCr", 1},
		{"orient-2.jpg", JPEG, 64, 48, "*image.YCbCr", 2},
		{"orient-3.jpg", JPEG, 64, 48, "*image.YCbCr", 3},
		{"orient-4.jpg", JPEG, 64, 48, "*image.YCbCr", 4},
		{"orient-5.jpg", JPEG, 48, 64, "*image.YCbCr", 5},
		{"orient-6.jpg", JPEG, 48, 64, "*image.YCbCr", 6},
		{"orient-7.jpg", JPEG, 48, 64, "*image.YCbCr", 7},
		{"orient-8.jpg", JPEG, 48, 64, "*image.YCbCr", 8},
		{"orient-6.png", PNG, 48, 64, "*image.Paletted", 6},
		{"orient-6.webp", WebP, 48, 64, "*image.NRGBA", 6},
		{"png-rgb.png", PNG, 160, 120, "*image.RGBA", 1},
		{"png-rgb16.png", PNG, 160, 120, "*image.RGBA64", 1},
		{"png-gray.png", PNG, 160, 120, "*image.Gray", 1},
		{"png-gray16.png", PNG, 160, 120, "*image.Gray16", 1},
		{"png-graya.png", PNG, 64, 24, "*image.NRGBA", 1},
		{"png-interlaced.png", PNG, 160, 120, "*image.RGBA", 1},
		{"png-rgba.png", PNG, 64, 24, "*image.NRGBA", 1},
		{"png-rgba16.png", PNG, 64, 24, "*image.NRGBA64", 1},
		{"png-palette.png", PNG, 64, 24, "*image.Paletted", 1},
		{"png-named.jpg", PNG, 160, 120, "*image.RGBA", 1},
		{"webp-lossy.webp", WebP, 160, 120, "*decode.VideoYCbCr", 1},
		{"webp-lossy-alpha.webp", WebP, 64, 24, "*decode.VideoNYCbCrA", 1},
		{"webp-lossless.webp", WebP, 160, 120, "*image.NRGBA", 1},
		{"webp-lossless-alpha.webp", WebP, 64, 24, "*image.NRGBA", 1},
		{"gif-animated.gif", GIF, 64, 48, "*image.Paletted", 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img, err := File(fixture(tt.file), Limits{})
			if err != nil {
				t.Fatalf("File(%q) error: %v", tt.file, err)
			}
			b := img.Pixels.Bounds()
			if img.Format != tt.format || b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("File(%q) = %s %dx%d; want %s %dx%d", tt.file, img.Format, b.Dx(), b.Dy(), tt.format, tt.w, tt.h)
			}
			if got := fmt.Sprintf("%T", img.Pixels); got != tt.pixels {
				t.Errorf("File(%q) pixels are %s; want %s", tt.file, got, tt.pixels)
			}
			if img.Orientation != tt.orientation {
				t.Errorf("File(%q) orientation = %d; want %d", tt.file, img.Orientation, tt.orientation)
			}
		})
	}
}

// pngHeader builds a valid PNG signature and IHDR claiming w×h, followed by
// a tiny IDAT: enough for DecodeConfig, far too little for the pixels.
func pngHeader(w, h uint32) []byte {
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

func TestFileRejectsHostileInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := readFixture(t, "jpeg-progressive.jpg")
	random := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{1}).Read(random)
	random[0] = 0x42 // not a magic number by accident

	fifo := filepath.Join(dir, "pipe.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.png")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.jpg")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(good[:100])
	if err := f.Truncate(300 << 20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()

	tests := []struct {
		name string
		path string
		want error
		says string // part of the message a user reads
	}{
		{"empty", write("empty.jpg", nil), ErrUnknownFormat, "empty"},
		{"truncated", write("truncated.jpg", good[:len(good)/2]), ErrCorrupt, "truncated"},
		{"random bytes", write("random.webp", random), ErrUnknownFormat, "not a JPEG, PNG, WebP or GIF"},
		{"text named png", write("notes.png", []byte("these are my holiday notes\n")), ErrUnknownFormat, "text"},
		{"png bomb", write("bomb.png", pngHeader(100000, 100000)), ErrTooManyPixels, "100000x100000 is 10000 megapixels, over --max-pixels 50"},
		{"jpeg bomb", write("bomb.jpg", jpegClaiming(t, 65500, 65500)), ErrTooManyPixels, "65500x65500 is 4290 megapixels"},
		{"webp bomb", write("bomb.webp", webpClaiming(t, 16383, 16383)), ErrTooManyPixels, "16383x16383 is 268 megapixels"},
		{"animated webp", fixture("webp-animated.webp"), ErrAnimated, "animated WebP"},
		{"fifo", fifo, ErrNotRegular, "named pipe"},
		{"symlink to /dev/zero", zero, ErrNotRegular, "character device"},
		{"directory", dir, ErrNotRegular, "directory"},
		{"300 MB file", huge, ErrFileTooLarge, "300 MiB is over --max-file-size 64 MiB"},
		{"missing", filepath.Join(dir, "gone.jpg"), ErrUnreadable, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			done := make(chan struct{})
			var img *Image
			var err error
			go func() {
				defer close(done)
				img, err = File(tt.path, Limits{})
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("File(%q) still running after 10s: it blocks on hostile input", tt.path)
			}
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("File(%q) = %v, nil; want an error", tt.path, img.Pixels.Bounds())
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("File(%q) error = %v; want errors.Is %v", tt.path, err, tt.want)
			}
			var de *Error
			if !errors.As(err, &de) || de.File != tt.path {
				t.Errorf("File(%q) error %#v does not name the file", tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Errorf("File(%q) error = %q; want it to start with the path and say %q", tt.path, err, tt.says)
			}
			// Rejection happens before any large allocation.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("File(%q) allocated %d MiB before refusing", tt.path, alloc>>20)
			}
		})
	}
}

func TestLimitsAreFlags(t *testing.T) {
	p := fixture("jpeg-large.jpg") // 1200x750, 282 kB
	if _, err := File(p, Limits{MaxPixels: 500_000}); !errors.Is(err, ErrTooManyPixels) ||
		!strings.Contains(err.Error(), "1200x750 is 0.9 megapixels, over --max-pixels 0.5") {
		t.Errorf("File with MaxPixels 0.5 MP: error = %v", err)
	}
	if _, err := File(p, Limits{MaxFileSize: 100 << 10}); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("File with MaxFileSize 100 KiB: error = %v; want ErrFileTooLarge", err)
	}
	if _, err := File(p, Limits{MaxPixels: 900_000, MaxFileSize: 300 << 10}); err != nil {
		t.Errorf("File within limits: %v", err)
	}
}

func TestVideoToRGB(t *testing.T) {
	tests := []struct {
		y, cb, cr uint8
		r, g, b   uint8
	}{
		{16, 128, 128, 0, 0, 0},
		{235, 128, 128, 255, 255, 255},
		{126, 128, 128, 128, 128, 128},
		{81, 90, 240, 255, 0, 0}, // BT.601 limited-range red
		{145, 54, 34, 0, 255, 0},
		{41, 240, 110, 0, 0, 255},
		{0, 128, 128, 0, 0, 0}, // out of range clamps
		{255, 128, 128, 255, 255, 255},
	}
	for _, tt := range tests {
		r, g, b := VideoToRGB(tt.y, tt.cb, tt.cr)
		if absDiff(r, tt.r) > 1 || absDiff(g, tt.g) > 1 || absDiff(b, tt.b) > 1 {
			t.Errorf("VideoToRGB(%d, %d, %d) = %d, %d, %d; want %d, %d, %d", tt.y, tt.cb, tt.cr, r, g, b, tt.r, tt.g, tt.b)
		}
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestOrientationIgnoresBrokenExif(t *testing.T) {
	for _, tiff := range [][]byte{
		nil,
		[]byte("II*\x00"),
		[]byte("II*\x00\xff\xff\xff\x7f"), // IFD offset far out
		[]byte("MM\x00*\x00\x00\x00\x08\xff\xff"),                                         // entry count past the end
		[]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00"), // 9 is no orientation
	} {
		if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
			t.Errorf("tiffOrientation(%q) = %d; want none", tiff, o)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	if o := orientation(JPEG, buf.Bytes()); o != Upright {
		t.Errorf("orientation of a JPEG without EXIF = %d; want 1", o)
	}
}

func TestJPEGScanBombIsRefused(t *testing.T) {
	// A real progressive JPEG with its scans repeated thousands of times:
	// every scan walks the whole image, so this would take minutes.
	b := readFixture(t, "jpeg-progressive.jpg")
	first := bytes.Index(b, []byte{0xff, 0xda})
	scans := b[first : len(b)-2]
	bomb := bytes.Clone(b[:first])
	for range 2000 {
		bomb = append(bomb, scans...)
	}
	bomb = append(bomb, 0xff, 0xd9)
	start := time.Now()
	_, err := Bytes("scans.jpg", bomb, Limits{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "scans") {
		t.Errorf("Bytes(scan bomb) error = %v; want a refusal naming the scans", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the scan bomb took %v", d)
	}
}

func TestProbeEstimatesDecodeMemory(t *testing.T) {
	base, err := Probe(fixture("jpeg-420.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Probe(fixture("jpeg-progressive.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if base.Format != JPEG || base.Width != 160 || base.Height != 120 {
		t.Errorf("Probe(jpeg-420.jpg) = %+v; want a 160x120 JPEG", base)
	}
	// A progressive JPEG keeps 4-byte coefficients for every sample.
	if prog.Memory < 3*base.Memory {
		t.Errorf("Probe memory: progressive %d, baseline %d; want the progressive one to need far more", prog.Memory, base.Memory)
	}
	png16, _ := Probe(fixture("png-rgba16.png"))
	png8, _ := Probe(fixture("png-rgba.png"))
	if png16.Memory <= png8.Memory {
		t.Errorf("Probe memory: 16-bit PNG %d, 8-bit %d; want more for 16-bit", png16.Memory, png8.Memory)
	}
	// An 8-bit RGBA PNG is read by rows: only the file is held, while an
	// interlaced one is decoded whole.
	if st, _ := os.Stat(fixture("png-rgba.png")); png8.Memory != st.Size() {
		t.Errorf("Probe memory of an 8-bit RGBA PNG = %d; want its file size %d, as Open holds no pixels", png8.Memory, st.Size())
	}
	inter, _ := Probe(fixture("png-interlaced.png"))
	if px := int64(inter.Width * inter.Height); inter.Memory < px {
		t.Errorf("Probe memory of an interlaced PNG = %d; want at least a byte for each of its %d pixels", inter.Memory, px)
	}
	fifo := filepath.Join(t.TempDir(), "pipe.png")
	syscall.Mkfifo(fifo, 0o644)
	if _, err := Probe(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Probe(FIFO) = %v; want ErrNotRegular", err)
	}
}
