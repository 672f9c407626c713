package main

import (
	"bytes"
	"context"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/groupcache/groupcache-go/v3"
	"github.com/groupcache/groupcache-go/v3/transport"
	dto "github.com/prometheus/client_model/go"
)

func TestMetricsCountWhatHappened(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 320, 200, color.RGBA{200, 0, 0, 255})
	solid(t, filepath.Join(dir, "b.png"), 320, 200, color.RGBA{0, 200, 0, 255})
	copyFixture(t, dir, "jpeg-420.jpg", "c.jpg")
	b, _ := os.ReadFile(filepath.Join("testdata", "jpeg-420.jpg"))
	os.WriteFile(filepath.Join(dir, "d-cut.jpg"), b[:len(b)/3], 0o644)
	s := startServer(t, "--dir", dir, "--interval", "150ms", "--width", "160")

	st := openStream(t, s.url+"/slideshow")
	frames := st.distinct(4, 10*time.Second)
	st.close()

	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(5 * time.Second)
	for {
		fams = scrape(t, s.url)
		// A scrape gathers its collectors concurrently: one may still
		// see the client another already counts as gone. Wait for both.
		settled := value(fams, "slidestream_clients_gone_total", "reason", "left") == 1 && value(fams, "slidestream_clients") == 0
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	checks := []struct {
		what   string
		got    float64
		ok     bool
		expect string
	}{}
	check := func(what string, got float64, ok bool, expect string) {
		checks = append(checks, struct {
			what   string
			got    float64
			ok     bool
			expect string
		}{what, got, ok, expect})
	}
	sent := value(fams, "slidestream_frames_sent_total")
	check("frames_sent_total", sent, sent >= float64(len(frames)), ">= the distinct frames read")
	by := value(fams, "slidestream_frame_bytes_sent_total")
	check("frame_bytes_sent_total", by, by >= float64(len(bytes.Join(frames, nil))), ">= their bytes")
	check("clients_gone_total{left}", value(fams, "slidestream_clients_gone_total", "reason", "left"),
		value(fams, "slidestream_clients_gone_total", "reason", "left") == 1, "1")
	check("clients_gone_total{write-timeout}", value(fams, "slidestream_clients_gone_total", "reason", "write-timeout"),
		value(fams, "slidestream_clients_gone_total", "reason", "write-timeout") == 0, "0")
	check("clients", value(fams, "slidestream_clients"), value(fams, "slidestream_clients") == 0, "0")
	check("slides", value(fams, "slidestream_slides"), value(fams, "slidestream_slides") == 4, "4")
	check("channels", value(fams, "slidestream_channels"), value(fams, "slidestream_channels") == 0, "0 besides the default")
	check("index_pending", value(fams, "slidestream_index_pending"), value(fams, "slidestream_index_pending") == 0, "0")
	check("paused", value(fams, "slidestream_paused"), value(fams, "slidestream_paused") == 0, "0")
	check("transcodes_running", value(fams, "slidestream_transcodes_running"),
		value(fams, "slidestream_transcodes_running") >= 0, "present")
	check("asleep", value(fams, "slidestream_asleep"), value(fams, "slidestream_asleep") == 0, "0")
	mw := value(fams, "slidestream_decode_memory_wait_seconds_total")
	check("decode_memory_wait_seconds_total", mw, mw >= 0 && mw < 1, "present, near 0 (the budget is far larger than these slides)")
	idx := value(fams, "slidestream_slide_index")
	check("slide_index", idx, idx >= 0 && idx <= 2, "0..2 (d-cut.jpg is never shown)")
	check("skipped_files{corrupt}", value(fams, "slidestream_skipped_files", "kind", "corrupt"),
		value(fams, "slidestream_skipped_files", "kind", "corrupt") == 1, "1")
	check("skipped_files{too-large}", value(fams, "slidestream_skipped_files", "kind", "too-large"),
		value(fams, "slidestream_skipped_files", "kind", "too-large") == 0, "0")
	// Each good slide is transcoded once at the one width, however often
	// it comes round.
	png := value(fams, "slidestream_transcodes_total", "format", "png", "result", "ok")
	check("transcodes_total{png,ok}", png, png == 2, "2")
	jpg := value(fams, "slidestream_transcodes_total", "format", "jpeg", "result", "ok")
	check("transcodes_total{jpeg,ok}", jpg, jpg == 1, "1")
	bad := value(fams, "slidestream_transcodes_total", "format", "jpeg", "result", "error")
	check("transcodes_total{jpeg,error}", bad, bad >= 1, ">= 1")
	h := value(fams, "slidestream_transcode_seconds", "format", "png")
	check("transcode_seconds_count{png}", h, h == 2, "2")
	hits := value(fams, "slidestream_cache_hits_total")
	check("cache_hits_total", hits, hits >= 1, ">= 1 (slides come round again)")
	miss := value(fams, "slidestream_cache_misses_total")
	check("cache_misses_total", miss, miss >= 3, ">= 3")
	cb := value(fams, "slidestream_cache_bytes")
	check("cache_bytes", cb, cb > 0 && cb < 1<<20, "> 0")
	held := value(fams, "slidestream_cache_held_bytes")
	check("cache_held_bytes", held, held > 0 && held <= cb, "> 0 and within cache_bytes (the slides on screen and next)")
	check("cache_frames", value(fams, "slidestream_cache_frames"), value(fams, "slidestream_cache_frames") == 3, "3")
	check("go_goroutines", value(fams, "go_goroutines"), value(fams, "go_goroutines") > 0, "present")
	check("process_resident_memory_bytes", value(fams, "process_resident_memory_bytes"),
		value(fams, "process_resident_memory_bytes") > 0, "present")
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s = %v; want %s", c.what, c.got, c.expect)
		}
	}
}

// groupStats reads the group's own counters, not a copy: a Get made after
// it was taken shows in it (and the race detector sees only atomic loads).
func TestGroupStatsAreTheGroupsOwn(t *testing.T) {
	inst := groupcache.New(groupcache.Options{})
	g, err := inst.NewGroup("stats-test", 1<<20, groupcache.GetterFunc(
		func(ctx context.Context, key string, dest transport.Sink) error {
			return dest.SetBytes([]byte(key), time.Time{})
		}))
	if err != nil {
		t.Fatal(err)
	}
	st := groupStats(g)
	before := st.Gets.Get()
	var b []byte
	if err := g.Get(context.Background(), "k", transport.AllocatingByteSliceSink(&b)); err != nil {
		t.Fatal(err)
	}
	if got := st.Gets.Get(); got != before+1 {
		t.Errorf("gets %d after one Get from %d: groupStats is a copy", got, before)
	}
}
