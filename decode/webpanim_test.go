package decode

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	deepwebp "github.com/deepteams/webp"

	"slidestream/internal/animtest"
)

// The frame-by-frame decoder of 32-bit builds (x/image/webp per frame)
// shows an animation as github.com/deepteams/webp's decoder does: a
// lossless one exactly, and one that ffmpeg made lossy, with alpha and
// frames that cover only what changed (blended, or replacing), within a
// few levels (the two convert YCbCr to RGB each its own way).
func TestWebPFramesAsTheOtherDecoder(t *testing.T) {
	ffmpeg := animtest.FFmpeg(t)
	lossy := filepath.Join(t.TempDir(), "lossy.webp")
	// A moving pattern on a part-transparent ground: libwebp's encoder
	// then keeps sub-frames, with and without blending.
	src := "testsrc2=s=96x64:r=10:d=1.2,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,30),128,255)'"
	if out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", src, "-c:v", "libwebp_anim", "-lossless", "0",
		"-q:v", "90", "-loop", "0", "-y", lossy).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	made, err := os.ReadFile(lossy)
	if err != nil {
		t.Fatal(err)
	}
	// The same with every frame disposed of after it shows, its
	// rectangle left transparent for the next.
	disposed := append([]byte(nil), made...)
	flagged := 0
	for typ, data := range riffChunks(disposed, 12) {
		if typ == "ANMF" {
			data[15] |= 0x01
			flagged++
		}
	}
	if flagged < 2 {
		t.Fatalf("ffmpeg made %d frames", flagged)
	}
	for _, c := range []struct {
		name string
		data []byte
		most int // levels a channel may differ by
	}{
		{"lossless, partly transparent frames blended", blendedWebP(t), 3},
		{"lossless", animtest.WebP(t, 5, 40, 30, 50*time.Millisecond), 0},
		{"lossy with alpha", made, 3},
		{"lossy, each frame disposed", disposed, 3},
	} {
		info := Motion(c.data)
		if info.Kind != Animated || info.Frames < 3 {
			t.Fatalf("%s: %+v; want an animation", c.name, info)
		}
		ours, err := openWebPFrames(c.data, info)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		theirs, err := openWebPDeep(c.data, info)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for k := range info.Frames {
			a, da, err := ours.Next()
			if err != nil {
				t.Fatalf("%s frame %d: %v", c.name, k+1, err)
			}
			b, db, err := theirs.Next()
			if err != nil {
				t.Fatalf("%s frame %d, the other decoder: %v", c.name, k+1, err)
			}
			if da != db || a.Bounds() != b.Bounds() {
				t.Fatalf("%s frame %d: %v for %v; the other decoder %v for %v", c.name, k+1, a.Bounds(), da, b.Bounds(), db)
			}
			worst := 0
			for i := range a.Pix {
				if a.Pix[i+3-i%4] == 0 && b.Pix[i+3-i%4] == 0 {
					continue // both transparent: the colour is no one's
				}
				worst = max(worst, abs(int(a.Pix[i])-int(b.Pix[i])))
			}
			if worst > c.most {
				t.Errorf("%s frame %d differs by %d levels; want at most %d", c.name, k+1, worst, c.most)
			}
		}
		if _, _, err := ours.Next(); err == nil {
			t.Errorf("%s: a frame after the last", c.name)
		}
	}
}

// blendedWebP is an animation made here, chunk by chunk, whose frames are
// partly transparent and drawn over one another: lossless pictures (by
// github.com/deepteams/webp's encoder) placed and blended as the ANMF
// chunks say, the first one replacing the empty canvas.
func blendedWebP(t *testing.T) []byte {
	t.Helper()
	const cw, ch = 16, 12
	type frame struct {
		at, size image.Point
		fill     func(x, y int) color.NRGBA
		blend    bool
	}
	frames := []frame{
		{image.Pt(0, 0), image.Pt(cw, ch), func(x, y int) color.NRGBA { return color.NRGBA{200, 30, 30, 128} }, false},
		{image.Pt(4, 2), image.Pt(8, 6), func(x, y int) color.NRGBA { return color.NRGBA{20, 40, 220, 100} }, true},
		{image.Pt(0, 0), image.Pt(6, 4), func(x, y int) color.NRGBA { return color.NRGBA{10, 200, 10, 255} }, true},
		{image.Pt(2, 4), image.Pt(10, 6), func(x, y int) color.NRGBA { return color.NRGBA{uint8(25 * x), 90, uint8(40 * y), uint8(20 + 23*x)} }, true},
	}
	u24 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }
	var body []byte
	body = appendChunk(body, "VP8X", append([]byte{0x12, 0, 0, 0}, append(u24(cw-1), u24(ch-1)...)...))
	body = appendChunk(body, "ANIM", []byte{0, 0, 0, 0, 0, 0})
	for _, f := range frames {
		m := image.NewNRGBA(image.Rectangle{Max: f.size})
		for y := range f.size.Y {
			for x := range f.size.X {
				m.SetNRGBA(x, y, f.fill(x, y))
			}
		}
		var still bytes.Buffer
		if err := deepwebp.Encode(&still, m, &deepwebp.EncoderOptions{Lossless: true, Quality: 75}); err != nil {
			t.Fatal(err)
		}
		vp8l := webpChunk(still.Bytes(), "VP8L")
		if vp8l == nil {
			t.Fatal("the encoder wrote no VP8L chunk")
		}
		flags := byte(0)
		if !f.blend {
			flags |= 0x02
		}
		var anmf []byte
		for _, v := range []int{f.at.X / 2, f.at.Y / 2, f.size.X - 1, f.size.Y - 1, 100} {
			anmf = append(anmf, u24(v)...)
		}
		anmf = appendChunk(append(anmf, flags), "VP8L", vp8l)
		body = appendChunk(body, "ANMF", anmf)
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	return append(append(out, "WEBP"...), body...)
}

// FuzzWebPFrames reads any bytes as an animated WebP with the frame-by-frame
// decoder, within the limits OpenAnimation sets: no panic, and every frame
// the size of the canvas, for minDelay at least.
func FuzzWebPFrames(f *testing.F) {
	f.Add(animtest.WebP(f, 3, 8, 8, 30*time.Millisecond))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := Motion(data)
		lim := Limits{MaxPixels: 1 << 14}
		if info.Kind != Animated || lim.checkPixels("animation", info.Canvas.X, info.Canvas.Y) != nil {
			return
		}
		a, err := openWebPFrames(data, info)
		if err != nil {
			return
		}
		everyFrame(t, a, info)
	})
}
