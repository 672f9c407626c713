// Package animtest makes animated GIFs and WebPs for tests, whose frames
// say their number in their colour, so that a test can read back which
// frame a JPEG of the stream shows.
package animtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/deepteams/webp" // registers the frame codec
	"github.com/deepteams/webp/animation"
)

// MaxFrames is how many frames Colour can number.
const MaxFrames = 144

// Colour is frame k's colour: red and blue each count in steps of 20, so
// that JPEG's errors of a few levels do not blur one number into the next.
func Colour(k int) color.NRGBA {
	return color.NRGBA{R: uint8(10 + 20*(k%12)), G: 128, B: uint8(10 + 20*(k/12)), A: 255}
}

// Number reads a frame number back from a colour (Colour's inverse), or -1
// when the colour is none of Colour's.
func Number(c color.Color) int {
	r, g, b, _ := c.RGBA()
	rf, gf, bf := float64(r>>8), float64(g>>8), float64(b>>8)
	if math.Abs(gf-128) > 12 {
		return -1
	}
	kr, kb := math.Round((rf-10)/20), math.Round((bf-10)/20)
	if kr < 0 || kr > 11 || kb < 0 || kb > 11 || math.Abs(rf-10-20*kr) > 6 || math.Abs(bf-10-20*kb) > 6 {
		return -1
	}
	return int(kb)*12 + int(kr)
}

// Read is the frame number a picture shows, read at its centre.
func Read(m image.Image) int {
	b := m.Bounds()
	return Number(m.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2))
}

// Frame is frame k, w×h, in its colour.
func Frame(k, w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Bounds(), image.NewUniform(Colour(k)), image.Point{}, draw.Src)
	return m
}

// GIF is an animated GIF of n numbered frames, w×h, each shown for delay
// (in whole hundredths of a second).
func GIF(t testing.TB, n, w, h int, delay time.Duration) []byte {
	t.Helper()
	g := &gif.GIF{Config: image.Config{Width: w, Height: h}}
	for k := range n {
		// A palette holding the frame's exact colour.
		p := append(color.Palette{Colour(k)}, palette.Plan9[:255]...)
		m := image.NewPaletted(image.Rect(0, 0, w, h), p)
		g.Image = append(g.Image, m) // all index 0: the frame's colour
		g.Delay = append(g.Delay, int(delay/(10*time.Millisecond)))
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// WebP is an animated lossless WebP of n numbered frames, w×h, each shown
// for delay.
func WebP(t testing.TB, n, w, h int, delay time.Duration) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := animation.NewEncoder(&b, w, h, &animation.EncodeOptions{Lossless: true})
	for k := range n {
		if err := enc.AddFrame(Frame(k, w, h), delay); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FFmpeg is the ffmpeg on the PATH. Where there is none the test is
// skipped, and fails under CI=true, where .ci/run installs it.
func FFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is not installed; .ci/run should install it")
		}
		t.Skip("ffmpeg is not installed")
	}
	return p
}

// Clip is a clip ffmpeg makes: n frames at fps, w×h, frame k in
// Colour(k), lossless, in the container the name's extension picks (MP4
// and MOV in H.264, WebM in VP9), with extra output options.
func Clip(t testing.TB, name string, n, fps, w, h int, extra ...string) []byte {
	t.Helper()
	ffmpeg := FFmpeg(t)
	path := filepath.Join(t.TempDir(), name)
	src := fmt.Sprintf("color=c=black:s=%dx%d:r=%d:d=%g,format=rgb24,geq=r='10+20*mod(N\\,12)':g=128:b='10+20*floor(N/12)'", w, h, fps, float64(n)/float64(fps))
	codec := []string{"-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p"}
	if filepath.Ext(name) == ".webm" {
		codec = []string{"-c:v", "libvpx-vp9", "-lossless", "1"}
	}
	args := append([]string{"-v", "error", "-f", "lavfi", "-i", src}, codec...)
	args = append(append(args, extra...), "-y", path)
	if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FFmpegChildren are the pids of the ffmpeg processes whose parent is
// parent, from /proc.
func FFmpegChildren(parent int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 || s[open+1:close] != "ffmpeg" {
			continue
		}
		if f := strings.Fields(s[close+1:]); len(f) > 1 && f[1] == strconv.Itoa(parent) {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}
