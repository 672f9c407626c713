package web

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"slidestream/play"
)

type countingObserver struct{ frames, bytes atomic.Int64 }

func (o *countingObserver) FrameSent(n int, _ bool) { o.frames.Add(1); o.bytes.Add(int64(n)) }
func (o *countingObserver) ClientGone(string)       {}

// With one slide and nothing changing, the stream is kept alive by
// re-sending the frame, and each re-send is a whole, counted part.
func TestKeepAliveResendsTheFrame(t *testing.T) {
	r := newRenderer()
	tl := play.NewTimeline(newSource("only.jpg"), r, play.TimelineOptions{Interval: time.Hour, Width: 8})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tl.Run(ctx)
	obs := &countingObserver{}
	h := NewHandler(tl, HandlerOptions{Width: 8, KeepAlive: 50 * time.Millisecond, Observe: obs})
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/slideshow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(resp.Body, params["boundary"])
	deadline := time.AfterFunc(5*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for i := range 6 {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if !bytes.Equal(b, r.frame("only.jpg")) {
			t.Fatalf("part %d is not the slide's frame", i)
		}
	}
	if n := obs.frames.Load(); n < 6 {
		t.Errorf("observer counted %d frames; the client read 6", n)
	}
}

// rawPart is one part of a stream as it arrived: its body, when the body's
// last byte was read, and when the boundary after it began to arrive.
type rawPart struct {
	body           []byte
	done, boundary time.Time
}

// readParts reads n parts from a stream by hand, noting when each body
// ends and when the next part's boundary begins to arrive.
func readParts(t *testing.T, url string, n int) []rawPart {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	timer := time.AfterFunc(20*time.Second, func() { resp.Body.Close() })
	defer timer.Stop()
	r := bufio.NewReader(resp.Body)
	var parts []rawPart
	for len(parts) <= n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d parts: %v", len(parts), err)
		}
		if strings.HasPrefix(line, "--"+Boundary) && len(parts) > 0 && parts[len(parts)-1].boundary.IsZero() {
			parts[len(parts)-1].boundary = time.Now()
		}
		length := -1
		for line != "\r\n" {
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if line, err = r.ReadString('\n'); err != nil {
				t.Fatalf("headers of part %d: %v", len(parts), err)
			}
		}
		body := make([]byte, length+2) // and the CRLF that ends it
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatalf("body of part %d: %v", len(parts), err)
		}
		parts = append(parts, rawPart{body: body[:length], done: time.Now()})
	}
	return parts[:n]
}

// Browsers paint a part only once the next one begins, so every frame
// must be followed at once by the next part's boundary: here the slides
// change after the keep-alive is due, and the next part is a repeat,
// committed without waiting.
func TestEveryFrameIsFollowedByTheNextBoundaryAtOnce(t *testing.T) {
	r := newRenderer()
	tl := play.NewTimeline(newSource("a", "b", "c"), r, play.TimelineOptions{Interval: 1500 * time.Millisecond, Width: 8})
	run(t, tl)
	srv := httptest.NewServer(NewHandler(tl, HandlerOptions{Width: 8, KeepAlive: time.Second}))
	defer srv.Close()
	parts := readParts(t, srv.URL+"/slideshow", 5)
	changes := 0
	for i, p := range parts {
		if i > 0 && !bytes.Equal(p.body, parts[i-1].body) {
			changes++
		}
		if wait := p.boundary.Sub(p.done); wait > 100*time.Millisecond {
			t.Errorf("part %d (a %s): the next boundary came %v after it; want at once", i,
				map[bool]string{true: "new slide", false: "repeat"}[i == 0 || !bytes.Equal(p.body, parts[i-1].body)], wait.Round(time.Millisecond))
		}
	}
	if changes < 2 {
		t.Errorf("%d slide changes in %d parts; want at least 2", changes, len(parts))
	}
}

// When the slides change before the keep-alive is due, the part after each
// frame is the next slide, not a repeat: a short interval costs no extra
// frames on the wire.
func TestShortIntervalSendsNoRepeats(t *testing.T) {
	r := newRenderer()
	tl := play.NewTimeline(newSource("a", "b", "c"), r, play.TimelineOptions{Interval: 200 * time.Millisecond, Width: 8})
	run(t, tl)
	srv := httptest.NewServer(NewHandler(tl, HandlerOptions{Width: 8}))
	defer srv.Close()
	parts := readParts(t, srv.URL+"/slideshow", 8)
	for i := 2; i < len(parts); i++ { // the first frame is committed before the next slide is known
		if bytes.Equal(parts[i].body, parts[i-1].body) {
			t.Errorf("part %d repeats part %d; want each part a new slide", i, i-1)
		}
		if wait := parts[i].boundary.Sub(parts[i].done); wait > 100*time.Millisecond {
			t.Errorf("part %d: the next boundary came %v after it; want at once", i, wait.Round(time.Millisecond))
		}
	}
}
