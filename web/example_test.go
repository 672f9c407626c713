package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"slidestream/play"
	"slidestream/source"
	"slidestream/web"
)

// grey renders every slide as a plain grey frame of the asked width.
type grey struct{}

func (grey) Render(_ context.Context, _ play.Picture, width int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, width, width*3/4)), nil)
	return b.Bytes(), err
}

// scanned lists dir once.
func scanned(dir string) *source.Folder {
	f := source.NewFolder(dir, source.FolderOptions{})
	f.Scan()
	return f
}

func Example() {
	dir, _ := os.MkdirTemp("", "photos")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "a.jpg"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.png"), []byte("x"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tl := play.NewTimeline(scanned(dir), grey{}, play.TimelineOptions{Interval: time.Hour, Width: 640})
	go tl.Run(ctx)
	srv := httptest.NewServer(web.NewHandler(tl, web.HandlerOptions{Width: 640}))
	defer srv.Close()

	// An <img src="/slideshow"> shows the stream; /snapshot is one frame.
	resp, _ := http.Get(srv.URL + "/snapshot?width=320")
	frame, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(frame))
	fmt.Println(resp.Header.Get("Content-Type"), cfg.Width, cfg.Height)

	resp, _ = http.Get(srv.URL + "/healthz")
	health, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(health))
	// Output:
	// image/jpeg 320 240
	// ok: showing a.jpg
}
