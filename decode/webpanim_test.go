package decode

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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
	for _, f := range mustFrames(t, disposed) {
		disposed[f+15] |= 0x01
	}
	for _, c := range []struct {
		name string
		data []byte
		most int // levels a channel may differ by
	}{
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

// mustFrames returns where each ANMF chunk's payload starts in data.
func mustFrames(t *testing.T, data []byte) []int {
	t.Helper()
	var at []int
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if string(data[i:i+4]) == "ANMF" {
			at = append(at, i+8)
		}
		i += 8 + n + n&1
	}
	if len(at) < 2 {
		t.Fatalf("%d frames", len(at))
	}
	return at
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
