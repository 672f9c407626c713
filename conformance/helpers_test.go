// Package conformance checks the slidestream binary with clients nobody
// here wrote: headless Chromium, ffmpeg and ffprobe, curl, and a raw socket
// that never reads. Each test builds nothing itself: TestMain builds the
// binary once, and every test starts it as a user would and finds its
// address in its log.
//
// A missing client skips its test, except under CI=true, where .ci/run has
// installed them all and a missing one fails.
package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	// SLIDESTREAM_BINARY runs the suite against a binary built elsewhere,
	// an older release say, instead of building this tree.
	if binary = os.Getenv("SLIDESTREAM_BINARY"); binary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "slidestream-conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "slidestream")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building slidestream:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tool finds a client program, or skips the test where it is missing
// outside CI.
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not installed; .ci/run should install it", names[0])
	}
	t.Skipf("%s not installed", names[0])
	return ""
}

// logBuffer collects the server's log as it is written.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingURL = regexp.MustCompile(`msg="slidestream is serving" url=(http://\S+/)`)

// proc is a running slidestream.
type proc struct {
	url    string // base URL, without the trailing slash
	logs   *logBuffer
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
	killed bool       // ended on purpose by kill
}

// kill ends the process at once, as a crash or power loss would.
func (p *proc) kill() {
	p.killed = true
	p.cmd.Process.Kill()
	<-p.exited
}

// start runs the binary on a free loopback port and returns its base URL
// (without the trailing slash) and its log. It is stopped with SIGTERM
// when the test ends.
func start(t *testing.T, args ...string) (string, *logBuffer) {
	t.Helper()
	p := startProc(t, args...)
	return p.url, p.logs
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p, err := tryProc(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tryProc is startProc that returns why the process did not come up (it
// exited first, or said nothing within 10 s) instead of ending the test.
func tryProc(t *testing.T, args ...string) (*proc, error) {
	t.Helper()
	p := &proc{logs: &logBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	// The index of each process goes to a cache folder of its own, never
	// the user's (and older builds, without --state-dir, run too).
	p.cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("slidestream exited with %v after SIGTERM", err)
			}
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("slidestream still running 10s after SIGTERM")
		}
		if t.Failed() {
			t.Logf("slidestream %v log:\n%s", args, p.logs.String())
		}
	})
	deadline := time.After(10 * time.Second)
	for {
		if m := servingURL.FindStringSubmatch(p.logs.String()); m != nil {
			p.url = strings.TrimSuffix(m[1], "/")
			return p, nil
		}
		select {
		case err := <-p.exited:
			p.killed = true // nothing left for the cleanup to stop
			return nil, fmt.Errorf("slidestream exited (%v) before it served:\n%s", err, p.logs.String())
		case <-deadline:
			return nil, fmt.Errorf("slidestream did not say where it serves within 10s:\n%s", p.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// startFleetProcs starts n instances, each with the arguments args gives
// for loopback addresses free a moment ago and its own index. Another
// socket can take one of those ports before the instance binds it, and
// the instance then exits: the fleet is stopped and started again on other
// ports, up to three times.
func startFleetProcs(t *testing.T, n int, args func(addrs []string, i int) []string) []*proc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addrs := make([]string, n)
		for i := range addrs {
			addrs[i] = freeAddr(t)
		}
		var nodes []*proc
		var err error
		for i := range addrs {
			var p *proc
			if p, err = tryProc(t, args(addrs, i)...); err != nil {
				break
			}
			nodes = append(nodes, p)
		}
		if err == nil {
			return nodes
		}
		for _, p := range nodes {
			p.kill()
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("a peer port was taken; again on other ports: %v", err)
	}
}

// writePNG writes a w×h PNG: one colour, or noise around it when noisy
// (noise makes large JPEG frames).
func writePNG(t *testing.T, path string, w, h int, c color.RGBA, noisy bool) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(c.R)<<16|uint64(c.G)<<8|uint64(c.B), 7))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
		if noisy {
			for k := range 3 {
				m.Pix[i+k] = uint8(rng.IntN(256))
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSlides writes one w×h PNG per colour, named 1.png, 2.png, ... in
// play order.
func writeSlides(t *testing.T, dir string, w, h int, noisy bool, colours ...color.RGBA) {
	t.Helper()
	for i, c := range colours {
		writePNG(t, filepath.Join(dir, fmt.Sprintf("%d.png", i+1)), w, h, c, noisy)
	}
}

// waitCached returns once /snapshot answers, that is once the first slide
// is rendered and cached.
func waitCached(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/snapshot"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("/snapshot did not answer within 20s")
}

// screenshot loads url in headless Chromium and returns what is on screen
// after ms milliseconds (or when the page has loaded, if sooner).
func screenshot(t *testing.T, chromium, url string, w, h, ms int) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(), fmt.Sprintf("--window-size=%d,%d", w, h),
		fmt.Sprintf("--timeout=%d", ms), "--screenshot="+shot, url)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a color.Color, b color.RGBA, tol int) bool {
	r, g, bl, _ := a.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v >= -tol && v <= tol }
	return d(r, b.R) && d(g, b.G) && d(bl, b.B)
}

// share is the fraction of m's pixels within tol of c.
func share(m image.Image, c color.RGBA, tol int) float64 {
	b := m.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(m.At(x, y), c, tol) {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

var (
	red   = color.RGBA{208, 32, 32, 255}
	green = color.RGBA{32, 176, 64, 255}
	blue  = color.RGBA{32, 64, 208, 255}
)

// readPart reads one multipart part's headers and body from r by hand, as
// a byte counter would, and returns the body.
func readPart(r *bufio.Reader) ([]byte, error) {
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "" && length >= 0 {
			break
		}
	}
	body := make([]byte, length)
	_, err := io.ReadFull(r, body)
	return body, err
}

// stalledConn opens a stream with a tiny receive buffer and never reads.
func stalledConn(t *testing.T, base string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /slideshow HTTP/1.1\r\nHost: slidestream\r\n\r\n")
	return conn
}

func grep(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// metric sums every series of a metric family in the node's /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	total := 0.0
	for _, m := range re.FindAllSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		total += v
	}
	return total
}

// playCycle reads node's stream at width until it has seen n different
// frames in a row: one full cycle of the folder.
func playCycle(t *testing.T, base string, width, n int) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/slideshow?width=%d", base, width))
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(resp.Body, params["boundary"])
	seen := map[string]bool{}
	timer := time.AfterFunc(30*time.Second, func() { resp.Body.Close() })
	defer timer.Stop()
	for len(seen) < n {
		p, err := mr.NextPart()
		if err != nil {
			t.Errorf("%s at width %d after %d frames: %v", base, width, len(seen), err)
			return
		}
		b, _ := io.ReadAll(p)
		seen[string(bytes.Clone(b))] = true
	}
}

// playAll plays one cycle at every width through every node, all at once.
func playAll(t *testing.T, nodes []*proc, widths []int, n int) {
	var wg sync.WaitGroup
	for _, p := range nodes {
		for _, w := range widths {
			wg.Add(1)
			go func() { defer wg.Done(); playCycle(t, p.url, w, n) }()
		}
	}
	wg.Wait()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writePeers(t *testing.T, path string, addrs []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# slidestream fleet\n")
	for _, a := range addrs {
		fmt.Fprintf(&b, "http://%s\n", a)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
