package decode

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
			img, err := read(fixture(tt.file), Limits{}, Options{})
			if err != nil {
				t.Fatalf("read(%q) error: %v", tt.file, err)
			}
			b := img.Pixels.Bounds()
			if img.Format != tt.format || b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("read(%q) = %s %dx%d; want %s %dx%d", tt.file, img.Format, b.Dx(), b.Dy(), tt.format, tt.w, tt.h)
			}
			if got := fmt.Sprintf("%T", img.Pixels); got != tt.pixels {
				t.Errorf("read(%q) pixels are %s; want %s", tt.file, got, tt.pixels)
			}
			if img.Orientation != tt.orientation {
				t.Errorf("read(%q) orientation = %d; want %d", tt.file, img.Orientation, tt.orientation)
			}
		})
	}
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
		{"random bytes", write("random.webp", random), ErrUnknownFormat, "not a JPEG, PNG, WebP, GIF, HEIC, AVIF, MP4 or WebM"},
		{"text named png", write("notes.png", []byte("these are my holiday notes\n")), ErrUnknownFormat, "text"},
		{"png bomb", write("bomb.png", pngClaiming(100000, 100000)), ErrTooManyPixels, "100000x100000 is 10000 megapixels, over --max-pixels 50"},
		{"jpeg bomb", write("bomb.jpg", jpegClaiming(t, 65500, 65500)), ErrTooManyPixels, "65500x65500 is 4290 megapixels"},
		{"webp bomb", write("bomb.webp", webpClaiming(t, 16383, 16383)), ErrTooManyPixels, "16383x16383 is 268 megapixels"},
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
				img, err = read(tt.path, Limits{}, Options{})
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("read(%q) still running after 10s: it blocks on hostile input", tt.path)
			}
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("read(%q) = %v, nil; want an error", tt.path, img.Pixels.Bounds())
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("read(%q) error = %v; want errors.Is %v", tt.path, err, tt.want)
			}
			var de *Error
			if !errors.As(err, &de) || de.File != tt.path {
				t.Errorf("read(%q) error %#v does not name the file", tt.path, err)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Errorf("read(%q) error = %q; want it to start with the path and say %q", tt.path, err, tt.says)
			}
			// Rejection happens before any large allocation.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("read(%q) allocated %d MiB before refusing", tt.path, alloc>>20)
			}
		})
	}
}

func TestLimitsAreFlags(t *testing.T) {
	p := fixture("jpeg-large.jpg") // 1200x750, 282 kB
	if _, err := read(p, Limits{MaxPixels: 500_000}, Options{}); !errors.Is(err, ErrTooManyPixels) ||
		!strings.Contains(err.Error(), "1200x750 is 0.9 megapixels, over --max-pixels 0.5") {
		t.Errorf("File with MaxPixels 0.5 MP: error = %v", err)
	}
	if _, err := read(p, Limits{MaxFileSize: 100 << 10}, Options{}); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("File with MaxFileSize 100 KiB: error = %v; want ErrFileTooLarge", err)
	}
	if _, err := read(p, Limits{MaxPixels: 900_000, MaxFileSize: 300 << 10}, Options{}); err != nil {
		t.Errorf("File within limits: %v", err)
	}
}

// memory opens a fixture as a transcode does and returns its header and
// the memory its decode will hold.
func memory(t *testing.T, name string) (Header, int64) {
	t.Helper()
	f, err := Open(fixture(name), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Header(), f.Memory(Options{Rows: true})
}

func TestMemoryEstimates(t *testing.T) {
	base, baseMem := memory(t, "jpeg-420.jpg")
	_, progMem := memory(t, "jpeg-progressive.jpg")
	if base.Format != JPEG || base.Width != 160 || base.Height != 120 {
		t.Errorf("Header(jpeg-420.jpg) = %+v; want a 160x120 JPEG", base)
	}
	// A progressive JPEG keeps 2-byte coefficients for every sample until
	// its last scan, unless it is decoded at 1/8, which needs only the DC.
	if progMem < 2*baseMem {
		t.Errorf("Memory: progressive %d, baseline %d; want the progressive one to need far more", progMem, baseMem)
	}
	f, err := Open(fixture("jpeg-progressive.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := os.Stat(fixture("jpeg-progressive.jpg"))
	if eighth := f.Memory(Options{Shrink: 8}) - st.Size(); eighth*32 > progMem-st.Size() {
		t.Errorf("Memory of a progressive JPEG at 1/8: %d beside the file; want a small part of the %d at full size", eighth, progMem-st.Size())
	}
	_, png16 := memory(t, "png-rgba16.png")
	_, png8 := memory(t, "png-rgba.png")
	if png16 <= png8 {
		t.Errorf("Memory: 16-bit PNG %d, 8-bit %d; want more for 16-bit", png16, png8)
	}
	// An 8-bit RGBA PNG is read by rows: only the file is held, while an
	// interlaced one is decoded whole.
	if st, _ := os.Stat(fixture("png-rgba.png")); png8 != st.Size() {
		t.Errorf("Memory of an 8-bit RGBA PNG = %d; want its file size %d, as Decode holds no pixels", png8, st.Size())
	}
	inter, interMem := memory(t, "png-interlaced.png")
	if px := int64(inter.Width * inter.Height); interMem < px {
		t.Errorf("Memory of an interlaced PNG = %d; want at least a byte for each of its %d pixels", interMem, px)
	}
	fifo := filepath.Join(t.TempDir(), "pipe.png")
	syscall.Mkfifo(fifo, 0o644)
	if _, err := Open(fifo, Limits{}); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open(FIFO) = %v; want ErrNotRegular", err)
	}
}

// jpegWithMetadata puts n bytes of APP2 segments (as a large ICC profile
// or a phone's extra data would) before the frame header of a real JPEG.
func jpegWithMetadata(t *testing.T, n int) []byte {
	b := readFixture(t, "jpeg-420.jpg")
	out := append([]byte{}, b[:2]...)
	for n > 0 {
		seg := min(n, 65533)
		out = append(out, 0xff, 0xe2, byte((seg+2)>>8), byte(seg+2))
		out = append(out, bytes.Repeat([]byte{'m'}, seg)...)
		n -= seg
	}
	return append(out, b[2:]...)
}

// pngWithMetadata puts an n-byte private chunk before the image data.
func pngWithMetadata(t *testing.T, n int) []byte {
	b := readFixture(t, "png-rgb.png")
	idat := bytes.Index(b, []byte("IDAT")) - 4
	out := chunk(append([]byte{}, b[:idat]...), "prVt", bytes.Repeat([]byte{'m'}, n))
	return append(out, b[idat:]...)
}

// A header far into the file is read, not taken for a truncated file:
// Open reads on until the header ends.
func TestHeaderPastTheFirstBytes(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"meta.jpg": jpegWithMetadata(t, 300<<10),
		"meta.png": pngWithMetadata(t, 300<<10),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p, Limits{})
		if err != nil {
			t.Fatalf("Open(%s) with 300 KiB before the image header: %v", name, err)
		}
		if h := f.Header(); h.Width != 160 || h.Height != 120 || h.Size != int64(len(data)) {
			t.Errorf("Header(%s) = %+v; want 160x120 and the file's size", name, h)
		}
		img, err := f.Decode(Options{Rows: true})
		f.Close()
		if err != nil || img.Pixels.Bounds().Dx() != 160 {
			t.Errorf("Decode(%s) = %v; want the picture", name, err)
		}
	}
}

// A file cut short or grown between Open and Decode is being written:
// that version is refused as unreadable (not corrupt: the finished file
// will be fine), not decoded from a mix of two versions.
func TestFileChangedWhileRead(t *testing.T) {
	// 200 KiB after the image data: the header is in the first read, the
	// rest is read by Decode.
	png := readFixture(t, "png-rgb.png")
	iend := bytes.LastIndex(png, []byte("IEND")) - 4
	data := append(chunk(append([]byte{}, png[:iend]...), "prVt", bytes.Repeat([]byte{'m'}, 200<<10)), png[iend:]...)
	for name, change := range map[string]func(p string){
		"cut":   func(p string) { os.Truncate(p, int64(len(data)/2)) },
		"grown": func(p string) { os.WriteFile(p, append(bytes.Clone(data), 1, 2, 3), 0o644) },
	} {
		p := filepath.Join(t.TempDir(), name+".png")
		os.WriteFile(p, data, 0o644)
		f, err := Open(p, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		change(p)
		_, err = f.Decode(Options{})
		f.Close()
		if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "changed while being read") {
			t.Errorf("%s file: Decode error = %v; want ErrUnreadable saying it changed", name, err)
		}
	}
}
