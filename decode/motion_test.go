package decode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"slidestream/internal/animtest"
)

// frames reads every frame of data's animation: the numbers they show
// and their delays.
func frames(t *testing.T, data []byte) ([]int, []time.Duration) {
	t.Helper()
	a, err := OpenAnimation(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	var delays []time.Duration
	for {
		m, d, err := a.Next()
		if err == io.EOF {
			return nums, delays
		}
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, animtest.Read(m))
		delays = append(delays, d)
	}
}

func TestAnimatedGIFAndWebPPlayTheirFrames(t *testing.T) {
	for _, c := range []struct {
		name      string
		data      []byte
		wantDelay time.Duration
	}{
		{"gif", animtest.GIF(t, 5, 32, 24, 70*time.Millisecond), 70 * time.Millisecond},
		{"gif with delay 0", animtest.GIF(t, 3, 32, 24, 0), 100 * time.Millisecond},
		{"webp", animtest.WebP(t, 5, 32, 24, 40*time.Millisecond), 40 * time.Millisecond},
		{"webp with delay 10ms", animtest.WebP(t, 4, 32, 24, 10*time.Millisecond), 100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			info := Motion(c.data)
			nums, delays := frames(t, c.data)
			n := len(nums)
			if info.Kind != Animated || info.Frames != n || info.Canvas != image.Pt(32, 24) || info.Length != time.Duration(n)*c.wantDelay {
				t.Errorf("Motion: %+v; want %d frames, 32x24, %v", info, n, time.Duration(n)*c.wantDelay)
			}
			for i := range nums {
				if nums[i] != i || delays[i] != c.wantDelay {
					t.Errorf("frame %d shows %d for %v; want %d for %v", i, nums[i], delays[i], i, c.wantDelay)
				}
			}
		})
	}
}

// A GIF's frames are drawn over what the frame before left, and disposed
// of as each says: kept, cleared to transparent, or the canvas put back.
func TestGIFDisposal(t *testing.T) {
	red, blue, green, white := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{255, 255, 255, 255}
	pal := color.Palette{red, blue, green, white, color.RGBA{}}
	frame := func(r image.Rectangle, c int) *image.Paletted {
		m := image.NewPaletted(r, pal)
		for i := range m.Pix {
			m.Pix[i] = uint8(c)
		}
		return m
	}
	g := &gif.GIF{Config: image.Config{Width: 8, Height: 8, ColorModel: pal},
		Image:    []*image.Paletted{frame(image.Rect(0, 0, 8, 8), 0), frame(image.Rect(0, 0, 4, 4), 1), frame(image.Rect(4, 4, 8, 8), 2), frame(image.Rect(7, 0, 8, 1), 3)},
		Delay:    []int{10, 10, 10, 10},
		Disposal: []byte{gif.DisposalNone, gif.DisposalBackground, gif.DisposalPrevious, gif.DisposalNone}}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	a, err := OpenAnimation(b.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(m *image.NRGBA, x, y int) color.NRGBA { return m.NRGBAAt(x, y) }
	clear := color.NRGBA{}
	nr, nb, ng, nw := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}, color.NRGBA{0, 255, 0, 255}, color.NRGBA{255, 255, 255, 255}
	want := [][4]color.NRGBA{ // (1,1), (6,6), (2,6), (7,0)
		{nr, nr, nr, nr},
		{nb, nr, nr, nr},
		{clear, ng, nr, nr}, // the blue square was cleared; green drawn
		{clear, nr, nr, nw}, // the green square taken back
	}
	for i, w := range want {
		m, _, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		got := [4]color.NRGBA{at(m, 1, 1), at(m, 6, 6), at(m, 2, 6), at(m, 7, 0)}
		if got != w {
			t.Errorf("frame %d: %v; want %v", i, got, w)
		}
	}
	if _, _, err := a.Next(); err != io.EOF {
		t.Errorf("after the last frame: %v; want io.EOF", err)
	}
}

// Stills and what cannot be read are no motion; a GIF whose frames
// together are over the limit is refused before they are decoded.
func TestMotionRefusals(t *testing.T) {
	still, _ := os.ReadFile(filepath.Join("..", "testdata", "jpeg-420.jpg"))
	one := animtest.GIF(t, 1, 16, 16, 0)
	anim := animtest.GIF(t, 8, 64, 64, 50*time.Millisecond)
	for name, data := range map[string][]byte{"jpeg": still, "one frame": one, "cut in the first frame": anim[:60], "empty": nil} {
		if m := Motion(data); m.Kind != Still {
			t.Errorf("%s: %+v; want a still", name, m)
		}
		if _, err := OpenAnimation(data, Limits{}); !errors.Is(err, ErrNoMotion) {
			t.Errorf("%s: OpenAnimation: %v; want ErrNoMotion", name, err)
		}
	}
	// Cut in its third frame: two frames play.
	cut := anim[:len(anim)*5/16]
	if m := Motion(cut); m.Frames < 2 || m.Frames >= 8 {
		t.Errorf("a GIF cut short: %+v", m)
	}
	if _, err := OpenAnimation(anim, Limits{MaxPixels: 64 * 64}); err == nil {
		t.Error("8 frames of 64×64 taken with --max-pixels 4096 (over 4 × the limit together)")
	}
	// An animated WebP's still is its first frame.
	img, err := readBytes("a.webp", animtest.WebP(t, 3, 32, 24, 50*time.Millisecond), Limits{}, Options{})
	if err != nil || animtest.Read(img.Pixels) != 0 {
		t.Errorf("an animated WebP's still: %v", err)
	}
}

// FuzzMotion: whatever the bytes, Motion and OpenAnimation return without
// panicking, and the frames stay within the canvas they announce.
func FuzzMotion(f *testing.F) {
	f.Add(animtest.GIF(f, 3, 8, 8, 30*time.Millisecond))
	f.Add(animtest.WebP(f, 3, 8, 8, 30*time.Millisecond))
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "gif-animated.gif")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info := Motion(data)
		a, err := OpenAnimation(data, Limits{MaxPixels: 1 << 14})
		if err != nil {
			return
		}
		everyFrame(t, a, info)
	})
}

// everyFrame reads a's frames, up to one past what info counts, until an
// error: each must fill the canvas, for minDelay at least.
func everyFrame(t *testing.T, a *Animation, info MotionInfo) {
	t.Helper()
	for range info.Frames + 1 {
		m, d, err := a.Next()
		if err != nil {
			return
		}
		if m.Bounds().Size() != info.Canvas || d < minDelay {
			t.Fatalf("frame %v for %v; the canvas is %v", m.Bounds(), d, info.Canvas)
		}
	}
}

// A Motion Photo's video is found from its XMP, in Google's two styles;
// anything else is no Motion Photo.
func TestMotionPhotoVideo(t *testing.T) {
	jpegWith := func(xmp string) []byte {
		seg := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmp...)
		return append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, append(seg, 0xFF, 0xDA)...)
	}
	for _, c := range []struct {
		xmp  string
		want int64
	}{
		{`<rdf:Description GCamera:MicroVideo="1" GCamera:MicroVideoVersion="1" GCamera:MicroVideoOffset="123456"/>`, 123456},
		{`<rdf:Description GCamera:MotionPhoto="1"><Container:Directory><rdf:Seq>` +
			`<rdf:li><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0"/></rdf:li>` +
			`<rdf:li><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length = '4321'/></rdf:li></rdf:Seq></Container:Directory></rdf:Description>`, 4321},
		{`<rdf:Description GCamera:MotionPhoto="0"/>`, 0},
		{`<rdf:Description GCamera:MicroVideo="1" GCamera:MicroVideoOffset="-5"/>`, 0},
		{`<rdf:Description GCamera:MotionPhoto="1"/>`, 0},
	} {
		if got := MotionPhotoVideo(jpegWith(c.xmp)); got != c.want {
			t.Errorf("%.60s…: %d; want %d", c.xmp, got, c.want)
		}
	}
	if MotionPhotoVideo([]byte("not a jpeg")) != 0 {
		t.Error("text is a Motion Photo")
	}
}

// FuzzMotionPhoto: whatever a JPEG's first bytes, MotionPhotoVideo
// returns without panicking, never a negative length.
func FuzzMotionPhoto(f *testing.F) {
	f.Add([]byte("\xFF\xD8\xFF\xE1\x00\x40http://ns.adobe.com/xap/1.0/\x00GCamera:MicroVideo=\"1\" GCamera:MicroVideoOffset=\"99\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := MotionPhotoVideo(b); n < 0 {
			t.Fatalf("length %d", n)
		}
	})
}
