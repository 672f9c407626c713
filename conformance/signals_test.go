package conformance

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP, which service managers send for a reload, rereads the folder and
// the process serves on: it used to kill it without a word.
func TestSIGHUPRereadsInsteadOfDying(t *testing.T) {
	dir := t.TempDir()
	writeSlides(t, dir, 64, 40, false, red)
	p := startProc(t, "--dir", dir, "--interval", "1h")
	waitCached(t, p.url)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.logs.String(), "SIGHUP") {
		select {
		case err := <-p.exited:
			p.killed = true // nothing left to stop
			t.Fatalf("slidestream exited on SIGHUP: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no word of SIGHUP in the log within 5s:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(p.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after SIGHUP, /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

// SIGTERM stops an instance of a fleet, its public and its peer server,
// within 2 s, with viewers watching and a peer's request for a large frame
// still being made.
func TestFleetInstanceStopsWithin2s(t *testing.T) {
	dir := t.TempDir()
	writeSlides(t, dir, 640, 400, true, red, green)
	writePNG(t, filepath.Join(dir, "3.png"), 4000, 2500, blue, true) // seconds to transcode at 4096
	var addrs []string
	nodes := startFleetProcs(t, 2, func(as []string, i int) []string {
		addrs = as
		peers := "http://" + addrs[0] + ",http://" + addrs[1]
		return []string{"--dir", dir, "--interval", "1h", "--width", "320",
			"--peers", peers, "--self", "http://" + addrs[i], "--peer-addr", addrs[i]}
	})
	for _, n := range nodes {
		waitCached(t, n.url)
		resp, err := http.Get(n.url + "/slideshow")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
	}
	st, err := os.Stat(filepath.Join(dir, "3.png"))
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("f1/4096x0/q80/000000/%d/%d/3.png", st.Size(), st.ModTime().UnixNano())
	go http.Get("http://" + addrs[0] + "/_groupcache/frames/" + url.PathEscape(key))
	time.Sleep(200 * time.Millisecond) // the transcode is under way

	start := time.Now()
	nodes[0].killed = true // stopped here, not by the cleanup
	nodes[0].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-nodes[0].exited:
		took := time.Since(start)
		t.Logf("stopped %v after SIGTERM", took.Round(time.Millisecond))
		if err != nil {
			t.Errorf("exited with %v; want 0", err)
		}
		if took > 2*time.Second {
			t.Errorf("stopped %v after SIGTERM; want within 2s", took.Round(time.Millisecond))
		}
	case <-time.After(10 * time.Second):
		nodes[0].cmd.Process.Kill()
		<-nodes[0].exited
		t.Fatalf("still running 10s after SIGTERM")
	}
}
