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
	"net/url"
	"strings"
	"sync"
	"time"

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
}

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
	BaseURL  string
	Channels []Channel
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

	mu     sync.Mutex                 // protects the fields below
	states map[string]web.StateReport // the last state of each channel
	sent   map[string]string          // the last state published, by channel
	warned map[string]bool            // topics whose bad payloads were logged
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
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{o: o, server: server, log: o.Log, states: map[string]web.StateReport{}, sent: map[string]string{}, warned: map[string]bool{}}
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
	for _, c := range b.o.Channels {
		wg.Go(func() {
			err := b.server.Follow(ctx, c.Query, "mqtt", func(st web.StateReport) {
				b.mu.Lock()
				b.states[c.ID] = st
				b.mu.Unlock()
				b.publishState(c, st)
			})
			if err != nil {
				b.log.Error("MQTT cannot follow a channel", "channel", c.ID, "err", err)
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	if b.client.IsConnected() {
		t := b.client.Publish(b.topic("availability"), 0, true, "offline")
		t.WaitTimeout(time.Second)
	}
	b.client.Disconnect(250)
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
	for _, ch := range b.o.Channels {
		if st, ok := states[ch.ID]; ok {
			b.publishState(ch, st)
		}
	}
	subs := map[string]byte{b.o.DiscoveryPrefix + "/status": 1}
	for _, ch := range b.o.Channels {
		for _, t := range []string{"next", "prev", "paused", "asleep"} {
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
	for i := range b.o.Channels {
		if b.o.Channels[i].ID == parts[0] {
			ch = &b.o.Channels[i]
		}
	}
	if ch == nil {
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
		Asleep: st.Asleep, Next: st.SecondsToNext, Reason: st.Reason, ImageURL: b.o.BaseURL + "/snapshot?" + q.Encode()}
	if s.Showing == "" {
		s.Showing = "none"
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
