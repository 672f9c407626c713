package stream

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

type countingObserver struct{ frames, bytes atomic.Int64 }

func (o *countingObserver) FrameSent(n int)   { o.frames.Add(1); o.bytes.Add(int64(n)) }
func (o *countingObserver) ClientGone(string) {}

// With one slide and nothing changing, the stream is kept alive by
// re-sending the frame, and each re-send is a whole, counted part.
func TestKeepAliveResendsTheFrame(t *testing.T) {
	r := newRenderer()
	tl := NewTimeline(newSource("only.jpg"), r, TimelineOptions{Interval: time.Hour, Width: 8})
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
		if !bytes.Equal(b, r.jpeg) {
			t.Fatalf("part %d is not the slide's frame", i)
		}
	}
	if n := obs.frames.Load(); n < 6 {
		t.Errorf("observer counted %d frames; the client read 6", n)
	}
}
