package main

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// Requests for the state of sixteen channels nobody watches start sixteen
// channels, and cost nothing after the answer: no transcode for as long as
// no screen watches them. A snapshot of one renders that one frame; a
// screen that then watches it gets slides that change.
func TestChannelsNobodyWatchesCostNothing(t *testing.T) {
	dir := t.TempDir()
	for i := range 6 {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 320, 240, color.RGBA{uint8(40 * i), 90, 200, 255})
	}
	ts := startServer(t, "--dir", dir, "--interval", "1h", "--width", "160", "--max-channels-per-client", "16")
	waitHealth(t, ts, "showing 0.png")
	before := settledTranscodes(t, ts)
	for i := range 16 {
		var st struct {
			Showing string `json:"showing"`
		}
		getJSON(t, fmt.Sprintf("%s/api/state?order=shuffle&interval=%dms", ts.url, 1000+i), &st)
	}
	time.Sleep(2500 * time.Millisecond) // two slides and a half of every channel
	if n := transcodes(t, ts) - before; n != 0 {
		t.Errorf("16 channels nobody watches made %v transcodes in 2.5 s; want none", n)
	}
	if n := ts.channels.Running(); n != 16 {
		t.Errorf("%d channels running; want the 16 asked for", n)
	}
	resp, err := http.Get(ts.url + "/snapshot?width=200&order=shuffle&interval=1000ms")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("snapshot of a channel nobody watches: %s", resp.Status)
	}
	if n := settledTranscodes(t, ts) - before; n != 1 {
		t.Errorf("a snapshot of a channel nobody watches made %v transcodes; want its one frame", n)
	}
	s := openStream(t, ts.url+"/slideshow?width=160&order=shuffle&interval=1000ms")
	defer s.close()
	if got := s.distinct(3, 10*time.Second); len(got) != 3 {
		t.Errorf("a screen watching the channel saw %d slides", len(got))
	}
}

// Interval 0 plays as fast as frames are made; once every slide has been
// made and no screen watches, it rests instead of reading the cache round
// and round.
func TestThroughputModeRestsOnceEverythingIsMade(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 320, 240, color.RGBA{uint8(50 * i), 90, 200, 255})
	}
	ts := startServer(t, "--dir", dir, "--interval", "0", "--width", "160")
	hits := func() float64 { return value(scrape(t, ts.url), "slidestream_cache_hits_total") }
	deadline := time.Now().Add(10 * time.Second)
	for transcodes(t, ts) < 4 {
		if time.Now().After(deadline) {
			t.Fatal("4 slides not made within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	h := hits()
	time.Sleep(time.Second)
	if n := hits() - h; n > 0 {
		t.Errorf("with every slide made and no screen, the timeline read %v frames from the cache in a second; want it to rest", n)
	}
	s := openStream(t, ts.url+"/slideshow?width=160")
	defer s.close()
	if got := s.distinct(6, 10*time.Second); len(got) != 6 {
		t.Errorf("a screen at interval 0 saw %d frames", len(got))
	}
}

// One address holding streams open to many channels cannot take every
// channel from the real screens: it may start half of --max-channels, and
// a screen at another address still gets a channel of its own.
func TestOneAddressCannotTakeEveryChannel(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 48, color.RGBA{200, 0, 0, 255})
	solid(t, filepath.Join(dir, "b.png"), 64, 48, color.RGBA{0, 200, 0, 255})
	ts := startServer(t, "--dir", dir, "--interval", "1h", "--width", "16")
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	attacker := from("127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := map[int]int{}
	for i := range 16 {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/slideshow?width=16&interval=%ds", ts.url, 2+i), nil)
		resp, err := attacker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got[resp.StatusCode]++
		if resp.StatusCode != 200 {
			resp.Body.Close()
		} // the streams that opened stay open until the test ends
	}
	if got[200] != 8 || got[503] != 8 {
		t.Errorf("16 channels held from one address: %v by status; want 8 opened (half of --max-channels 16) and 8 refused", got)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url+"/slideshow?width=64&album=&order=shuffle", nil)
	resp, err := from("127.0.0.2").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a screen at another address asking for a new channel: %s; want it played", resp.Status)
	}
}
