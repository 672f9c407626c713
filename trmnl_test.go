package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/color"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slidestream/web"
)

// displayAnswer is TRMNL's /api/display answer, as its firmware reads it.
type displayAnswer struct {
	Status      int    `json:"status"`
	ImageURL    string `json:"image_url"`
	Filename    string `json:"filename"`
	RefreshRate int    `json:"refresh_rate"`
}

// trmnlGet sends what a TRMNL's firmware sends: its MAC as ID, its token
// as Access-Token, and its panel's size.
func trmnlGet(t *testing.T, url, mac, token string) (*http.Response, []byte) {
	t.Helper()
	return get(t, url, "ID", mac, "Access-Token", token, "Width", "800", "Height", "480", "FW-Version", "1.6.9", "Battery-Voltage", "4.1", "RSSI", "-61")
}

const (
	kitchenToken = "k1tchen-Frame_token.0042"
	kitchenMAC   = "AA:BB:CC:00:11:22"
)

// A TRMNL set to this server walks its documented exchange: setup trades
// its listed MAC for its token, display names the picture and how long to
// sleep (to the next slide), the picture is the channel's slide as the
// 1-bit 800×480 BMP its firmware checks field by field, and its log is
// taken. An unknown token or MAC is refused, and so is setup once the
// device has shown a picture. The device API needs no password where the
// rest of the server does.
func TestTRMNLDisplayAPI(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "album"), 0o755)
	for i, c := range []color.RGBA{{230, 230, 230, 255}, {20, 20, 20, 255}} {
		solid(t, filepath.Join(dir, "album", string(rune('a'+i))+".png"), 320, 240, c)
	}
	devices := filepath.Join(t.TempDir(), "devices.toml")
	if err := os.WriteFile(devices, []byte(`
[[device]]
name = "kitchen"
token = "`+kitchenToken+`"
mac = "`+strings.ToLower(kitchenMAC)+`"
album = "album"
interval = "4s"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, "--dir", dir, "--devices", devices, "--auth", "me:secret")

	// Setup: an unlisted MAC is refused, the listed one gets its token.
	if resp, b := get(t, ts.url+"/api/setup", "ID", "AA:BB:CC:99:99:99"); resp.StatusCode != 404 || !strings.Contains(string(b), `"api_key":null`) {
		t.Errorf("setup of an unlisted MAC: %s %s; want 404 and no key", resp.Status, b)
	}
	resp, b := get(t, ts.url+"/api/setup", "ID", kitchenMAC)
	var setup struct {
		Status     int    `json:"status"`
		APIKey     string `json:"api_key"`
		FriendlyID string `json:"friendly_id"`
		ImageURL   string `json:"image_url"`
	}
	if err := json.Unmarshal(b, &setup); err != nil || resp.StatusCode != 200 || setup.Status != 200 || setup.APIKey != kitchenToken || len(setup.FriendlyID) != 6 {
		t.Fatalf("setup: %s %s (%v)", resp.Status, b, err)
	}

	// Display: an unknown token is refused; the device's own gets its picture.
	if resp, b := trmnlGet(t, ts.url+"/api/display", kitchenMAC, "not-the-kitchen-token"); resp.StatusCode != 401 || strings.Contains(string(b), "image_url") {
		t.Errorf("display with an unknown token: %s %s; want 401 and no picture", resp.Status, b)
	}
	if resp, _ := trmnlGet(t, ts.url+"/api/display", kitchenMAC, ""); resp.StatusCode != 401 {
		t.Errorf("display with no token: %s; want 401", resp.Status)
	}
	var d displayAnswer
	resp, b = trmnlGet(t, ts.url+"/api/display", kitchenMAC, kitchenToken)
	if err := json.Unmarshal(b, &d); err != nil || resp.StatusCode != 200 || d.Status != 0 || !strings.HasPrefix(d.ImageURL, ts.url+"/trmnl/") || !strings.HasSuffix(d.Filename, ".bmp") {
		t.Fatalf("display: %s %s (%v)", resp.Status, b, err)
	}
	if strings.Contains(d.ImageURL, kitchenToken) {
		t.Errorf("the picture's URL %s carries the token", d.ImageURL)
	}
	// refresh_rate is the seconds to the channel's next slide, one past it.
	var st web.StateReport
	getJSON(t, strings.Replace(ts.url, "http://", "http://me:secret@", 1)+"/api/state?album=album&interval=4s", &st)
	if math.Abs(float64(d.RefreshRate)-1-st.SecondsToNext) > 1.5 {
		t.Errorf("refresh_rate %d; want one second past the next slide, in %.1f s", d.RefreshRate, st.SecondsToNext)
	}

	// The picture: the BMP TRMNL's firmware accepts, field by field.
	resp, pic := get(t, d.ImageURL)
	le := binary.LittleEndian
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/bmp" || len(pic) != 62+48000 {
		t.Fatalf("picture: %s %q, %d bytes; want a 48,062-byte BMP", resp.Status, resp.Header.Get("Content-Type"), len(pic))
	}
	if string(pic[:2]) != "BM" || le.Uint32(pic[18:]) != 800 || le.Uint32(pic[22:]) != 480 || le.Uint16(pic[28:]) != 1 ||
		le.Uint32(pic[30:]) != 0 || le.Uint32(pic[34:]) != 48000 || le.Uint32(pic[46:]) != 2 || le.Uint32(pic[10:]) != 62 ||
		!bytes.Equal(pic[54:62], []byte{0, 0, 0, 0, 255, 255, 255, 0}) {
		t.Errorf("BMP header % x; want 800x480, 1 bit, uncompressed, 48000 bytes of pixels, 2 colours black then white, pixels at 62", pic[:62])
	}
	// Its ETag is the name the display gave it; asked again with it, 304.
	if etag := resp.Header.Get("ETag"); etag != `"`+strings.TrimSuffix(d.Filename, ".bmp")+`"` {
		t.Errorf("picture ETag %s; filename %s", etag, d.Filename)
	} else if again, body := get(t, d.ImageURL, "If-None-Match", etag); again.StatusCode != 304 || len(body) != 0 {
		t.Errorf("the same picture again: %s, %d bytes; want 304", again.Status, len(body))
	}
	if resp, _ := get(t, strings.Replace(d.ImageURL, "/trmnl/", "/trmnl/0", 1)); resp.StatusCode != 404 {
		t.Errorf("a picture under a wrong key: %s; want 404", resp.Status)
	}

	// The same slide: the same name. The next slide: another name, and
	// the other picture (light, then dark, or the other way).
	_, b = trmnlGet(t, ts.url+"/api/display", kitchenMAC, kitchenToken)
	var same displayAnswer
	json.Unmarshal(b, &same)
	if same.Filename != d.Filename && same.RefreshRate > 2 {
		t.Errorf("display again on the same slide: %s, then %s", d.Filename, same.Filename)
	}
	time.Sleep(time.Duration(d.RefreshRate) * time.Second)
	var next displayAnswer
	_, b = trmnlGet(t, ts.url+"/api/display", kitchenMAC, kitchenToken)
	json.Unmarshal(b, &next)
	if next.Filename == d.Filename {
		t.Errorf("after refresh_rate %d s the device is told the same picture %s", d.RefreshRate, d.Filename)
	}
	_, pic2 := get(t, next.ImageURL)
	if ink(pic) == ink(pic2) || len(pic2) != len(pic) {
		t.Errorf("the next slide's picture has %d black pixels, the first %d; want one light and one dark", ink(pic2), ink(pic))
	}

	// Setup is closed now that the device has shown a picture.
	if resp, _ := get(t, ts.url+"/api/setup", "ID", kitchenMAC); resp.StatusCode != 404 {
		t.Errorf("setup after the device showed a picture: %s; want 404", resp.Status)
	}

	// Its log is taken and logged; a stranger's is refused.
	post := func(token, body string) *http.Response {
		req, _ := http.NewRequest("POST", ts.url+"/api/log", strings.NewReader(body))
		req.Header.Set("Access-Token", token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(kitchenToken, `{"log":{"logs_array":[{"message":"wifi weak: rssi -88","battery_voltage":3.61}]}}`); resp.StatusCode != 204 {
		t.Errorf("log: %s; want 204", resp.Status)
	}
	if resp := post("stranger-token-0000", `{"log":{"logs_array":[]}}`); resp.StatusCode != 401 {
		t.Errorf("a stranger's log: %s; want 401", resp.Status)
	}
	if resp := post(kitchenToken, strings.Repeat("x", 70<<10)); resp.StatusCode != 413 {
		t.Errorf("a 70 KiB log: %s; want 413", resp.Status)
	}
	if !strings.Contains(ts.logs.String(), "wifi weak: rssi -88") {
		t.Errorf("the device's log entry is not in the server's log")
	}

	// /api/devices is behind the password and never shows a token.
	if resp, _ := get(t, ts.url+"/api/devices"); resp.StatusCode != 401 {
		t.Errorf("/api/devices without the password: %s; want 401", resp.Status)
	}
	req, _ := http.NewRequest("GET", ts.url+"/api/devices", nil)
	req.SetBasicAuth("me", "secret")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list bytes.Buffer
	list.ReadFrom(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || !strings.Contains(list.String(), `"name":"kitchen"`) || !strings.Contains(list.String(), `"firmware":"1.6.9"`) || strings.Contains(list.String(), kitchenToken) {
		t.Errorf("/api/devices: %s %s", r2.Status, list.String())
	}
}

// ink counts the black pixels of a 1-bit BMP whose colour 0 is black.
func ink(bmp []byte) int {
	n := 0
	for _, b := range bmp[62:] {
		for i := range 8 {
			if b>>i&1 == 0 {
				n++
			}
		}
	}
	return n
}

// The devices file is read again when it changes: a device added is
// known within seconds, and a broken file keeps the last good list.
func TestTRMNLDevicesFileReload(t *testing.T) {
	dir := t.TempDir()
	solid(t, filepath.Join(dir, "a.png"), 64, 48, color.RGBA{200, 0, 0, 255})
	devices := filepath.Join(t.TempDir(), "devices.toml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(devices, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[[device]]\nname = \"one\"\ntoken = \"first-device-token-1\"\n")
	ts := startServer(t, "--dir", dir, "--devices", devices)
	display := func(token string) int {
		resp, _ := trmnlGet(t, ts.url+"/api/display", "", token)
		return resp.StatusCode
	}
	if code := display("first-device-token-1"); code != 200 {
		t.Fatalf("a listed device: %d", code)
	}
	if code := display("second-device-token-2"); code != 401 {
		t.Fatalf("an unlisted device: %d", code)
	}
	write("[[device]]\nname = \"one\"\ntoken = \"first-device-token-1\"\n\n[[device]]\nname = \"two\"\ntoken = \"second-device-token-2\"\npalette = \"gray4\"\n")
	deadline := time.Now().Add(10 * time.Second)
	for display("second-device-token-2") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("a device added to the file is still refused 10 s later")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A broken file: logged with its line, and the last good list kept.
	write("[[device]]\nname = \"one\"\ntoken = \"first-device-token-1\"\ncolour = \"red\"\n")
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(ts.logs.String(), "cannot read the devices file") {
		if time.Now().After(deadline) {
			t.Fatal("a broken devices file is not logged 10 s later")
		}
		display("first-device-token-1")
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(ts.logs.String(), "colour (line 4)") {
		t.Errorf("the log does not name the unknown key and its line:\n%s", ts.logs.String())
	}
	if display("second-device-token-2") != 200 {
		t.Errorf("after a broken file, a device of the last good list is refused")
	}
	// A device with a grey panel gets a 2-bit PNG.
	resp, b := trmnlGet(t, ts.url+"/api/display", "", "second-device-token-2")
	var d displayAnswer
	json.Unmarshal(b, &d)
	if resp.StatusCode != 200 || !strings.HasSuffix(d.Filename, ".png") {
		t.Fatalf("gray4 display: %s %s", resp.Status, b)
	}
	if resp, pic := get(t, d.ImageURL); resp.StatusCode != 200 || len(pic) < 26 || pic[24] != 2 || pic[25] != 3 {
		t.Errorf("gray4 picture: %s, PNG bit depth %v; want 2-bit indexed", resp.Status, pic[24:26])
	}
}

// A devices file that cannot be right stops the server from starting,
// with the reason.
func TestTRMNLBadDevicesFileIsRefusedAtStart(t *testing.T) {
	for body, says := range map[string]string{
		"[[device]]\nname = \"x\"\ntoken = \"short\"\n":                                                                          "token",
		"[[device]]\nname = \"x\"\ntoken = \"long-enough-token-1\"\npalette = \"rainbow\"\n":                                     "palette",
		"[[device]]\nname = \"x\"\ntoken = \"long-enough-token-1\"\nsize = \"99999x1\"\n":                                        "size",
		"[[device]]\nname = \"x\"\ntoken = \"long-enough-token-1\"\nmac = \"AA:BB\"\n":                                           "mac",
		"[[device]]\nname = \"x\"\ntoken = \"long-enough-token-1\"\n[[device]]\nname = \"y\"\ntoken = \"long-enough-token-1\"\n": "another device has that token",
		"[[device]\n": "line 1",
	} {
		path := filepath.Join(t.TempDir(), "devices.toml")
		os.WriteFile(path, []byte(body), 0o600)
		cfg, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--state-dir", t.TempDir(), "--dir", t.TempDir(), "--devices", path}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newServer(cfg, discardLogger())
		if err == nil {
			s.ln.Close()
			t.Errorf("%q: the server started", body)
			continue
		}
		if !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v; want it to say %q", body, err, says)
		}
	}
}
