package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slidestream/internal/brokertest"
	"slidestream/web"
)

// twoAlbums makes a folder with albums beach (red photos) and snow (blue
// ones), three each.
func twoAlbums(t *testing.T) string {
	dir := t.TempDir()
	for album, c := range map[string]color.RGBA{"beach": {220, 40, 30, 255}, "snow": {30, 60, 220, 255}} {
		os.MkdirAll(filepath.Join(dir, album), 0o755)
		for i := range 3 {
			solid(t, filepath.Join(dir, album, fmt.Sprintf("%d.png", i)), 64, 48, color.RGBA{c.R, c.G + uint8(i*20), c.B, 255})
		}
	}
	return dir
}

// hue says whether a JPEG frame is mostly "red" or "blue".
func hue(t *testing.T, b []byte) string {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := m.At(m.Bounds().Dx()/2, m.Bounds().Dy()/2)
	r, _, bl, _ := c.RGBA()
	switch {
	case r > bl*2:
		return "red"
	case bl > r*2:
		return "blue"
	}
	return "other"
}

// until reads the stream until a frame of colour want comes (within n
// frames), and says whether it did.
func (s *streamReader) until(t *testing.T, want string, n int) bool {
	t.Helper()
	for range n {
		if hue(t, s.next()) == want {
			return true
		}
	}
	return false
}

func postForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// The default channel's and a screen's album and interval can be set while
// the server runs: open streams move to the new album on their
// connection, the interval changes without moving the slideshow, an
// unknown album or a channel named by its URL is refused, and an edit of
// the screen in its file takes back what was set for it.
func TestSettingsMoveOpenStreams(t *testing.T) {
	dir := twoAlbums(t)
	screens := filepath.Join(t.TempDir(), "screens.toml")
	os.WriteFile(screens, []byte("[screen.hall]\nwidth = 48\n"), 0o644)
	ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "1h", "--order", "name", "--screens", screens)

	plain := openStream(t, ts.url+"/slideshow")
	hall := openStream(t, ts.url+"/s/hall/slideshow")
	if hue(t, plain.next()) != "red" || hue(t, hall.next()) != "red" {
		t.Fatal("the whole library in name order does not start with beach")
	}
	// The default channel to snow: its stream moves, the screen's stays.
	code, body := postForm(t, ts.url+"/api/settings", url.Values{"album": {"snow"}})
	var rep web.StateReport
	if code != 200 || json.Unmarshal([]byte(body), &rep) != nil || rep.Channel.Album != "snow" || !strings.HasPrefix(rep.Showing, "snow/") {
		t.Fatalf("setting the album: %d %s", code, body)
	}
	if !plain.until(t, "blue", 10) {
		t.Error("the default channel's open stream did not move to snow")
	}
	if hue(t, hall.next()) != "red" {
		t.Error("the hall screen moved with the default channel")
	}
	if m := snapshotImage(t, ts.url+"/snapshot"); m.Bounds().Dx() != 64 {
		t.Errorf("snapshot %v wide", m.Bounds().Dx())
	}
	_, snap := get(t, ts.url+"/snapshot")
	if hue(t, snap) != "blue" {
		t.Error("/snapshot of the default channel is not from snow")
	}
	// The screen to snow too; its width stays its own.
	if code, body := postForm(t, ts.url+"/api/settings?screen=hall", url.Values{"album": {"snow"}}); code != 200 {
		t.Fatalf("setting the hall's album: %d %s", code, body)
	}
	if !hall.until(t, "blue", 10) {
		t.Error("the hall's open stream did not move to snow")
	}
	if m, _, err := image.Decode(bytes.NewReader(hall.next())); err != nil || m.Bounds().Dx() != 48 {
		t.Errorf("the hall's frames after the move: %v", err)
	}
	// The interval: the place is kept, and the slide changes on the new
	// clock.
	var st web.StateReport
	getJSON(t, ts.url+"/api/state", &st)
	if code, body := postForm(t, ts.url+"/api/settings", url.Values{"interval": {"1s"}}); code != 200 {
		t.Fatalf("setting the interval: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	var now web.StateReport
	for {
		getJSON(t, ts.url+"/api/state", &now)
		if now.Showing != st.Showing || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if now.Showing == st.Showing || now.Channel.Interval != "1s" || now.Channel.Album != "snow" {
		t.Errorf("after interval 1s: showing %q (was %q), channel %+v", now.Showing, st.Showing, now.Channel)
	}
	postForm(t, ts.url+"/api/settings", url.Values{"interval": {"1h"}})
	getJSON(t, ts.url+"/api/state", &now)
	if now.SecondsToNext < 3000 || now.Channel.Interval != "1h0m0s" {
		t.Errorf("after interval 1h: %+v", now)
	}
	// Refusals change nothing.
	for _, c := range []struct {
		path string
		form url.Values
		code int
	}{
		{"/api/settings", url.Values{"album": {"nowhere"}}, 404},
		{"/api/settings", url.Values{"album": {"../etc"}}, 400},
		{"/api/settings", url.Values{"interval": {"10ms"}}, 400},
		{"/api/settings", url.Values{}, 400},
		{"/api/settings?album=beach", url.Values{"interval": {"5s"}}, 400},
		{"/api/settings?screen=nobody", url.Values{"album": {"snow"}}, 404},
	} {
		if code, body := postForm(t, ts.url+c.path, c.form); code != c.code {
			t.Errorf("POST %s %v: %d %s; want %d", c.path, c.form, code, body, c.code)
		}
	}
	getJSON(t, ts.url+"/api/state", &now)
	if now.Channel.Album != "snow" {
		t.Errorf("after refusals the default channel plays %q", now.Channel.Album)
	}
	// The whole library again.
	postForm(t, ts.url+"/api/settings", url.Values{"album": {""}})
	if !plain.until(t, "red", 10) {
		t.Error("the default channel did not go back to the whole library")
	}
	// The hall screen edited in its file: what was set for it is gone.
	os.WriteFile(screens, []byte("[screen.hall]\nwidth = 40\n"), 0o644)
	moved := false
	for range 5 {
		f := hall.next()
		if m, _, _ := image.Decode(bytes.NewReader(f)); m != nil && m.Bounds().Dx() == 40 && hue(t, f) == "red" {
			moved = true
			break
		}
	}
	if !moved {
		t.Error("after the hall was edited in its file, its stream did not follow (40 wide, the whole library)")
	}
	if !strings.Contains(ts.logs.String(), "channel set") {
		t.Error("settings are not logged")
	}
}

// Home Assistant's album list and interval box: the discovery lists the
// albums, and a command on each moves the channel as the HTTP API does.
func TestHomeAssistantAlbumAndInterval(t *testing.T) {
	b := brokertest.Start(t)
	w := subscribe(t, b, "#")
	dir := twoAlbums(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(brokertest.Password+"\n"), 0o600)
	ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "1h", "--order", "name", "--mqtt", "mqtt://"+brokertest.User+"@"+b.Addr,
		"--mqtt-password-file", pw, "--mqtt-prefix", "slidestream/a")
	node := nodeID(mustHostname(t) + "-" + portOf(ts.url))
	var disc struct {
		Cmps map[string]map[string]any `json:"cmps"`
	}
	w.wait(t, "homeassistant/device/"+node+"/config", 10*time.Second, func(raw []byte) bool {
		return json.Unmarshal(raw, &disc) == nil && disc.Cmps[node+"_frame_album"] != nil && bytes.Contains(raw, []byte(`"snow"`))
	})
	sel := disc.Cmps[node+"_frame_album"]
	var options []string
	for _, o := range sel["options"].([]any) {
		options = append(options, o.(string))
	}
	if sel["p"] != "select" || !slices.Equal(options, []string{"All photos", "beach", "snow"}) || sel["command_topic"] != "slidestream/a/frame/album/set" {
		t.Errorf("the album select: %v", sel)
	}
	if num := disc.Cmps[node+"_frame_interval"]; num["p"] != "number" || num["min"] != 1.0 || num["unit_of_measurement"] != "s" || num["state_topic"] == nil {
		t.Errorf("the interval number: %v", num)
	}
	type hastate struct {
		Showing  string  `json:"showing"`
		Playing  string  `json:"playing"`
		Interval float64 `json:"interval"`
	}
	state := func(ok func(hastate) bool) hastate {
		var s hastate
		w.wait(t, "slidestream/a/frame/state", 10*time.Second, func(b []byte) bool { return json.Unmarshal(b, &s) == nil && ok(s) })
		return s
	}
	state(func(s hastate) bool { return s.Playing == "All photos" && s.Interval == 3600 })
	stream := openStream(t, ts.url+"/slideshow")
	if hue(t, stream.next()) != "red" {
		t.Fatal("the stream does not start with beach")
	}
	b.Publish(t, "slidestream/a/frame/album/set", "snow")
	state(func(s hastate) bool { return s.Playing == "snow" && strings.HasPrefix(s.Showing, "snow/") })
	if !stream.until(t, "blue", 10) {
		t.Error("after the album was chosen in Home Assistant the stream did not move to snow")
	}
	b.Publish(t, "slidestream/a/frame/interval/set", "2")
	first := state(func(s hastate) bool { return s.Interval == 2 })
	state(func(s hastate) bool { return s.Showing != first.Showing })
	// Refused: an album the folder does not have, a bad interval.
	b.Publish(t, "slidestream/a/frame/album/set", "nowhere")
	b.Publish(t, "slidestream/a/frame/interval/set", "soon")
	deadline := time.Now().Add(5 * time.Second)
	for !(strings.Contains(ts.logs.String(), "MQTT setting refused") && strings.Contains(ts.logs.String(), "MQTT payload ignored")) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(ts.logs.String(), "MQTT setting refused") || !strings.Contains(ts.logs.String(), "MQTT payload ignored") {
		t.Error("an unknown album or a bad interval was not logged")
	}
	var api web.StateReport
	getJSON(t, ts.url+"/api/state", &api)
	if api.Channel.Album != "snow" || api.Channel.Interval != "2s" {
		t.Errorf("after refusals: %+v", api.Channel)
	}
	b.Publish(t, "slidestream/a/frame/album/set", "All photos")
	state(func(s hastate) bool { return s.Playing == "All photos" })
	// A new album appears in the list.
	os.MkdirAll(filepath.Join(dir, "forest"), 0o755)
	solid(t, filepath.Join(dir, "forest", "0.png"), 64, 48, color.RGBA{30, 200, 40, 255})
	w.wait(t, "homeassistant/device/"+node+"/config", 20*time.Second, func(raw []byte) bool { return bytes.Contains(raw, []byte(`"forest"`)) })
}
