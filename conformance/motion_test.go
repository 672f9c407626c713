package conformance

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"slidestream/internal/animtest"
)

// clipFolder is a folder whose one slide is a clip ffmpeg made of n
// frames, 160×120 at 10 frames a second, frame k in animtest.Colour(k).
func clipFolder(t *testing.T, n int) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "clip.mp4"), animtest.Clip(t, "clip.mp4", n, 10, 160, 120), 0o644)
	return dir
}

// ffmpeg reads a stretch of a clip's motion from the stream without an
// error, and its frames are the clip's, in order.
func TestFFmpegReadsMotion(t *testing.T) {
	ffmpeg := tool(t, "ffmpeg")
	base, _ := start(t, "--dir", clipFolder(t, 40), "--interval", "10s", "--width", "160", "--motion-fps", "10")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "frame%02d.jpg")
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-f", "mpjpeg", "-i", base+"/slideshow",
		"-frames:v", "15", "-c", "copy", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg reading 15 frames of motion: %v\n%s", err, stderr.String())
	}
	var ns []int
	for i := 1; i <= 15; i++ {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(out), fmt.Sprintf("frame%02d.jpg", i)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if n := animtest.Read(m); len(ns) == 0 || ns[len(ns)-1] != n {
			ns = append(ns, n)
		}
	}
	if len(ns) < 10 {
		t.Errorf("15 frames read by ffmpeg show %d distinct pictures (%v); want the clip moving", len(ns), ns)
	}
	for i := 1; i < len(ns); i++ {
		if ns[i] <= ns[i-1] || ns[i] < 0 || ns[i] >= 40 {
			t.Errorf("ffmpeg's frames show %v: not the clip's frames in order", ns)
			break
		}
	}
}

// In Chromium, the page plays the clip: screenshots 200 ms apart differ,
// and each shows a frame of the clip, later than the one before.
func TestChromiumPlaysMotion(t *testing.T) {
	b := startBrowser(t, "chromium", 320, 240)
	base, _ := start(t, "--dir", clipFolder(t, 40), "--interval", "10s", "--width", "320", "--motion-fps", "10")
	if err := b.navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	// The page's first frame of the clip.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m, err := b.screenshot(); err == nil && animtest.Read(m) >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page shows no frame of the clip within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ns []int
	next := time.Now()
	for range 8 {
		time.Sleep(time.Until(next))
		next = next.Add(200 * time.Millisecond)
		m, err := b.screenshot()
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, animtest.Read(m))
	}
	changes := 0
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1] {
			changes++
		}
		if ns[i] < ns[i-1] || ns[i] < 0 {
			t.Errorf("screenshots 200 ms apart show frames %v: want the clip's frames, in order", ns)
			break
		}
	}
	if changes < 5 {
		t.Errorf("screenshots 200 ms apart show frames %v: want them to differ", ns)
	}
}

// SIGTERM while a clip plays: the server exits cleanly, and leaves no
// ffmpeg behind; so does kill -9, through the kernel.
func TestNoFFmpegOutlivesTheServer(t *testing.T) {
	tool(t, "ffmpeg")
	dir := clipFolder(t, 600) // a minute
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		p := startProc(t, "--dir", dir, "--interval", "10s", "--width", "160", "--max-clip", "1m")
		resp, err := http.Get(p.url + "/slideshow")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		kids := animtest.FFmpegChildren(p.cmd.Process.Pid)
		if len(kids) == 0 {
			t.Errorf("%v: no ffmpeg while the clip plays", sig)
		}
		p.killed = true
		p.cmd.Process.Signal(sig)
		<-p.exited
		resp.Body.Close()
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range kids {
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("%v: ffmpeg %d outlived the server", sig, pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// alive reports whether pid runs (a zombie counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	close := strings.LastIndexByte(s, ')')
	return close > 0 && len(s) > close+2 && s[close+2] != 'Z'
}
