package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"slidestream/decode"
	"slidestream/encode"
	"slidestream/source"
)

// testServer is a real slidestream on a loopback port.
type testServer struct {
	*server
	url  string
	stop func() time.Duration // ends serve and says how long it took
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// TestMain lets the test binary serve as the decode child of HEIC and
// AVIF files, as the server's binary does: servers started here decode
// them in children, which are this binary started again.
func TestMain(m *testing.M) {
	decode.ServeChild()
	os.Exit(m.Run())
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t testing.TB, args ...string) *testServer {
	t.Helper()
	return startServerWith(t, nil, args...)
}

// startServerWith is startServer with a chance to change the parsed
// configuration (settings that are no flags) before the server is made.
func startServerWith(t testing.TB, tweak func(*config), args ...string) *testServer {
	t.Helper()
	s, err := tryServerWith(t, tweak, args...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryServer is startServer that returns the error of making the server
// (a port taken, say) instead of ending the test.
func tryServer(t testing.TB, args ...string) (*testServer, error) {
	t.Helper()
	return tryServerWith(t, nil, args...)
}

func tryServerWith(t testing.TB, tweak func(*config), args ...string) (*testServer, error) {
	t.Helper()
	// Each test server keeps its index in a folder of its own, never in
	// the user's cache.
	cfg, err := parseFlags(append([]string{"--addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, args...), io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	return launch(t, cfg)
}

// launch makes and serves the server of cfg until the test ends; an error
// making it (a port taken, say) is returned, not fatal.
func launch(t testing.TB, cfg *config) (*testServer, error) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx) }()
	var once sync.Once
	var took time.Duration
	stop := func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("serve did not return 10s after its context ended")
			}
			took = time.Since(start)
		})
		return took
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{server: s, url: "http://" + s.ln.Addr().String(), stop: stop, logs: logs}, nil
}

// copyFixture copies testdata/name into dir as as.
func copyFixture(t *testing.T, dir, name, as string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, as)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// solid writes a w×h PNG of one colour.
func solid(t testing.TB, path string, w, h int, c color.Color) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		m.Set(i%w, i/w, c)
	}
	var buf bytes.Buffer
	png.Encode(&buf, m)
	// Write then rename, as a careful copy tool does.
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writePNG writes m as a PNG.
func writePNG(t testing.TB, path string, m image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeGIF writes a w×h GIF of two frames, red then blue; a slideshow
// shows the first.
func writeGIF(t *testing.T, path string, w, h int) string {
	t.Helper()
	pal := color.Palette{color.RGBA{200, 30, 30, 255}, color.RGBA{30, 30, 200, 255}}
	red, blue := image.NewPaletted(image.Rect(0, 0, w, h), pal), image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range blue.Pix {
		blue.Pix[i] = 1
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{red, blue}, Delay: []int{50, 50}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// noisy writes a w×h PNG of noise around colour c, which takes a while to
// decode and makes a large frame.
func noisy(t testing.TB, path string, w, h int, c color.RGBA) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) | 1
	for i := 0; i < len(m.Pix); i += 4 {
		seed = seed*1664525 + 1013904223
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R^uint8(seed>>24), c.G^uint8(seed>>16), c.B^uint8(seed>>8), 255
	}
	writePNG(t, path, m)
}

// expected is the frame slidestream must send for a file: the pipeline's
// own output, byte for byte.
func expected(t *testing.T, path string, width int) []byte {
	t.Helper()
	f, err := decode.Open(path, decode.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := encode.Options{Width: width, Background: color.RGBA{0, 0, 0, 255}}
	h := f.Header()
	img, err := f.Decode(decode.Options{Shrink: encode.Shrink(h.Width, h.Height, f.Orientation(), o), Rows: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := encode.Scale(img, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encode.JPEG(m, o.Quality)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamReader reads the slideshow with mime/multipart, checking every part.
type streamReader struct {
	t      *testing.T
	resp   *http.Response
	mr     *multipart.Reader
	cancel context.CancelFunc
}

func openStream(t *testing.T, url string) *streamReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("GET %s: %s = %q; want %q", url, h, got, want)
		}
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] == "" {
		t.Fatalf("GET %s: Content-Type %q is not multipart/x-mixed-replace with a boundary", url, resp.Header.Get("Content-Type"))
	}
	sr := &streamReader{t: t, resp: resp, mr: multipart.NewReader(resp.Body, params["boundary"]), cancel: cancel}
	t.Cleanup(sr.close)
	return sr
}

func (s *streamReader) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next part's JPEG bytes, checking its headers.
func (s *streamReader) next() []byte {
	s.t.Helper()
	p, err := s.mr.NextPart()
	if err != nil {
		s.t.Fatalf("reading the next part: %v", err)
	}
	if ct := p.Header.Get("Content-Type"); ct != "image/jpeg" {
		s.t.Errorf("part Content-Type = %q; want image/jpeg", ct)
	}
	b, err := io.ReadAll(p)
	if err != nil {
		s.t.Fatalf("reading a part: %v", err)
	}
	if cl, _ := strconv.Atoi(p.Header.Get("Content-Length")); cl != len(b) {
		s.t.Errorf("part Content-Length = %q; body has %d bytes", p.Header.Get("Content-Length"), len(b))
	}
	if _, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil {
		s.t.Errorf("part is not a JPEG: %v", err)
	}
	return b
}

// distinct reads parts until n different frames in a row have been seen
// (repeats, which are keep-alives, are skipped) or the deadline passes.
func (s *streamReader) distinct(n int, within time.Duration) [][]byte {
	s.t.Helper()
	deadline := time.AfterFunc(within, s.cancel)
	defer deadline.Stop()
	var out [][]byte
	for len(out) < n {
		p, err := s.mr.NextPart()
		if err != nil {
			s.t.Fatalf("after %d distinct frames: %v", len(out), err)
		}
		b, _ := io.ReadAll(p)
		if len(out) == 0 || !bytes.Equal(out[len(out)-1], b) {
			out = append(out, b)
		}
	}
	return out
}

func indexOf(frames [][]byte, b []byte) int {
	for i, f := range frames {
		if bytes.Equal(f, b) {
			return i
		}
	}
	return -1
}

// stalledConn connects with a tiny receive buffer and never reads.
func stalledConn(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(network, address string, c syscallRawConn) error { return setRcvBuf(c, 4096) }}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, url string, auth ...string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value returns the metric's value for the given label pairs (name, value,
// ...), or -1 when there is no such series.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s, %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testPeerSecret is the secret every fleet in these tests shares.
const testPeerSecret = "a secret every instance of the test fleet shares"

// startFleet starts n servers on one folder, peered with each other and
// sharing testPeerSecret.
func startFleet(t testing.TB, n int, dir string, args ...string) []*testServer {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "peer-secret")
	if err := os.WriteFile(secret, []byte(testPeerSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--peer-secret-file", secret}, args...)
	return onFreePorts(t, n, func(addrs []string) ([]*testServer, error) {
		var urls []string
		for _, a := range addrs {
			urls = append(urls, "http://"+a)
		}
		nodes := make([]*testServer, 0, n)
		for i, a := range addrs {
			s, err := tryServer(t, append([]string{"--dir", dir, "--peers", strings.Join(urls, ","),
				"--self", urls[i], "--peer-addr", a}, args...)...)
			if err != nil {
				for _, started := range nodes {
					started.stop()
				}
				return nil, err
			}
			nodes = append(nodes, s)
		}
		return nodes, nil
	})
}

// onFreePorts calls start with n loopback addresses that were free a moment
// ago. Another socket on this machine can take one before start binds it,
// so when start fails with the address in use (having stopped what it
// started) it is called again with other addresses.
func onFreePorts(t testing.TB, n int, start func(addrs []string) ([]*testServer, error)) []*testServer {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addrs := make([]string, n)
		for i := range addrs {
			addrs[i] = freePort(t)
		}
		nodes, err := start(addrs)
		if err == nil {
			return nodes
		}
		if attempt == 5 || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
		t.Logf("%v; again on other ports", err)
	}
}

func transcodes(t *testing.T, s *testServer) float64 {
	t.Helper()
	fams := scrape(t, s.url)
	total := 0.0
	if f, ok := fams["slidestream_transcodes_total"]; ok {
		for _, m := range f.Metric {
			total += m.Counter.GetValue()
		}
	}
	return total
}

// settledTranscodes waits until the nodes' transcode counts have stopped
// changing (none running, the sum the same twice 100 ms apart) and returns
// their sum: work started before a test's requests is then not counted as
// theirs.
func settledTranscodes(t *testing.T, nodes ...*testServer) float64 {
	t.Helper()
	last := -1.0
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		sum, running := 0.0, 0.0
		for _, n := range nodes {
			sum += transcodes(t, n)
			if f, ok := scrape(t, n.url)["slidestream_transcodes_running"]; ok {
				for _, m := range f.Metric {
					running += m.Gauge.GetValue()
				}
			}
		}
		if running == 0 && sum == last {
			return sum
		}
		last = sum
	}
	t.Fatal("the transcodes never settled")
	return 0
}

// waitHealth waits until the node's /healthz says want.
func waitHealth(t *testing.T, n *testServer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(n.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still says %q after 15s; want %q", body, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remoteWidth returns a width in [from, to) whose frame of slide another
// node owns, so that s has to ask a peer for it.
func remoteWidth(t testing.TB, s *testServer, slide source.Slide, from, to int) int {
	t.Helper()
	for w := from; w < to; w++ {
		if _, remote := s.fleet.inst.PickPeer(s.frames.key(slide, w).String()); remote {
			return w
		}
	}
	t.Fatalf("no width from %d to %d is owned by another node", from, to)
	return 0
}

type syscallRawConn = syscall.RawConn

func setRcvBuf(c syscall.RawConn, n int) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
	})
	if err != nil {
		return err
	}
	return serr
}

// peerGet asks the peer port of s for the frame key names, signed with
// secret (unsigned when it is empty), and returns the status and body.
func peerGet(t testing.TB, s *testServer, key, secret string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second, Transport: signer{nil, http.DefaultTransport}}
	if secret != "" {
		client.Transport = signer{[]byte(secret), http.DefaultTransport}
	}
	resp, err := client.Get("http://" + s.fleet.ln.Addr().String() + peerPath + groupName + "/" + url.PathEscape(key))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
