package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"slidestream/play"
)

// members counts the streams that groups write for now.
func (h *Handler) members() int {
	h.groupsMu.Lock()
	defer h.groupsMu.Unlock()
	n := 0
	for _, g := range h.groups {
		g.mu.Lock()
		n += len(g.members)
		g.mu.Unlock()
	}
	return n
}

// openParts opens a stream of srv and returns a reader of its parts.
func openParts(t *testing.T, url string) (*multipart.Reader, io.Closer) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	t.Cleanup(func() { resp.Body.Close() })
	return multipart.NewReader(resp.Body, params["boundary"]), resp.Body
}

// frameOf names the slide whose frame b is, or "" if it is none of them.
func frameOf(r interface{ frame(string) []byte }, b []byte, names ...string) string {
	for _, n := range names {
		if bytes.Equal(b, r.frame(n)) {
			return n
		}
	}
	return ""
}

// Streams at one width that have sent the same parts are written by one
// group, those that come later once they are in step; each still gets
// every slide whole, under its own headers and in order, and when they
// leave, the group ends.
func TestStreamsInStepShareOneWriter(t *testing.T) {
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprintf("own-writes=%v", own), func(t *testing.T) {
			r := sizedRenderer{1 << 10}
			names := []string{"a.jpg", "b.jpg", "c.jpg"}
			tl := play.NewTimeline(newSource(names...), r, play.TimelineOptions{Interval: 100 * time.Millisecond, Width: 8})
			run(t, tl)
			h := NewHandler(tl, HandlerOptions{Width: 8, KeepAlive: time.Second, OwnWrites: own})
			srv := httptest.NewServer(h)
			defer srv.Close()

			const clients = 5
			most := 0 // the most members seen at once
			errs := make(chan error, clients)
			var closers []io.Closer
			for i := range clients {
				time.Sleep(time.Duration(i) * 70 * time.Millisecond) // into every phase of a slide
				mr, body := openParts(t, srv.URL+"/slideshow")
				closers = append(closers, body)
				go func() {
					// 8 changes of slide, each the one after the last.
					var last string
					for changes := 0; changes < 8; {
						p, err := mr.NextPart()
						if err != nil {
							errs <- err
							return
						}
						b, _ := io.ReadAll(p)
						name := frameOf(r, b, names...)
						if name == "" || p.Header.Get("Content-Length") != fmt.Sprint(len(b)) {
							errs <- fmt.Errorf("a part of %d bytes, Content-Length %s, is none of the slides' frames", len(b), p.Header.Get("Content-Length"))
							return
						}
						if last != "" && name != last {
							if want := names[(indexOf(names, last)+1)%len(names)]; name != want {
								errs <- fmt.Errorf("%s came after %s; want %s", name, last, want)
								return
							}
							changes++
						}
						last = name
					}
					errs <- nil
				}()
			}
			for done := 0; done < clients; {
				select {
				case err := <-errs:
					if err != nil {
						t.Fatal(err)
					}
					done++
				case <-time.After(10 * time.Millisecond):
					most = max(most, h.members())
				}
			}
			if own && most != 0 {
				t.Errorf("with OwnWrites, a group wrote for %d streams", most)
			}
			if !own && most != clients {
				t.Errorf("at most %d of %d streams in step were written by a group", most, clients)
			}
			for _, c := range closers {
				c.Close()
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				h.groupsMu.Lock()
				left := len(h.groups)
				h.groupsMu.Unlock()
				if left == 0 && h.Clients() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after every client left: %d groups, %d clients", left, h.Clients())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func indexOf(names []string, n string) int {
	for i, m := range names {
		if m == n {
			return i
		}
	}
	return -1
}

// sizedRenderer gives every slide a frame of about size bytes of its
// own, of a length of its own, so that a part's Content-Length tells
// whose headers it had.
type sizedRenderer struct{ size int }

func (r sizedRenderer) frame(name string) []byte {
	x := uint32(len(name))
	for _, c := range []byte(name) {
		x = x*31 + uint32(c)
	}
	b := make([]byte, r.size+int(x%4096))
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func (r sizedRenderer) Render(_ context.Context, p play.Picture, _ int) ([]byte, error) {
	return r.frame(p.Slide.Name), nil
}

// smallSends gives each connection it accepts a 64 KiB send buffer.
type smallSends struct{ net.Listener }

func (l smallSends) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		c.(*net.TCPConn).SetWriteBuffer(64 << 10)
	}
	return c, err
}

// Where a socket cannot take a group's write whole (frames bigger than
// its buffer here), its stream is handed back the rest, sends it itself
// and joins again: every client gets whole frames under the headers
// that were sent for them, a slow one (a small receive buffer, read
// slowly) as well as one that keeps up, which is not held back.
func TestStreamsGetTheRestOfAGroupsWrite(t *testing.T) {
	r := sizedRenderer{256 << 10} // more than a small socket buffer takes at once
	names := []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg"}
	tl := play.NewTimeline(newSource(names...), r, play.TimelineOptions{Interval: 150 * time.Millisecond, Width: 8})
	run(t, tl)
	h := NewHandler(tl, HandlerOptions{Width: 8, KeepAlive: time.Second, WriteTimeout: 5 * time.Second})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallSends{srv.Listener}
	srv.Start()
	defer srv.Close()

	fast, _ := openParts(t, srv.URL+"/slideshow")
	// The slow client: a 32 KiB receive buffer, 16 KiB read every 5 ms,
	// about 80 ms a frame.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 32<<10) })
		return err
	}}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /slideshow HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReaderSize(&slowReader{conn}, 16<<10), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	slow := multipart.NewReader(resp.Body, params["boundary"])

	fastDone := make(chan error, 1)
	go func() {
		var last string
		changes := 0
		start := time.Now()
		for time.Since(start) < 2*time.Second {
			p, err := fast.NextPart()
			if err != nil {
				fastDone <- err
				return
			}
			b, _ := io.ReadAll(p)
			name := frameOf(r, b, names...)
			if name == "" || p.Header.Get("Content-Length") != fmt.Sprint(len(b)) {
				fastDone <- fmt.Errorf("fast client: a part of %d bytes, Content-Length %s, is none of the frames", len(b), p.Header.Get("Content-Length"))
				return
			}
			if name != last {
				changes++
			}
			last = name
		}
		if changes < 7 { // 13 in 2 s at 150 ms
			fastDone <- fmt.Errorf("fast client saw %d slides in 2 s beside a slow one", changes)
			return
		}
		fastDone <- nil
	}()
	for i := range 12 {
		p, err := slow.NextPart()
		if err != nil {
			t.Fatalf("slow client, part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if frameOf(r, b, names...) == "" {
			t.Fatalf("slow client, part %d: %d bytes that are none of the frames", i, len(b))
		}
		if n := p.Header.Get("Content-Length"); n != fmt.Sprint(len(b)) {
			t.Fatalf("slow client, part %d: Content-Length %s for %d bytes", i, n, len(b))
		}
	}
	if err := <-fastDone; err != nil {
		t.Error(err)
	}
	if n := h.handbacks.Load(); n < 5 {
		t.Errorf("group writes were cut short %d times: the test did not test handing back", n)
	}
}

// slowReader reads at most 16 KiB at a time, 5 ms apart.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(b []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	return s.r.Read(b[:min(len(b), 16<<10)])
}
