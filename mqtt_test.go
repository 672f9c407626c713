package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"slidestream/internal/brokertest"
	"slidestream/web"
)

// mqttFrame starts a server on n photos of one colour each, 64 pixels
// wide, that appears in Home Assistant through b under prefix, with the
// other flags args.
func mqttFrame(t *testing.T, b *brokertest.Broker, prefix string, n int, args ...string) *testServer {
	t.Helper()
	dir := t.TempDir()
	for i, c := range palette(n) {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 64, 48, c)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(brokertest.Password+"\n"), 0o600)
	return startServer(t, append([]string{"--dir", dir, "--width", "64", "--mqtt", "mqtt://" + brokertest.User + "@" + b.Addr,
		"--mqtt-password-file", pw, "--mqtt-prefix", prefix}, args...)...)
}

// hallScreen is a screens file of one screen, hall, 32 pixels wide.
func hallScreen(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "screens.toml")
	os.WriteFile(path, []byte("[screen.hall]\nwidth = 32\n"), 0o644)
	return path
}

// watcher is a real MQTT client that keeps the last message of every
// topic it is subscribed to.
type watcher struct {
	client mqtt.Client
	mu     sync.Mutex
	last   map[string][]byte
	all    map[string][][]byte // every message, in order
}

func subscribe(t *testing.T, b *brokertest.Broker, topic string) *watcher {
	t.Helper()
	w := &watcher{last: map[string][]byte{}, all: map[string][][]byte{}}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + b.Addr).SetUsername(brokertest.User).SetPassword(brokertest.Password).
		SetClientID(fmt.Sprintf("test-%d", time.Now().UnixNano())).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second).
		SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
				w.mu.Lock()
				w.last[m.Topic()] = append([]byte(nil), m.Payload()...)
				w.all[m.Topic()] = append(w.all[m.Topic()], w.last[m.Topic()])
				w.mu.Unlock()
			})
		})
	w.client = mqtt.NewClient(o)
	if tok := w.client.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connecting to the broker: %v", tok.Error())
	}
	t.Cleanup(func() { w.client.Disconnect(100) })
	return w
}

// wait returns the last message on topic once ok accepts it, or fails
// after d.
func (w *watcher) wait(t *testing.T, topic string, d time.Duration, ok func([]byte) bool) []byte {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		w.mu.Lock()
		b, got := w.last[topic]
		w.mu.Unlock()
		if got && ok(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no message as wanted within %v; last %q", topic, d, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mqttState is a channel's state topic.
type mqttState struct {
	Showing  string `json:"showing"`
	Index    int    `json:"index"`
	Count    int    `json:"count"`
	Paused   bool   `json:"paused"`
	Asleep   bool   `json:"asleep"`
	Reason   string `json:"reason"`
	ImageURL string `json:"image_url"`
}

// The frame appears in Home Assistant by itself: a discovery payload with
// every field Home Assistant requires of each entity, retained state, and
// commands on the command topics moving what the stream and /snapshot
// show; a refusal is answered in the state; a malformed payload is logged
// once; the password appears nowhere.
func TestHomeAssistantDiscoveryAndCommands(t *testing.T) {
	b := brokertest.Start(t)
	screens := hallScreen(t)
	w := subscribe(t, b, "#")
	ts := mqttFrame(t, b, "slidestream/test", 3, "--interval", "1h", "--screens", screens, "--name", "Hall frame")

	// Discovery: one device, and each entity with what its platform needs.
	var disc struct {
		Dev   map[string]any            `json:"dev"`
		O     map[string]any            `json:"o"`
		Avail string                    `json:"availability_topic"`
		Cmps  map[string]map[string]any `json:"cmps"`
	}
	raw := w.wait(t, "homeassistant/device/"+nodeID(mustHostname(t)+"-"+portOf(ts.url))+"/config", 10*time.Second, func([]byte) bool { return true })
	if err := json.Unmarshal(raw, &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Dev["name"] != "Hall frame" || disc.Dev["ids"] == nil || disc.O["name"] != "slidestream" || disc.Avail != "slidestream/test/availability" {
		t.Errorf("discovery's device, origin or availability: %s", raw)
	}
	need := map[string][]string{
		"button": {"command_topic"}, "switch": {"command_topic", "state_topic"}, "sensor": {"state_topic"},
		"binary_sensor": {"state_topic"}, "image": {"url_topic"},
		"select": {"command_topic", "state_topic"}, "number": {"command_topic", "state_topic"},
	}
	platforms := map[string]int{}
	for id, c := range disc.Cmps {
		p, _ := c["p"].(string)
		platforms[p]++
		if c["unique_id"] != id || need[p] == nil {
			t.Errorf("entity %s: platform %q, unique_id %v", id, p, c["unique_id"])
		}
		for _, f := range need[p] {
			if s, _ := c[f].(string); s == "" {
				t.Errorf("entity %s (%s) has no %s", id, p, f)
			}
		}
	}
	// The default channel and the screen: two of each.
	if platforms["button"] != 4 || platforms["switch"] != 4 || platforms["sensor"] != 2 || platforms["image"] != 2 ||
		platforms["select"] != 2 || platforms["number"] != 2 {
		t.Errorf("entities by platform: %v", platforms)
	}
	if strings.Contains(string(raw), brokertest.Password) || strings.Contains(ts.logs.String(), brokertest.Password) {
		t.Error("the password is in the discovery or the log")
	}
	if w.wait(t, "slidestream/test/availability", 5*time.Second, func(b []byte) bool { return string(b) == "online" }) == nil {
		t.Fatal("not online")
	}

	// A command moves the stream and the snapshot within one frame.
	state := func(ok func(mqttState) bool) mqttState {
		var s mqttState
		w.wait(t, "slidestream/test/frame/state", 10*time.Second, func(b []byte) bool {
			return json.Unmarshal(b, &s) == nil && ok(s)
		})
		return s
	}
	first := state(func(s mqttState) bool { return s.Showing != "none" && s.Showing != "" })
	stream := openStream(t, ts.url+"/slideshow")
	defer stream.close()
	before := stream.next()
	_, snapBefore := get(t, ts.url+"/snapshot")
	b.Publish(t, "slidestream/test/frame/next/set", "PRESS")
	second := state(func(s mqttState) bool { return s.Showing != first.Showing })
	// The stream may be sending the old frame as the command lands; the
	// one after it is the new slide.
	moved := false
	for range 3 {
		if !bytes.Equal(stream.next(), before) {
			moved = true
			break
		}
	}
	if !moved {
		t.Error("after next, the stream kept sending the same picture")
	}
	if _, snap := get(t, ts.url+"/snapshot"); bytes.Equal(snap, snapBefore) {
		t.Error("after next, /snapshot is the same picture")
	}
	var api web.StateReport
	getJSON(t, ts.url+"/api/state", &api)
	if api.Showing != second.Showing || second.Count != 3 || !strings.HasPrefix(second.ImageURL, "http://") {
		t.Errorf("MQTT says %+v, /api/state %q", second, api.Showing)
	}
	// Paused: the switch's state follows.
	b.Publish(t, "slidestream/test/frame/paused/set", "ON")
	state(func(s mqttState) bool { return s.Paused })
	b.Publish(t, "slidestream/test/frame/paused/set", "OFF")
	state(func(s mqttState) bool { return !s.Paused })
	// prev twice from the second slide: the second has nothing before it.
	b.Publish(t, "slidestream/test/frame/prev/set", "PRESS")
	state(func(s mqttState) bool { return s.Showing == first.Showing })
	b.Publish(t, "slidestream/test/frame/prev/set", "PRESS")
	refused := false
	for deadline := time.Now().Add(10 * time.Second); !refused && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		for _, m := range w.all["slidestream/test/frame/state"] {
			refused = refused || bytes.Contains(m, []byte("no slide was shown before"))
		}
		w.mu.Unlock()
	}
	if !refused {
		t.Error("a prev with nothing before it was not answered as a refusal in the state")
	}
	// The asleep switch blacks the stream out, and wakes it.
	brightness := func() float64 {
		m := snapshotImage(t, ts.url+"/snapshot")
		var sum float64
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := m.At(x, y).RGBA()
				sum += float64(r>>8+g>>8+bl>>8) / 3
			}
		}
		return sum / float64(b.Dx()*b.Dy())
	}
	lit := brightness()
	b.Publish(t, "slidestream/test/frame/asleep/set", "ON")
	state(func(s mqttState) bool { return s.Asleep })
	if dark := brightness(); dark > 4 || lit < dark+10 {
		t.Errorf("asleep: the snapshot's mean level is %.1f (awake %.1f); want black", dark, lit)
	}
	b.Publish(t, "slidestream/test/frame/asleep/set", "OFF")
	state(func(s mqttState) bool { return !s.Asleep && s.Showing != "none" })
	if woke := brightness(); woke < 10 {
		t.Errorf("woken: the snapshot's mean level is %.1f; want the picture", woke)
	}
	// A screen's commands move the screen's channel.
	b.Publish(t, "slidestream/test/screen_hall/next/set", "PRESS")
	var hall mqttState
	w.wait(t, "slidestream/test/screen_hall/state", 10*time.Second, func(b []byte) bool {
		return json.Unmarshal(b, &hall) == nil && hall.Index == 2
	})
	// Malformed payloads: logged once, nothing moves.
	b.Publish(t, "slidestream/test/frame/next/set", "please")
	b.Publish(t, "slidestream/test/frame/next/set", "please")
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(ts.logs.String(), "MQTT payload ignored"); n != 1 {
		t.Errorf("a malformed payload sent twice was logged %d times; want once", n)
	}
	// Home Assistant's birth message brings the discovery again.
	w.mu.Lock()
	delete(w.last, "homeassistant/device/"+nodeID(mustHostname(t)+"-"+portOf(ts.url))+"/config")
	w.mu.Unlock()
	b.Publish(t, "homeassistant/status", "online")
	w.wait(t, "homeassistant/device/"+nodeID(mustHostname(t)+"-"+portOf(ts.url))+"/config", 5*time.Second, func([]byte) bool { return true })
}

// The broker going away for ten seconds never touches the stream: slides
// keep changing on time, and once it is back the state is published again
// and right.
func TestHomeAssistantBrokerOutage(t *testing.T) {
	b := brokertest.Start(t)
	ts := mqttFrame(t, b, "slidestream/outage", 4, "--interval", "1s")
	w := subscribe(t, b, "slidestream/outage/#")
	w.wait(t, "slidestream/outage/frame/state", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte(`"showing":"`)) })
	stream := openStream(t, ts.url+"/slideshow")
	defer stream.close()
	stream.next()
	b.Stop()
	start := time.Now()
	changes := 0
	var last []byte
	for time.Since(start) < 10*time.Second {
		f := stream.next()
		if !bytes.Equal(f, last) {
			changes++
			last = f
		}
	}
	if changes < 7 {
		t.Errorf("%d slide changes in 10 s with the broker down; want about 10", changes)
	}
	b.Restart(t)
	// Back: the retained state is published again, and agrees with the
	// server (the retry waits are at most 30 s).
	var api web.StateReport
	var s mqttState
	deadline := time.Now().Add(45 * time.Second)
	for {
		w.mu.Lock()
		raw := w.last["slidestream/outage/frame/state"]
		w.mu.Unlock()
		getJSON(t, ts.url+"/api/state", &api)
		if json.Unmarshal(raw, &s) == nil && s.Showing == api.Showing && time.Since(start) > 10*time.Second {
			w.mu.Lock()
			delete(w.last, "slidestream/outage/frame/state")
			w.mu.Unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("45 s after the broker came back the state is %q, the server shows %q", s.Showing, api.Showing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.wait(t, "slidestream/outage/availability", 5*time.Second, func(b []byte) bool { return string(b) == "online" })
}

func mustHostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func portOf(u string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	return port
}

// A screen added to the screens file appears in Home Assistant while the
// frame runs, and one taken out is removed (its entities named with their
// platform alone, its retained state cleared).
func TestHomeAssistantFollowsTheScreensFile(t *testing.T) {
	b := brokertest.Start(t)
	screens := hallScreen(t)
	w := subscribe(t, b, "#")
	ts := mqttFrame(t, b, "slidestream/s", 3, "--interval", "1h", "--screens", screens)
	config := "homeassistant/device/" + nodeID(mustHostname(t)+"-"+portOf(ts.url)) + "/config"
	w.wait(t, "slidestream/s/screen_hall/state", 10*time.Second, func(b []byte) bool { return len(b) > 0 })
	os.WriteFile(screens, []byte("[screen.kitchen]\nwidth = 48\n"), 0o644)
	var disc struct {
		Cmps map[string]map[string]any `json:"cmps"`
	}
	w.wait(t, config, 10*time.Second, func(raw []byte) bool {
		return json.Unmarshal(raw, &disc) == nil && disc.Cmps[nodeID(mustHostname(t)+"-"+portOf(ts.url))+"_screen_kitchen_next"] != nil
	})
	node := nodeID(mustHostname(t) + "-" + portOf(ts.url))
	if gone := disc.Cmps[node+"_screen_hall_next"]; len(gone) != 1 || gone["p"] != "button" {
		t.Errorf("the removed screen's button in the discovery: %v; want its platform alone", gone)
	}
	w.wait(t, "slidestream/s/screen_hall/state", 10*time.Second, func(b []byte) bool { return len(b) == 0 })
	w.wait(t, "slidestream/s/screen_kitchen/state", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte(`"index":1`)) })
	b.Publish(t, "slidestream/s/screen_kitchen/next/set", "PRESS")
	w.wait(t, "slidestream/s/screen_kitchen/state", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte(`"index":2`)) })
}

// Over TLS (mqtts:// with a private CA), on a server with a password: the
// frame connects, takes commands, and its image entities fetch the
// snapshot at a path that needs no password and shows nothing else.
func TestHomeAssistantOverTLSWithAPassword(t *testing.T) {
	b := brokertest.StartTLS(t)
	w := subscribe(t, b, "slidestream/tls/#")
	dir := t.TempDir()
	for i, c := range palette(2) {
		solid(t, filepath.Join(dir, fmt.Sprintf("%d.png", i)), 64, 48, c)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(brokertest.Password+"\n"), 0o600)
	ts := startServer(t, "--dir", dir, "--width", "64", "--interval", "1h", "--auth", "me:letmein",
		"--mqtt", "mqtts://"+brokertest.User+"@"+b.TLSAddr, "--mqtt-ca", b.CAFile, "--mqtt-password-file", pw, "--mqtt-prefix", "slidestream/tls")
	var s mqttState
	w.wait(t, "slidestream/tls/frame/state", 10*time.Second, func(raw []byte) bool {
		return json.Unmarshal(raw, &s) == nil && s.Showing != "none" && s.Showing != ""
	})
	if !strings.Contains(s.ImageURL, "/ha/") || strings.Contains(s.ImageURL, "letmein") {
		t.Fatalf("image URL %q: want the keyed path, without the password", s.ImageURL)
	}
	u, _ := url.Parse(s.ImageURL)
	local := ts.url + u.RequestURI()
	resp, body := get(t, local)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET the image URL without a password: %s", resp.Status)
	}
	if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
		t.Errorf("the image is no JPEG: %v", err)
	}
	wrong := strings.Replace(local, "/ha/", "/ha/0", 1)
	if resp, _ := get(t, wrong); resp.StatusCode != 404 {
		t.Errorf("a wrong key: %s; want 404", resp.Status)
	}
	for _, p := range []string{"/snapshot", "/slideshow", "/api/state", strings.Replace(u.Path, "/snapshot", "/slideshow", 1)} {
		if resp, _ := get(t, ts.url+p); resp.StatusCode == 200 {
			t.Errorf("GET %s without a password: %s", p, resp.Status)
		}
	}
	b.Publish(t, "slidestream/tls/frame/next/set", "PRESS")
	w.wait(t, "slidestream/tls/frame/state", 10*time.Second, func(raw []byte) bool {
		var n mqttState
		return json.Unmarshal(raw, &n) == nil && n.Showing != s.Showing && n.Showing != "none"
	})
}
