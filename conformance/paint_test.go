package conformance

import (
	"fmt"
	"image/color"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// paintBudget is how soon after the server switches slides a browser must
// show the new one.
const paintBudget = 300 * time.Millisecond

// Chromium paints every slide change at once: a screenshot taken 300 ms
// after the server switched shows the new slide, at an interval longer than
// the keep-alive.
func TestChromiumPaintsEverySlideChangeAtOnce(t *testing.T) {
	t.Parallel()
	paintLatency(t, "chromium")
}

// Firefox does too. It paints a part at the boundary that closes it,
// Chromium when the next part's headers arrive: the same bytes serve both.
func TestFirefoxPaintsEverySlideChangeAtOnce(t *testing.T) {
	t.Parallel()
	paintLatency(t, "firefox")
}

// paintLatency shows a slideshow in the named browser at --interval 10 s
// (or SLIDESTREAM_PAINT_INTERVAL) and times 3 slide changes (or
// SLIDESTREAM_PAINT_CHANGES), each from the server's own switch, seen on
// /healthz, to the first screenshot that shows the new slide.
func paintLatency(t *testing.T, name string) {
	interval := 10 * time.Second
	if v := os.Getenv("SLIDESTREAM_PAINT_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SLIDESTREAM_PAINT_INTERVAL: %v", err)
		}
		interval = d
	}
	changes := 3
	if v := os.Getenv("SLIDESTREAM_PAINT_CHANGES"); v != "" {
		changes, _ = strconv.Atoi(v)
	}
	b := startBrowser(t, name, 640, 360)
	colours := []color.RGBA{red, green, blue, {224, 200, 32, 255}}
	dir := t.TempDir()
	writeSlides(t, dir, 640, 360, false, colours...)
	base, _ := start(t, "--dir", dir, "--interval", interval.String(), "--width", "640")

	showing := waitShowing(t, base, "", 20*time.Second)
	if err := b.navigate(base + "/"); err != nil {
		t.Fatal(err)
	}
	if _, ok := paintedWithin(b, colours[slideIndex(t, showing)], time.Now(), 10*time.Second); !ok {
		t.Fatalf("%s does not show %s within 10s of loading the page", name, showing)
	}
	var took []string
	for change := 1; change <= changes; change++ {
		showing = waitShowing(t, base, showing, interval+10*time.Second)
		d, ok := paintedWithin(b, colours[slideIndex(t, showing)], time.Now(), 3*time.Second)
		switch {
		case !ok:
			took = append(took, "not within 3s")
			t.Errorf("%s: slide change %d not painted within 3s", name, change)
		case d > paintBudget:
			t.Errorf("%s: slide change %d painted after %v; want within %v", name, change, d.Round(time.Millisecond), paintBudget)
			fallthrough
		default:
			took = append(took, d.Round(time.Millisecond).String())
		}
	}
	t.Logf("%s at --interval %v: slide changes painted within %s of the server's switch", name, interval, strings.Join(took, ", "))
}

// waitShowing polls /healthz every 2 ms until it names a slide other than
// was, and returns it: the moment the server switched, within a few ms.
func waitShowing(t *testing.T, base, was string, within time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(base + "/healthz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if name, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ok: showing "); ok && name != was {
				return name
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("the server did not move on from %q within %v", was, within)
	return ""
}

// slideIndex is the place of a slide named N.png by writeSlides.
func slideIndex(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".png"))
	if err != nil || n < 1 {
		t.Fatalf("unexpected slide %q", name)
	}
	return n - 1
}

// paintedWithin takes screenshots until one shows the colour over most of
// the screen, and returns how long after since that screenshot was done (so
// the paint came no later); ok is false if none did within the limit.
func paintedWithin(b browser, c color.RGBA, since time.Time, limit time.Duration) (time.Duration, bool) {
	for time.Since(since) < limit {
		m, err := b.screenshot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "screenshot:", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if share(m, c, 40) > 0.5 {
			return time.Since(since), true
		}
	}
	return 0, false
}
