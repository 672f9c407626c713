package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/groupcache/groupcache-go/v3/transport/peer"

	"slidestream/play"
	"slidestream/source"
	"slidestream/transcode"
)

// shares returns each peer's fraction of the keys under a hash function.
func shares(hash peer.HashFn, keys []string, peers []string) map[string]float64 {
	p := peer.NewPicker(peer.Options{HashFn: hash, Replicas: 50})
	for _, a := range peers {
		p.Add(&peer.NoOpClient{Info: peer.Info{Address: a}})
	}
	out := map[string]float64{}
	for _, k := range keys {
		out[p.Get(k).PeerInfo().Address] += 1 / float64(len(keys))
	}
	return out
}

// Keys of one folder differ in a few characters. xxhash must spread them
// evenly over the fleet.
func TestKeysSpreadEvenly(t *testing.T) {
	var keys []string
	for i := range 200 {
		for _, w := range []int{1280, 640, 320} {
			k := transcode.Key{Size: int64(3_000_000 + i*7919), ModTime: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC).UnixNano(),
				Width: w, Quality: 80, Name: fmt.Sprintf("IMG_%04d.jpg", 1000+i)}
			keys = append(keys, k.String())
		}
	}
	peers := []string{"10.0.0.1:8081", "10.0.0.2:8081", "10.0.0.3:8081"}
	fnv1 := func(b []byte) uint64 { h := fnv.New64(); h.Write(b); return h.Sum64() }
	x := shares(xxhash.Sum64, keys, peers)
	f := shares(fnv1, keys, peers)
	t.Logf("share of %d keys per peer: xxhash %v; FNV-1 %v", len(keys), x, f)
	for _, a := range peers {
		if x[a] < 0.25 || x[a] > 0.42 {
			t.Errorf("with xxhash, peer %s owns %.0f%% of the keys; want about a third", a, 100*x[a])
		}
	}
}

// Many readers on every node at once: each frame is transcoded once in
// the whole fleet, and every node serves the same bytes.
func TestFleetTranscodesEachKeyOnce(t *testing.T) {
	dir := t.TempDir()
	colours := []color.RGBA{{200, 0, 0, 255}, {0, 200, 0, 255}, {0, 0, 200, 255}, {200, 200, 0, 255}, {0, 200, 200, 255}}
	for i, c := range colours {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 400, 250, c)
	}
	nodes := startFleet(t, 3, dir, "--width", "320", "--interval", "1h")
	widths := []int{320, 160}
	slides := nodes[0].timeline.Slides()

	var mu sync.Mutex
	got := map[string][]byte{} // by slide and width: the bytes every reader must agree on
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 4 { // readers per node
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, s := range slides {
					for _, w := range widths {
						b, err := n.frames.Render(context.Background(), play.Picture{Slide: s}, w)
						if err != nil {
							t.Errorf("%s at %d: %v", s.Name, w, err)
							return
						}
						k := fmt.Sprintf("%s@%d", s.Name, w)
						mu.Lock()
						if prev, ok := got[k]; ok && !bytes.Equal(prev, b) {
							t.Errorf("%s: two readers got different bytes", k)
						}
						got[k] = b
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	total := 0.0
	var per []float64
	for _, n := range nodes {
		c := transcodes(t, n)
		per = append(per, c)
		total += c
	}
	t.Logf("transcodes per node %v for %d keys", per, len(slides)*len(widths))
	// There is no local cache in fleet mode, so none of its series.
	for _, n := range nodes {
		if v := value(scrape(t, n.url), "slidestream_cache_misses_total"); v != -1 {
			t.Errorf("fleet node exports slidestream_cache_misses_total = %v; want no local cache metrics", v)
		}
	}
	if want := float64(len(slides) * len(widths)); total != want {
		t.Errorf("the fleet transcoded %v times for %v distinct frames; want exactly once each", total, want)
	}
}

// The peer port answers frame requests only: groupcache's write and delete
// requests are refused.
func TestPeerPortOnlyServesFrames(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{200, 0, 0, 255})
	nodes := startFleet(t, 2, dir)
	peerURL := "http://" + nodes[0].fleet.ln.Addr().String()
	for _, m := range []string{"PUT", "DELETE", "POST"} {
		req, _ := http.NewRequest(m, peerURL+peerPath+groupName+"/f2%2F64x0%2Fq80%2F000000%2Fcolor%2F-%2F-%2F1%2F2%2Fa.png", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s on the peer port: %s; want 403", m, resp.Status)
		}
	}
	// The public port has no peer path.
	resp, err := http.Get(nodes[0].url + peerPath + groupName + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("peer path on the public port: %s; want 404", resp.Status)
	}
}

// A file the owner cannot decode is tried once in the fleet: the others
// get the owner's reason instead of trying again.
func TestFleetBadFileIsTriedOnce(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "jpeg-420.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cut.jpg"), b[:len(b)/3], 0o644)
	nodes := startFleet(t, 3, dir, "--width", "320", "--interval", "1h")
	// Let every timeline try it at the default width first.
	for _, n := range nodes {
		waitHealth(t, n, "none of the 1 images")
	}
	slide := nodes[0].timeline.Slides()[0]
	width := remoteWidth(t, nodes[0], slide, 100, 300) // node 0 asks a peer
	var errs []error
	for _, n := range nodes {
		_, err := n.frames.Render(context.Background(), play.Picture{Slide: slide}, width)
		errs = append(errs, err)
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "not a valid JPEG") {
			t.Errorf("node %d: err = %v; want the owner's reason", i, err)
		}
	}
	failed := 0.0
	for _, n := range nodes {
		fams := scrape(t, n.url)
		failed += max(0, value(fams, "slidestream_transcodes_total", "format", "jpeg", "result", "error"))
	}
	// The timelines asked for the default width, each in its own time; the
	// test for another width, all at once.
	if failed != 2 {
		t.Errorf("the fleet tried the bad file %v times for 2 keys; want once per key", failed)
	}
}

// A viewer who leaves while a frame is being fetched from its owner does
// not cancel the fetch for another viewer waiting for the same frame, nor
// the transcode: it finishes, is kept, and is not done again.
func TestFleetFetchOutlivesTheCaller(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 2400, 1500, color.RGBA{10, 120, 200, 255})
	nodes := startFleet(t, 2, dir, "--width", "320", "--interval", "1h")
	for _, n := range nodes { // the timelines have made the 320 frame
		waitHealth(t, n, "showing a.png")
	}
	slide := nodes[0].timeline.Slides()[0]
	width := remoteWidth(t, nodes[0], slide, 100, 300)
	// The first viewer gives up after 5ms; the second, who asked at the
	// same time, waits.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := nodes[0].frames.Render(ctx, play.Picture{Slide: slide}, width)
		first <- err
	}()
	time.Sleep(time.Millisecond)
	b, err := nodes[0].frames.Render(context.Background(), play.Picture{Slide: slide}, width)
	if err != nil || len(b) == 0 {
		t.Fatalf("the second viewer got %d bytes, %v; want the frame", len(b), err)
	}
	if err := <-first; err == nil {
		t.Log("the frame was ready within 5ms; the test proves less")
	}
	if n := transcodes(t, nodes[0]) + transcodes(t, nodes[1]); n != 2 {
		t.Errorf("%v transcodes; want 2 (the 320 frame and the %d one, once)", n, width)
	}
}

// The peer port does no work for a stranger or for a frame no client of
// this instance could have asked for, and its refusals tell nothing about
// the folder.
func TestPeerPortRefusesWhatNoClientCouldAsk(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 640, 400, color.RGBA{10, 120, 200, 255})
	copyFixture(t, dir, "png-rgb.png", ".hidden.png")
	os.MkdirAll(filepath.Join(dir, "album", "@eaDir"), 0o755)
	solid(t, filepath.Join(dir, "album", "b.png"), 64, 40, color.RGBA{200, 120, 10, 255})
	solid(t, filepath.Join(dir, "album", "@eaDir", "c.png"), 64, 40, color.RGBA{200, 120, 10, 255})
	litter, _ := os.Stat(filepath.Join(dir, "album", "@eaDir", "c.png"))
	nodes := startFleet(t, 2, dir, "--width", "320", "--interval", "1h")
	for _, n := range nodes {
		waitHealth(t, n, "showing a.png")
	}
	s := nodes[0]
	slide := s.timeline.Slides()[0]
	good := s.frames.key(slide, 200)
	hidden, err := s.folder.Stat("a.png") // a version that exists, for a name the folder does not list
	if err != nil {
		t.Fatal(err)
	}
	// The slide after a.png is rendered ahead: count from when that is
	// done, so that only what the refused requests cost is counted.
	before := settledTranscodes(t, nodes...)

	refused := map[string]struct {
		key    transcode.Key
		secret string
	}{
		"unsigned":           {good, ""},
		"signed by another":  {good, "some other fleet's secret, just as long"},
		"16384x16384 q100":   {transcode.Key{Name: "a.png", Size: good.Size, ModTime: good.ModTime, Width: 16384, Height: 16384, Quality: 100}, testPeerSecret},
		"other quality":      {func() transcode.Key { k := good; k.Quality = 79; return k }(), testPeerSecret},
		"other background":   {func() transcode.Key { k := good; k.Background = color.RGBA{1, 2, 3, 255}; return k }(), testPeerSecret},
		"a height, no --fit": {func() transcode.Key { k := good; k.Height = 100; return k }(), testPeerSecret},
		"a width of 5":       {func() transcode.Key { k := good; k.Width = 5; return k }(), testPeerSecret},
		"another version":    {func() transcode.Key { k := good; k.Size++; return k }(), testPeerSecret},
		"a dot file":         {func() transcode.Key { k := good; k.Name, k.Size = ".hidden.png", hidden.Size; return k }(), testPeerSecret},
		"no such file":       {func() transcode.Key { k := good; k.Name = "gone.png"; return k }(), testPeerSecret},
		"NAS litter": {func() transcode.Key {
			k := good
			k.Name, k.Size, k.ModTime = "album/@eaDir/c.png", litter.Size(), litter.ModTime().UnixNano()
			return k
		}(), testPeerSecret},
		"a way up and down": {func() transcode.Key { k := good; k.Name = "album/../a.png"; return k }(), testPeerSecret},
		"a blurred fill":    {func() transcode.Key { k := good; k.Blur = true; return k }(), testPeerSecret},
		"a caption":         {func() transcode.Key { k := good; k.Caption.Template = 0x1234; return k }(), testPeerSecret},
		"a pair": {func() transcode.Key {
			k := good
			k.Pair = transcode.PairKey{Name: "a.png", Size: good.Size, ModTime: good.ModTime}
			return k
		}(), testPeerSecret},
	}
	for what, r := range refused {
		start := time.Now()
		code, body := peerGet(t, s, r.key.String(), r.secret)
		if code != http.StatusForbidden || time.Since(start) > time.Second {
			t.Errorf("%s: %d %.80q after %v; want 403 at once", what, code, body, time.Since(start).Round(time.Millisecond))
		}
		if strings.Contains(body, dir) || strings.Contains(body, "hidden") || strings.Contains(body, "no such file") {
			t.Errorf("%s: the refusal %q tells about the folder", what, body)
		}
	}
	if after := transcodes(t, nodes[0]) + transcodes(t, nodes[1]); after != before {
		t.Errorf("refused requests cost %v transcodes; want none", after-before)
	}
	if code, body := peerGet(t, s, good.String(), testPeerSecret); code != http.StatusOK {
		t.Errorf("a signed request for a frame a client could ask for: %d %.80q; want 200", code, body)
	}
	inAlbum, err := s.folder.Stat("album/b.png")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := peerGet(t, s, s.frames.key(inAlbum, 200).String(), testPeerSecret); code != http.StatusOK {
		t.Errorf("a signed request for a photo in an album: %d %.80q; want 200", code, body)
	}
}

// Fleet mode without a shared secret works, and says loudly that anyone
// who reaches the peer port can ask for frames.
func TestFleetWithoutSecretWarns(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 40, color.RGBA{10, 120, 200, 255})
	s := onFreePorts(t, 1, func(addrs []string) ([]*testServer, error) {
		s, err := tryServer(t, "--dir", dir, "--peers", "http://"+addrs[0], "--self", "http://"+addrs[0], "--peer-addr", addrs[0])
		return []*testServer{s}, err
	})[0]
	if !strings.Contains(s.logs.String(), "without --peer-secret-file") {
		t.Errorf("no warning about the missing secret in the log:\n%s", s.logs.String())
	}
	waitHealth(t, s, "showing a.png")
	k := s.frames.key(s.timeline.Slides()[0], 32)
	if code, body := peerGet(t, s, k.String(), ""); code != http.StatusOK {
		t.Errorf("unsigned peer request without a secret configured: %d %.80q; want 200", code, body)
	}
}

// Frames with a blurred fill and a caption that counts are shared like any
// other: a peer accepts keys with this fleet's caption and places in play
// order, and refuses other captions.
func TestFleetSharesCaptionedFrames(t *testing.T) {
	dir := t.TempDir()
	halves(t, filepath.Join(dir, "a.png"), 90, 160, color.RGBA{200, 30, 30, 255}, color.RGBA{30, 30, 200, 255})
	solid(t, filepath.Join(dir, "b.png"), 160, 90, color.RGBA{10, 120, 200, 255})
	nodes := startFleet(t, 2, dir, "--fit", "320x180", "--fill", "blur", "--caption", "{name} ({index} of {count})", "--interval", "1h")
	for _, n := range nodes {
		waitHealth(t, n, "showing a.png")
	}
	if a, b := snapshot(t, nodes[0], ""), snapshot(t, nodes[1], ""); !bytes.Equal(a, b) {
		t.Errorf("the two instances show different frames for the same slide")
	}
	s := nodes[0]
	slide := s.timeline.Slides()[1]
	k := s.frames.key(slide, 320)
	k.Caption = s.frames.captionKey(play.Picture{Slide: slide, Index: 1, Count: 2})
	if code, body := peerGet(t, s, k.String(), testPeerSecret); code != http.StatusOK {
		t.Errorf("a captioned frame this fleet makes: %d %.80q; want 200", code, body)
	}
	other := k
	other.Caption.Template++
	if code, _ := peerGet(t, s, other.String(), testPeerSecret); code != http.StatusForbidden {
		t.Errorf("another caption: %d; want 403", code)
	}
	plain := k
	plain.Blur = false
	if code, _ := peerGet(t, s, plain.String(), testPeerSecret); code != http.StatusForbidden {
		t.Errorf("a frame without the blurred fill: %d; want 403", code)
	}
}

// A frame nobody waits for any more is dropped before its transcode
// starts, on whichever instance owns it: asked for here or by a peer.
func TestFleetDropsAbandonedRenders(t *testing.T) {
	dir := t.TempDir()
	noisy(t, filepath.Join(dir, "big.png"), 4000, 3000, color.RGBA{90, 60, 30, 255})
	solid(t, filepath.Join(dir, "small.png"), 1200, 800, color.RGBA{10, 120, 200, 255})
	nodes := startFleet(t, 2, dir, "--width", "320", "--interval", "1h", "--workers", "1")
	for _, n := range nodes {
		waitHealth(t, n, "showing")
	}
	var big, small source.Slide
	for _, s := range nodes[0].timeline.Slides() {
		if s.Name == "big.png" {
			big = s
		} else {
			small = s
		}
	}
	for i, c := range []struct {
		what       string
		asker, own int
	}{{"asked here", 1, 1}, {"asked by a peer", 0, 1}} {
		t.Run(c.what, func(t *testing.T) {
			owner := nodes[c.own]
			other := nodes[1-c.own]
			// Widths the owner owns: one for a long transcode that keeps
			// its one worker busy, one for the frame given up on.
			from := 400 + 200*i // widths no earlier case used
			busyW := remoteWidth(t, other, big, from, from+200)
			dropW := remoteWidth(t, other, small, from, from+200)
			// The timelines have prepared both slides and rest.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				st0, _ := nodes[0].timeline.State()
				st1, _ := nodes[1].timeline.State()
				if st0.Next != nil && st1.Next != nil && nodes[0].frames.tr.Running()+nodes[1].frames.tr.Running() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the timelines did not settle")
				}
			}
			before := transcodes(t, owner)
			busy := make(chan error, 1)
			go func() {
				_, err := owner.frames.Render(context.Background(), play.Picture{Slide: big}, busyW)
				busy <- err
			}()
			for deadline := time.Now().Add(5 * time.Second); owner.frames.tr.Running() == 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the long transcode did not start")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := nodes[c.asker].frames.Render(ctx, play.Picture{Slide: small}, dropW)
			cancel()
			if err == nil {
				t.Fatal("the frame came within 50ms, while the owner's one worker was busy")
			}
			if err := <-busy; err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // time enough for a queued transcode to have run
			if n := transcodes(t, owner) - before; n != 1 {
				t.Errorf("%v transcodes on the owner; want 1 (the long one), the abandoned frame dropped", n)
			}
		})
	}
}
