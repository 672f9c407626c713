// Package homeassistant puts the slideshow in Home Assistant over MQTT:
// it announces the frame by Home Assistant's MQTT discovery (one device,
// with buttons, switches, a sensor and an image for each channel it
// follows), publishes each channel's state, retained, whenever it
// changes, and takes commands from the command topics, answered by the
// same code as the HTTP API's. The broker being down or slow never holds
// up the slideshow: publishing happens on goroutines of its own and is
// dropped when there is no connection; the state is published again when
// the connection comes back, and the discovery when Home Assistant
// announces that it started.
package homeassistant

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"slidestream/play"
	"slidestream/web"
)

// Channels is what the bridge needs of the server: web.Handler has it.
type Channels interface {
	// Follow calls each with the state of the channel q names, now and at
	// every change, until ctx ends.
	Follow(ctx context.Context, q url.Values, client string, each func(web.StateReport)) error
	// Command runs next, prev, pause or resume on it.
	Command(ctx context.Context, q url.Values, op, client string) (web.StateReport, error)
	// Set changes its album or interval.
	Set(ctx context.Context, q url.Values, s web.Settings, client string) (web.StateReport, error)
	// AlbumNames lists the albums (at most max) and returns a channel
	// closed when the folder changes.
	AlbumNames(max int) ([]string, <-chan struct{})
}

// AllPhotos is the album list's name for the whole library.
const AllPhotos = "All photos"

// maxAlbums bounds the album list shown in Home Assistant.
const maxAlbums = 500

// Channel is a channel the bridge shows in Home Assistant.
type Channel struct {
	// ID names it in topics and entity IDs: "frame" for the default
	// channel, a screen's name for a screen.
	ID string
	// Name is how Home Assistant shows it ("" for the device's own
	// entities).
	Name string
	// Query names it as the URLs do (screen=NAME for a screen).
	Query url.Values
}

// Options configures a Bridge.
type Options struct {
	// Broker is mqtt://[user:pass@]host:port or mqtts://...; Password,
	// when set, replaces the URL's.
	Broker   string
	Password string
	// TLS is used for mqtts:// (nil: the system's roots).
	TLS *tls.Config
	// Prefix is the root of this instance's topics (slidestream/ID), and
	// DiscoveryPrefix Home Assistant's (homeassistant).
	Prefix, DiscoveryPrefix string
	// NodeID names the device in Home Assistant's registry; Name is how
	// it shows; Version the software's.
	NodeID, Name, Version string
	// BaseURL is the address Home Assistant reaches this server at: the
	// image entities fetch the snapshot from it.
	BaseURL string
	// ImagePath is the path of the snapshot the image entities fetch
	// (default /snapshot): with a password on the server, one that
	// needs none and shows the snapshot alone.
	ImagePath string
	Channels  []Channel
	// Retry is the longest wait between reconnections (default 30s).
	Retry time.Duration
	Log   *slog.Logger
}

// Bridge connects the slideshow to an MQTT broker. It is safe for
// concurrent use.
type Bridge struct {
	o      Options
	server Channels
	client mqtt.Client
	log    *slog.Logger

	mu    sync.Mutex // protects the fields below
	chans []Channel  // the channels shown, o.Channels at first
	// follow, while Run runs, starts following a channel and returns
	// what stops it; following holds the stops by channel ID.
	follow    func(Channel) context.CancelFunc
	following map[string]context.CancelFunc
	gone      []string                   // IDs of channels no longer shown, for the next discovery
	states    map[string]web.StateReport // the last state of each channel
	albums    []string                   // the albums, as the discovery lists them
	sent      map[string]string          // the last state published, by channel
	warned    map[string]bool            // topics whose bad payloads were logged
}

// New returns a bridge to o.Broker, not yet connected.
func New(server Channels, o Options) (*Bridge, error) {
	u, err := url.Parse(o.Broker)
	if err != nil || (u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Host == "" {
		return nil, fmt.Errorf("broker %q: want mqtt://[USER[:PASSWORD]@]HOST:PORT or mqtts://", redact(o.Broker))
	}
	if o.Retry <= 0 {
		o.Retry = 30 * time.Second
	}
	if o.ImagePath == "" {
		o.ImagePath = "/snapshot"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{o: o, server: server, log: o.Log, states: map[string]web.StateReport{}, sent: map[string]string{}, warned: map[string]bool{},
		chans: o.Channels, following: map[string]context.CancelFunc{}}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "mqtts" {
			host += ":8883"
		} else {
			host += ":1883"
		}
	}
	scheme := "tcp"
	if u.Scheme == "mqtts" {
		scheme = "ssl"
	}
	co := mqtt.NewClientOptions().AddBroker(scheme+"://"+host).
		SetClientID("slidestream-"+o.NodeID).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(o.Retry).
		SetKeepAlive(30*time.Second).
		SetWriteTimeout(5*time.Second).
		SetOrderMatters(false).
		SetWill(b.topic("availability"), "offline", 1, true).
		SetOnConnectHandler(b.connected).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			b.log.Warn("MQTT connection lost; reconnecting", "broker", redact(o.Broker), "err", err)
		})
	if u.User != nil {
		co.SetUsername(u.User.Username())
		if p, ok := u.User.Password(); ok {
			co.SetPassword(p)
		}
	}
	if o.Password != "" {
		co.SetPassword(o.Password)
	}
	if u.Scheme == "mqtts" {
		t := o.TLS
		if t == nil {
			t = &tls.Config{}
		}
		t = t.Clone()
		t.ServerName = u.Hostname()
		co.SetTLSConfig(t)
	}
	b.client = mqtt.NewClient(co)
	return b, nil
}

// topic is a topic under the instance's prefix.
func (b *Bridge) topic(parts ...string) string {
	return b.o.Prefix + "/" + strings.Join(parts, "/")
}

// Run connects, follows every channel and publishes its state, until ctx
// ends; then it says offline and disconnects.
func (b *Bridge) Run(ctx context.Context) {
	b.client.Connect() // retries in the background until it connects
	var wg sync.WaitGroup
	b.mu.Lock()
	b.follow = func(c Channel) context.CancelFunc {
		fctx, stop := context.WithCancel(ctx)
		wg.Go(func() {
			err := b.server.Follow(fctx, c.Query, "mqtt", func(st web.StateReport) {
				b.mu.Lock()
				b.states[c.ID] = st
				b.mu.Unlock()
				b.publishState(c, st)
			})
			if err != nil {
				b.log.Error("MQTT cannot follow a channel", "channel", c.ID, "err", err)
			}
		})
		return stop
	}
	for _, c := range b.chans {
		b.following[c.ID] = b.follow(c)
	}
	b.mu.Unlock()
	wg.Go(func() { b.watchAlbums(ctx) })
	<-ctx.Done()
	b.mu.Lock()
	b.follow = nil
	b.mu.Unlock()
	wg.Wait()
	if b.client.IsConnected() {
		t := b.client.Publish(b.topic("availability"), 0, true, "offline")
		t.WaitTimeout(time.Second)
	}
	b.client.Disconnect(250)
}

// SetChannels changes the channels shown (the screens file changed): new
// ones are followed and announced, gone ones are removed from Home
// Assistant and their retained state cleared.
func (b *Bridge) SetChannels(chans []Channel) {
	b.mu.Lock()
	old := map[string]bool{}
	for _, c := range b.chans {
		old[c.ID] = true
	}
	now := map[string]bool{}
	var added []Channel
	for _, c := range chans {
		now[c.ID] = true
		if !old[c.ID] {
			added = append(added, c)
		}
	}
	var removed []string
	for id := range old {
		if !now[id] {
			removed = append(removed, id)
			if stop := b.following[id]; stop != nil {
				stop()
				delete(b.following, id)
			}
			delete(b.states, id)
			delete(b.sent, id)
		}
	}
	b.chans, b.gone = chans, append(b.gone, removed...)
	if len(b.gone) > 256 {
		b.gone = b.gone[len(b.gone)-256:]
	}
	if b.follow != nil {
		for _, c := range added {
			b.following[c.ID] = b.follow(c)
		}
	}
	b.mu.Unlock()
	if len(added) == 0 && len(removed) == 0 || !b.client.IsConnectionOpen() {
		return
	}
	for _, id := range removed {
		b.client.Publish(b.topic(id, "state"), 0, true, []byte{})
	}
	b.publishDiscovery()
	b.subscribe(b.client, added)
}

// watchAlbums keeps the album list of the discovery current: when the
// folder's albums change, the frame is announced again.
func (b *Bridge) watchAlbums(ctx context.Context) {
	for first := true; ; {
		names, changed := b.server.AlbumNames(maxAlbums)
		b.mu.Lock()
		same := slices.Equal(names, b.albums)
		b.albums = names
		b.mu.Unlock()
		if !same && b.client.IsConnectionOpen() {
			b.publishDiscovery()
		}
		if changed == nil {
			return
		}
		looked := time.Now()
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		// A folder being copied in changes many times a second: the
		// list is looked at again at most every few seconds (the
		// first listing at once).
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(looked.Add(albumsSettle))):
			}
		}
		first = false
	}
}

// albumsSettle is the least time between two looks at the album list.
var albumsSettle = 3 * time.Second

// channels is the channels shown now.
func (b *Bridge) channels() []Channel {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.chans
}

// connected (re)announces the frame: online, the discovery, every
// channel's last state, and the subscriptions (a clean session forgets
// them).
func (b *Bridge) connected(c mqtt.Client) {
	b.log.Info("MQTT connected", "broker", redact(b.o.Broker), "prefix", b.o.Prefix)
	c.Publish(b.topic("availability"), 0, true, "online")
	b.publishDiscovery()
	b.mu.Lock()
	states := make(map[string]web.StateReport, len(b.states))
	for k, v := range b.states {
		states[k] = v
	}
	clear(b.sent) // the broker may have restarted without its retained state
	b.mu.Unlock()
	chans := b.channels()
	for _, ch := range chans {
		if st, ok := states[ch.ID]; ok {
			b.publishState(ch, st)
		}
	}
	c.Subscribe(b.o.DiscoveryPrefix+"/status", 1, b.message)
	b.subscribe(c, chans)
}

// subscribe takes the command topics of chans.
func (b *Bridge) subscribe(c mqtt.Client, chans []Channel) {
	if len(chans) == 0 {
		return
	}
	subs := map[string]byte{}
	for _, ch := range chans {
		for _, t := range []string{"next", "prev", "paused", "asleep", "album", "interval"} {
			subs[b.topic(ch.ID, t, "set")] = 1
		}
	}
	c.SubscribeMultiple(subs, b.message)
}

// message takes a command, or Home Assistant's birth message.
func (b *Bridge) message(_ mqtt.Client, m mqtt.Message) {
	topic, payload := m.Topic(), strings.TrimSpace(string(m.Payload()))
	if topic == b.o.DiscoveryPrefix+"/status" {
		if payload == "online" {
			b.log.Info("Home Assistant started: announcing the frame again")
			b.publishDiscovery()
		}
		return
	}
	rest, ok := strings.CutPrefix(topic, b.o.Prefix+"/")
	if !ok {
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "set" {
		return
	}
	var ch *Channel
	for _, c := range b.channels() {
		if c.ID == parts[0] {
			ch = &c
		}
	}
	if ch == nil {
		return
	}
	if parts[1] == "album" || parts[1] == "interval" {
		b.set(*ch, topic, parts[1], payload)
		return
	}
	var op string
	switch {
	case parts[1] == "next" && payload == "PRESS", parts[1] == "prev" && payload == "PRESS":
		op = parts[1]
	case parts[1] == "paused" && payload == "ON":
		op = "pause"
	case parts[1] == "paused" && payload == "OFF":
		op = "resume"
	case parts[1] == "asleep" && payload == "ON":
		op = "sleep"
	case parts[1] == "asleep" && payload == "OFF":
		op = "wake"
	default:
		b.malformed(topic, payload)
		return
	}
	// Off paho's goroutine: a command may wait for a slide to be made.
	go func() {
		st, err := b.server.Command(context.Background(), ch.Query, op, "mqtt")
		switch {
		case errors.Is(err, play.ErrNothingBefore), errors.Is(err, play.ErrAsleep):
			b.log.Info("MQTT command refused", "channel", ch.ID, "command", op, "reason", err)
			st.Reason = err.Error()
			b.publishState(*ch, st)
		case err != nil:
			b.log.Warn("MQTT command failed", "channel", ch.ID, "command", op, "err", err)
		}
	}()
}

// maxAlbumPayload bounds an album command's payload.
const maxAlbumPayload = 1024

// set takes an album or interval command: the album's name (AllPhotos for
// the whole library), or the interval in seconds.
func (b *Bridge) set(ch Channel, topic, what, payload string) {
	var s web.Settings
	switch what {
	case "album":
		if payload == "" || len(payload) > maxAlbumPayload || !utf8.ValidString(payload) {
			b.malformed(topic, payload)
			return
		}
		a := payload
		if a == AllPhotos {
			a = ""
		}
		s.Album = &a
	case "interval":
		f, err := strconv.ParseFloat(payload, 64)
		if err != nil || math.IsNaN(f) || f < play.MinInterval.Seconds() || f > play.MaxInterval.Seconds() {
			b.malformed(topic, payload)
			return
		}
		d := time.Duration(f * float64(time.Second))
		s.Interval = &d
	}
	go func() {
		_, err := b.server.Set(context.Background(), ch.Query, s, "mqtt")
		if err != nil {
			b.log.Warn("MQTT setting refused", "channel", ch.ID, "setting", what, "value", payload, "reason", err)
			// The state is published again, so that Home Assistant's
			// entity goes back to what is really set.
			b.mu.Lock()
			st, ok := b.states[ch.ID]
			delete(b.sent, ch.ID)
			b.mu.Unlock()
			if ok {
				b.publishState(ch, st)
			}
		}
	}()
}

// malformed logs a bad payload, once per topic.
func (b *Bridge) malformed(topic, payload string) {
	b.mu.Lock()
	seen := b.warned[topic]
	if !seen && len(b.warned) < 256 {
		b.warned[topic] = true
	}
	b.mu.Unlock()
	if !seen {
		if len(payload) > 64 {
			payload = payload[:64] + "…"
		}
		b.log.Warn("MQTT payload ignored (logged once per topic)", "topic", topic, "payload", payload)
	}
}

// state is what a channel's state topic carries.
type state struct {
	Showing  string     `json:"showing"`
	Album    string     `json:"album"`
	Taken    *time.Time `json:"taken,omitempty"`
	Index    int        `json:"index"`
	Count    int        `json:"count"`
	Paused   bool       `json:"paused"`
	Asleep   bool       `json:"asleep"`
	Next     float64    `json:"seconds_to_next"`
	Reason   string     `json:"reason,omitempty"`
	ImageURL string     `json:"image_url"`
	// Playing is the album the channel plays (AllPhotos for the whole
	// library), Interval how long each slide shows, in seconds.
	Playing  string  `json:"playing"`
	Interval float64 `json:"interval"`
}

// publishState publishes a channel's state, retained, without waiting:
// with no connection it is dropped, and published again on connecting.
// Everything is published at QoS 0: what a dropped connection loses is
// published again on reconnecting anyway, and paho (v1.5.1) re-sends
// stored QoS 1 messages on reconnecting while its writer may still be
// sending them, a data race the race detector reports.
func (b *Bridge) publishState(c Channel, st web.StateReport) {
	q := url.Values{}
	for k, v := range c.Query {
		q[k] = v
	}
	// A new URL for each slide, so that Home Assistant fetches the image
	// again.
	q.Set("slide", fmt.Sprint(st.Index))
	s := state{Showing: st.Showing, Album: st.Album, Taken: st.Taken, Index: st.Index, Count: st.Count, Paused: st.Paused,
		Asleep: st.Asleep, Next: st.SecondsToNext, Reason: st.Reason, ImageURL: b.o.BaseURL + b.o.ImagePath + "?" + q.Encode()}
	if s.Showing == "" {
		s.Showing = "none"
	}
	s.Playing = st.Channel.Album
	if s.Playing == "" {
		s.Playing = AllPhotos
	}
	if d, err := time.ParseDuration(st.Channel.Interval); err == nil {
		s.Interval = math.Round(d.Seconds()*1000) / 1000
	}
	p, _ := json.Marshal(s)
	s.Next = 0 // the countdown alone is no change worth a message
	key, _ := json.Marshal(s)
	b.mu.Lock()
	same := b.sent[c.ID] == string(key)
	b.mu.Unlock()
	if same || !b.client.IsConnectionOpen() {
		return
	}
	b.client.Publish(b.topic(c.ID, "state"), 0, true, p)
	b.mu.Lock()
	b.sent[c.ID] = string(key)
	b.mu.Unlock()
}

// publishDiscovery announces the device and its entities.
func (b *Bridge) publishDiscovery() {
	p, _ := json.Marshal(b.discovery())
	b.client.Publish(b.o.DiscoveryPrefix+"/device/"+b.o.NodeID+"/config", 0, true, p)
}

// redact is a broker URL without its password, for the log.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a broker URL that cannot be read)"
	}
	return u.Redacted()
}
