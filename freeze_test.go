package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"slidestream/decode"
	"slidestream/encode"
)

// bigPhotos writes n different 4000×3000 baseline JPEGs (12 megapixels,
// as a phone takes them) into dir/a and links each into the albums b, c
// and d, so a library of 4n files holds n decodes' worth of pictures. It
// returns the folder.
func bigPhotos(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range []string{"a", "b", "c", "d"} {
		if err := os.Mkdir(filepath.Join(dir, a), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const w, h = 4000, 3000
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for y := range h {
				row := m.Y[y*m.YStride : y*m.YStride+w]
				for x := range row {
					row[x] = uint8((x*(i+1))/40+y/30) + uint8(r.IntN(24))
				}
			}
			for j := range m.Cb {
				m.Cb[j], m.Cr[j] = uint8(60+i*20), uint8(200-i*15)
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
				t.Error(err)
				return
			}
			p := filepath.Join(dir, "a", fmt.Sprintf("%02d.jpg", i))
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Error(err)
				return
			}
			for _, a := range []string{"b", "c", "d"} {
				if err := os.Link(p, filepath.Join(dir, a, fmt.Sprintf("%02d.jpg", i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return dir
}

// decodesOf is the decode-memory budget that n decodes of a photo in dir
// need at the given width, as the transcoder reckons them.
func decodesOf(t testing.TB, path string, width, n int) string {
	t.Helper()
	f, err := decode.Open(path, decode.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, or := f.Header(), f.Orientation()
	o := encode.Options{Width: width}
	do := decode.Options{Shrink: encode.Shrink(h.Width, h.Height, or, o), Rows: true}
	one := f.Memory(do) + encode.Memory(h.Width, h.Height, or, o, f.Shrinks(do), f.Planar())
	return strconv.FormatInt(int64(n)*one, 10)
}

// changes watches a stream and records when each new frame arrives (a
// part that differs from the one before it), until ctx ends.
type changes struct {
	url string
	mu  sync.Mutex
	at  []time.Time
	err error
}

func watch(ctx context.Context, wg *sync.WaitGroup, url string) *changes {
	c := &changes{url: url}
	wg.Go(func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.setErr(err)
			return
		}
		defer resp.Body.Close()
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil {
			c.setErr(err)
			return
		}
		mr := multipart.NewReader(resp.Body, params["boundary"])
		var last []byte
		for {
			p, err := mr.NextPart()
			if err != nil {
				if ctx.Err() == nil {
					c.setErr(err)
				}
				return
			}
			b, err := io.ReadAll(p)
			if err != nil {
				if ctx.Err() == nil {
					c.setErr(err)
				}
				return
			}
			if !bytes.Equal(b, last) {
				last = b
				c.mu.Lock()
				c.at = append(c.at, time.Now())
				c.mu.Unlock()
			}
		}
	})
	return c
}

func (c *changes) setErr(err error) { c.mu.Lock(); c.err = err; c.mu.Unlock() }

// longestStill is the longest time the stream showed one frame between
// from and to, counting the time before its first frame.
func (c *changes) longestStill(from, to time.Time) (time.Duration, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var worst time.Duration
	last := from
	for _, at := range c.at {
		worst = max(worst, at.Sub(last))
		last = at
	}
	return max(worst, to.Sub(last)), len(c.at)
}

// Two screens at different widths made the transcoder wait for decode
// memory while holding both worker turns; the memory was kept for partner
// loads that waited for a turn, and every channel stopped. Two channels
// at two widths each, on 12-megapixel photos, a budget of three decodes
// and two workers: every stream must keep changing slides every second.
func TestTwoWidthsOnLargePhotosNeverFreeze(t *testing.T) {
	if underRace {
		t.Skip("slides a second on 12-megapixel photos: not under the race detector")
	}
	run := 30 * time.Second
	if testing.Short() {
		run = 10 * time.Second
	}
	dir := bigPhotos(t, 6)
	budget := decodesOf(t, filepath.Join(dir, "a", "00.jpg"), 800, 3)
	ts := startServer(t, "--dir", dir, "--interval", "1s", "--width", "640", "--workers", "2", "--decode-memory", budget)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := time.Now()
	var ws []*changes
	for _, ch := range []string{"", "&album=b&order=shuffle"} {
		for _, w := range []int{640, 800} {
			ws = append(ws, watch(ctx, &wg, fmt.Sprintf("%s/slideshow?width=%d%s", ts.url, w, ch)))
		}
	}
	time.Sleep(run)
	end := time.Now()
	cancel()
	wg.Wait()
	for _, c := range ws {
		still, n := c.longestStill(start, end)
		t.Logf("%s: %d frames in %v, longest on one frame %v", c.url, n, run.Round(time.Second), still.Round(time.Millisecond))
		if c.err != nil {
			t.Errorf("%s: %v", c.url, c.err)
		}
		// One second a slide; the first frame may take a cold start.
		if still > 3*time.Second {
			t.Errorf("%s showed one frame for %v (of %v); want a new slide every second", c.url, still.Round(time.Millisecond), run)
		}
	}
}

// TestSoak plays 4 channels at 4 widths each with crossfades on
// 12-megapixel photos, with screens that come and go at random widths and
// channels and leave half way through a frame, on two workers and a budget
// of three decodes. The sixteen screens that stay (each channel at four
// widths) must keep changing slides.
// It runs 40 s, or SLIDESTREAM_SOAK (a duration) for a longer soak, and
// logs slide changes a second, CPU and peak memory.
func TestSoak(t *testing.T) {
	if testing.Short() || underRace {
		t.Skip("a soak: skipped with -short and under the race detector")
	}
	run := 40 * time.Second
	if v := os.Getenv("SLIDESTREAM_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SLIDESTREAM_SOAK=%q: %v", v, err)
		}
		run = d
	}
	dir := bigPhotos(t, 6)
	budget := decodesOf(t, filepath.Join(dir, "a", "00.jpg"), 1280, 3)
	ts := startServer(t, "--dir", dir, "--interval", "2s", "--fade", "500ms", "--width", "640",
		"--workers", "2", "--decode-memory", budget)
	channels := []string{"", "&album=b&order=shuffle", "&album=c&interval=3s", "&order=newest&interval=2500ms"}
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := time.Now()
	var stay []*changes
	var stayCh []int // the channel of each
	for i, ch := range channels {
		for _, w := range []int{640, 800, 960 + 32*i, 1280} {
			stay = append(stay, watch(ctx, &wg, fmt.Sprintf("%s/slideshow?width=%d%s", ts.url, w, ch)))
			stayCh = append(stayCh, i)
		}
	}
	// The slides each channel shows, read from /api/state as a screen's
	// remote would.
	slideChanges := make([]int, len(channels))
	wg.Go(func() {
		last := make([]string, len(channels))
		for tick := time.NewTicker(200 * time.Millisecond); ctx.Err() == nil; <-tick.C {
			for i, ch := range channels {
				var st struct {
					Showing string `json:"showing"`
					Index   int    `json:"index"`
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.url+"/api/state?"+strings.TrimPrefix(ch, "&"), nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
				if now := fmt.Sprint(st.Index, st.Showing); st.Showing != "" && now != last[i] {
					if last[i] != "" {
						slideChanges[i]++
					}
					last[i] = now
				}
			}
		}
	})
	var visits, snapshots atomic.Int64
	for g := range 12 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for ctx.Err() == nil {
				u := fmt.Sprintf("%s/slideshow?width=%d%s", ts.url, 320+r.IntN(4)*160, channels[r.IntN(len(channels))])
				if r.IntN(4) == 0 {
					u = strings.Replace(u, "/slideshow", "/snapshot", 1)
					snapshots.Add(1)
				}
				visit, leave := context.WithTimeout(ctx, time.Duration(200+r.IntN(6000))*time.Millisecond)
				req, _ := http.NewRequestWithContext(visit, "GET", u, nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				leave()
				visits.Add(1)
			}
		})
	}
	time.Sleep(run)
	end := time.Now()
	cancel()
	wg.Wait()
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	var slides int
	for _, n := range slideChanges {
		slides += n
	}
	for i, c := range stay {
		still, n := c.longestStill(start, end)
		if c.err != nil {
			t.Errorf("%s: %v", c.url, c.err)
		}
		if still > 20*time.Second { // a freeze is for ever; a busy machine is slow
			t.Errorf("%s showed one frame for %v (of %v); want a change every few seconds", c.url, still.Round(time.Millisecond), run)
		}
		t.Logf("%s: %d different frames, longest on one frame %v (its channel changed slides %d times)", c.url, n, still.Round(time.Millisecond), slideChanges[stayCh[i]])
	}
	t.Logf("soak of %v: %d channels at 4 widths changed slides %.2f times a second together; %d visits (%d snapshots) came and went; CPU %.1f s (%.0f%% of one core); peak RSS of the test process %d MiB",
		run, len(channels), float64(slides)/run.Seconds(), visits.Load(), snapshots.Load(), cpu.Seconds(), 100*cpu.Seconds()/run.Seconds(), after.Maxrss>>10)
}
