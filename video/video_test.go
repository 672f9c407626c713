package video

import (
	"context"
	"fmt"
	"image"
	"os"
	"testing"
	"time"

	"slidestream/internal/animtest"
)

// ffmpegOrSkip finds ffmpeg; under CI=true, where .ci/run installs it,
// its absence fails the test.
func ffmpegOrSkip(t testing.TB) *FFmpeg {
	t.Helper()
	f, err := Find("", 4096*4096, 2)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is not installed; .ci/run should install it")
		}
		t.Skip("ffmpeg is not installed")
	}
	return f
}

func Clip(t testing.TB, name string, n, fps, w, h int, extra ...string) []byte {
	return animtest.Clip(t, name, n, fps, w, h, extra...)
}

func numbers(t *testing.T, f *FFmpeg, data []byte, o Options) ([]int, error) {
	c, ok := Sniff(data)
	if !ok {
		t.Fatal("not sniffed as a clip")
	}
	var got []int
	err := f.Frames(context.Background(), data, c, o, func(fr Frame) bool {
		got = append(got, animtest.Read(fr.Pixels))
		return true
	})
	return got, err
}

func TestClipsPlayTheirFramesInOrder(t *testing.T) {
	f := ffmpegOrSkip(t)
	for _, name := range []string{"a.mp4", "a.mov", "a.webm"} {
		t.Run(name, func(t *testing.T) {
			data := Clip(t, name, 20, 10, 64, 48) // 2 s
			in, err := Inspect(data)
			if err != nil || in.Width != 64 || in.Height != 48 || in.Length < 1900*time.Millisecond || in.Length > 2100*time.Millisecond {
				t.Errorf("Inspect: %+v, %v; want 64x48, 2s", in, err)
			}
			got, err := numbers(t, f, data, Options{Box: image.Pt(32, 0), FPS: 10, Max: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 20 {
				t.Fatalf("%d frames; want 20: %v", len(got), got)
			}
			for i, n := range got {
				if n != i {
					t.Fatalf("frame %d shows %d: %v", i, n, got)
				}
			}
			// The poster: the first frame, scaled into the box.
			var poster *image.RGBA
			c, _ := Sniff(data)
			f.Frames(context.Background(), data, c, Options{Box: image.Pt(16, 16), First: true}, func(fr Frame) bool { poster = fr.Pixels; return true })
			if poster == nil || poster.Bounds().Dx() != 16 || poster.Bounds().Dy() != 12 || animtest.Read(poster) != 0 {
				t.Errorf("poster: %v", poster.Bounds())
			}
		})
	}
}

// An MP4 as ffmpeg writes it keeps its index after its media: FastStart
// moves it ahead, and the frames are the same as with ffmpeg's own
// faststart.
func TestFastStart(t *testing.T) {
	f := ffmpegOrSkip(t)
	late := Clip(t, "late.mp4", 12, 10, 32, 24)
	early := Clip(t, "early.mp4", 12, 10, 32, 24, "-movflags", "+faststart")
	moved, err := FastStart(late)
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != len(late) || string(moved[4:8]) != "ftyp" {
		t.Fatalf("moved: %d bytes (was %d)", len(moved), len(late))
	}
	if b, _ := FastStart(early); &b[0] != &early[0] {
		t.Error("an MP4 already in order was copied")
	}
	a, err1 := numbers(t, f, late, Options{FPS: 10, Max: time.Minute})
	b, err2 := numbers(t, f, early, Options{FPS: 10, Max: time.Minute})
	if err1 != nil || err2 != nil || len(a) != 12 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("frames of the moved MP4 %v (%v), of ffmpeg's faststart %v (%v)", a, err1, b, err2)
	}
	if _, err := FastStart(late[:len(late)/2]); err == nil {
		t.Error("an MP4 cut before its index was taken")
	}
}

// What a hostile clip cannot do: be something else than a clip, make a
// frame over the limit, run past --max-clip, or outlive its caller.
func TestHostileClips(t *testing.T) {
	f := ffmpegOrSkip(t)
	// A playlist or a concat list named .mp4 is no clip.
	for _, text := range []string{"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nfile:///etc/passwd\n", "ffconcat version 1.0\nfile '/etc/passwd'\n"} {
		if _, ok := Sniff([]byte(text)); ok {
			t.Errorf("%q sniffed as a clip", text[:12])
		}
	}
	// Cut short: what was read plays, or an error; never a hang.
	data := Clip(t, "a.mp4", 20, 10, 64, 48, "-movflags", "+faststart")
	done := make(chan struct{})
	go func() {
		numbers(t, f, data[:len(data)*2/3], Options{FPS: 10, Max: time.Minute})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a clip cut short hung")
	}
	// Over the frame limit.
	small := &FFmpeg{Path: f.Path, MaxPixels: 32 * 32, slots: make(chan struct{}, 1)}
	if got, err := numbers(t, small, data, Options{FPS: 10, Max: time.Minute}); err == nil || len(got) > 0 {
		t.Errorf("64x48 frames with a limit of 1024 pixels: %d frames, %v", len(got), err)
	}
	// A long clip stops at Max.
	long := Clip(t, "long.mp4", 600, 10, 32, 24) // 1 minute
	got, err := numbers(t, f, long, Options{FPS: 5, Max: 2 * time.Second})
	if err != nil || len(got) < 9 || len(got) > 11 {
		t.Errorf("a minute played with Max 2s at 5 fps: %d frames (%v); want 10", len(got), err)
	}
	// A caller that leaves kills the child.
	ctx, cancel := context.WithCancel(context.Background())
	_, _, killedBefore := f.Stats()
	n := 0
	err = f.Frames(ctx, long, MOV, Options{FPS: 10, Max: time.Minute}, func(Frame) bool {
		if n++; n == 3 {
			cancel()
		}
		time.Sleep(10 * time.Millisecond)
		return true
	})
	if _, _, killed := f.Stats(); err == nil || killed != killedBefore+1 {
		t.Errorf("a caller that left: %v, killed %d (was %d)", err, killed, killedBefore)
	}
}

// FuzzContainer: whatever the bytes, Inspect and FastStart return without
// panicking, and a moved MP4 keeps its length.
func FuzzContainer(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom\x00\x00\x00\x08mdat\x00\x00\x00\x08moov"))
	f.Add([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0x85, 0x15, 0x49, 0xA9, 0x66, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		Inspect(b)
		if out, err := FastStart(b); err == nil && len(out) != len(b) {
			t.Fatalf("FastStart changed the length: %d → %d", len(b), len(out))
		}
	})
}
