package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slidestream/web"
)

// Date channels: taken=this-day (with days=N), a range and last-Nd select
// by the EXIF dates, each on its photo's own calendar day, on the day the
// clock (set here) says; an empty selection shows a frame that says so.
func TestTakenChannels(t *testing.T) {
	dir := t.TempDir()
	cols := palette(5)
	for i, f := range []struct{ name, taken, offset string }{
		{"a.jpg", "2019:03:10 10:00:00", "+00:00"},
		{"b.jpg", "2021:03:10 23:30:00", "+09:00"}, // 14:30 UTC, but 10 March where it was taken
		{"c.jpg", "2020:03:11 00:30:00", "+00:00"}, // the day after
		{"d.jpg", "2024:07:15 18:00:00", "-04:00"},
	} {
		jpegTaken(t, filepath.Join(dir, f.name), cols[i], f.taken, f.offset)
	}
	solid(t, filepath.Join(dir, "e.png"), 48, 32, cols[4]) // no date
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.Local)
	ts := startServerWith(t, func(c *config) { c.now = func() time.Time { return now } }, "--dir", dir, "--interval", "1h", "--width", "48")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rep web.ImagesReport
		getJSON(t, ts.url+"/api/images", &rep)
		if rep.Pending == 0 && rep.OK == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index has not read the dates after 10 s: %+v", rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for query, want := range map[string]string{
		"taken=this-day":               "a.jpg b.jpg",
		"taken=this-day&days=1":        "a.jpg b.jpg c.jpg",
		"taken=2024-06-01..2024-08-31": "d.jpg",
		"taken=2019-01-01..2020-12-31": "a.jpg c.jpg",
		"taken=last-90d":               "",
	} {
		var st web.StateReport
		got := []string{}
		// Each photo of the selection once, by next. A channel nobody
		// watches renders when a snapshot asks.
		for range 4 {
			get(t, ts.url+"/snapshot?"+query)
			getJSON(t, ts.url+"/api/state?"+query, &st)
			if st.Showing == "" || slices.Contains(got, st.Showing) {
				break
			}
			got = append(got, st.Showing)
			resp, err := http.Post(ts.url+"/api/next?"+query, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		slices.Sort(got)
		if strings.Join(got, " ") != want || st.Count != len(strings.Fields(want)) {
			t.Errorf("?%s: showed %q, count %d; want %q", query, got, st.Count, want)
		}
		if want == "" && !strings.Contains(st.Reason, "no photos taken in the last 90 days") {
			t.Errorf("?%s: reason %q; want it to say what is selected", query, st.Reason)
		}
	}
	for _, q := range []string{"taken=yesterday", "taken=this-day&days=99", "days=2", "taken=2024-09-01..2024-06-01"} {
		if resp, b := get(t, ts.url+"/snapshot?"+q); resp.StatusCode != 400 {
			t.Errorf("?%s: %s %s; want 400", q, resp.Status, b)
		}
	}
	// An empty selection's snapshot is a frame that says so, not an error.
	if resp, b := get(t, ts.url+"/snapshot?taken=last-90d"); resp.StatusCode != 200 || len(b) < 100 {
		t.Errorf("an empty selection's snapshot: %s, %d bytes", resp.Status, len(b))
	}
}
