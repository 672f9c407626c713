package conformance

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Three real processes on one folder: one cycle at two widths through every
// node transcodes each frame once in the whole fleet (three times without
// fleet mode). When a node dies and leaves the peer list, replaying costs
// at most its share of the frames again.
func TestFleetOfThree(t *testing.T) {
	dir := t.TempDir()
	colours := []color.RGBA{{200, 40, 40, 255}, {40, 200, 40, 255}, {40, 40, 200, 255},
		{200, 200, 40, 255}, {40, 200, 200, 255}, {200, 40, 200, 255}, {120, 120, 120, 255}, {240, 140, 20, 255}}
	writeSlides(t, dir, 960, 600, false, colours...)
	n, widths := len(colours), []int{320, 160}
	keys := float64(n * len(widths))
	common := []string{"--dir", dir, "--interval", "150ms", "--width", "320"}

	t.Run("without fleet flags", func(t *testing.T) {
		var nodes []*proc
		for range 3 {
			nodes = append(nodes, startProc(t, common...))
		}
		playAll(t, nodes, widths, n)
		total := 0.0
		for _, p := range nodes {
			total += metric(t, p.url, "slidestream_transcodes_total")
		}
		t.Logf("without fleet flags: %v transcodes for %v frames = %.2f per frame", total, keys, total/keys)
		if total != 3*keys {
			t.Errorf("three independent nodes transcoded %v times; want %v (each its own)", total, 3*keys)
		}
	})

	t.Run("fleet", func(t *testing.T) {
		peersFile := filepath.Join(t.TempDir(), "peers")
		secret := filepath.Join(t.TempDir(), "peer-secret")
		if err := os.WriteFile(secret, []byte("the fleet's shared secret, 32 bytes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var peerAddrs []string
		nodes := startFleetProcs(t, 3, func(addrs []string, i int) []string {
			if i == 0 {
				peerAddrs = addrs
				writePeers(t, peersFile, addrs)
			}
			a := addrs[i]
			return append(slices.Clone(common), "--peers", "@"+peersFile,
				"--self", "http://"+a, "--peer-addr", a, "--peer-secret-file", secret)
		})
		playAll(t, nodes, widths, n)
		var per []float64
		total := 0.0
		for _, p := range nodes {
			c := metric(t, p.url, "slidestream_transcodes_total")
			per = append(per, c)
			total += c
		}
		t.Logf("fleet of 3: transcodes per node %v = %.2f per frame", per, total/keys)
		if total != keys {
			t.Fatalf("the fleet transcoded %v times for %v frames; want each once", total, keys)
		}

		// The third node dies. Until the operator takes it out of the list,
		// the survivors make its frames themselves: once each per frame,
		// not once per viewer. A new width is all new frames.
		nodes[2].kill()
		before := metric(t, nodes[0].url, "slidestream_transcodes_total") + metric(t, nodes[1].url, "slidestream_transcodes_total")
		for range 2 { // two viewers per node and width
			playAll(t, nodes[:2], []int{240}, n)
		}
		during := metric(t, nodes[0].url, "slidestream_transcodes_total") + metric(t, nodes[1].url, "slidestream_transcodes_total") - before
		perrs := metric(t, nodes[0].url, `slidestream_groupcache_total{event="peer_errors"}`) +
			metric(t, nodes[1].url, `slidestream_groupcache_total{event="peer_errors"}`)
		t.Logf("node 3 dead but listed: %v transcodes for %d new frames (%v failed requests to it)", during, n, perrs)
		if during < float64(n) || during > float64(2*n) {
			t.Errorf("with node 3 dead, %d new frames cost %v transcodes; want between %d and %d (its frames once per survivor)", n, during, n, 2*n)
		}

		// The operator takes it out of the list.
		writePeers(t, peersFile, peerAddrs[:2])
		deadline := time.Now().Add(15 * time.Second)
		for metric(t, nodes[0].url, "slidestream_fleet_peers") != 2 || metric(t, nodes[1].url, "slidestream_fleet_peers") != 2 {
			if time.Now().After(deadline) {
				t.Fatal("the survivors did not pick up the new peer list within 15s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		before = metric(t, nodes[0].url, "slidestream_transcodes_total") + metric(t, nodes[1].url, "slidestream_transcodes_total")
		playAll(t, nodes[:2], widths, n)
		after := metric(t, nodes[0].url, "slidestream_transcodes_total") + metric(t, nodes[1].url, "slidestream_transcodes_total")
		t.Logf("after node 3 (owner of %v frames) left: the survivors transcoded %v more", per[2], after-before)
		if after-before > per[2] {
			t.Errorf("replaying after node 3 left cost %v transcodes; want at most its share, %v", after-before, per[2])
		}
	})
}
