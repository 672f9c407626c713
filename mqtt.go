package main

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"slidestream/homeassistant"
	"slidestream/web"
)

// mqttConfig is the command line of the Home Assistant bridge.
type mqttConfig struct {
	broker, caFile, passwordFile string
	prefix, discovery, name      string
}

func (m *mqttConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&m.broker, "mqtt", "", "appear in Home Assistant through this MQTT broker, `mqtt://[USER[:PASSWORD]@]HOST:PORT` (or mqtts:// with TLS), by its MQTT discovery")
	fs.StringVar(&m.caFile, "mqtt-ca", "", "with mqtts://, trust this CA `FILE` (PEM) instead of the system's roots")
	fs.StringVar(&m.passwordFile, "mqtt-password-file", "", "read the broker's password from the first line of this `FILE` (keeps it out of ps)")
	fs.StringVar(&m.prefix, "mqtt-prefix", "", "root of this instance's topics (default slidestream/HOST-PORT)")
	fs.StringVar(&m.discovery, "mqtt-discovery-prefix", "homeassistant", "Home Assistant's discovery prefix")
	fs.StringVar(&m.name, "name", "", "the device's name in Home Assistant (default: the host name)")
}

// check validates the flags, before anything starts.
func (m *mqttConfig) check() error {
	if m.broker == "" {
		if m.caFile != "" || m.passwordFile != "" || m.prefix != "" {
			return errors.New("-mqtt-ca, -mqtt-password-file and -mqtt-prefix only mean something with -mqtt")
		}
		return nil
	}
	u, err := url.Parse(m.broker)
	if err != nil || (u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Host == "" {
		return errors.New("-mqtt: want mqtt://[USER[:PASSWORD]@]HOST:PORT or mqtts://…")
	}
	for _, p := range []string{m.prefix, m.discovery} {
		if strings.ContainsAny(p, "#+") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			return fmt.Errorf("-mqtt-prefix and -mqtt-discovery-prefix: %q is no topic prefix (no #, +, or leading or trailing /)", p)
		}
	}
	return nil
}

// imageKey is the key in the path of the snapshot Home Assistant's
// image entities fetch when the server has a password (--auth): Home
// Assistant sends none. The path shows the snapshot and nothing else, and
// its key, new at every start, is published to the broker's state topics
// only.
type imageKey string

func newImageKey() imageKey {
	b := make([]byte, 16)
	rand.Read(b)
	return imageKey(hex.EncodeToString(b))
}

// path is the image path with the key in it.
func (k imageKey) path() string { return "/ha/" + string(k) + "/snapshot" }

// handler serves GET /ha/KEY/snapshot as GET /snapshot, for the right key.
func (k imageKey) handler(snapshot http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.PathValue("key")), []byte(k)) != 1 {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/snapshot", ""
		snapshot.ServeHTTP(w, r2)
	})
}

// bridge makes the bridge for a server listening at addr.
func (m *mqttConfig) bridge(h *web.Handler, addr net.Addr, key imageKey, log *slog.Logger) (*homeassistant.Bridge, error) {
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(addr.String())
	node := nodeID(host + "-" + port)
	o := homeassistant.Options{Broker: m.broker, Prefix: m.prefix, DiscoveryPrefix: m.discovery, NodeID: node,
		Name: m.name, Version: "slidestream", BaseURL: "http://" + net.JoinHostPort(host, port), Log: log}
	if o.Prefix == "" {
		o.Prefix = "slidestream/" + node
	}
	if o.Name == "" {
		o.Name = host
	}
	if m.passwordFile != "" {
		b, err := os.ReadFile(m.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("-mqtt-password-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		o.Password = strings.TrimRight(line, "\r")
	}
	if m.caFile != "" {
		pem, err := os.ReadFile(m.caFile)
		if err != nil {
			return nil, fmt.Errorf("-mqtt-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-mqtt-ca %s: no PEM certificate in it", m.caFile)
		}
		o.TLS = &tls.Config{RootCAs: pool}
	}
	if key != "" {
		o.ImagePath = key.path()
	}
	o.Channels = mqttChannels(h)
	return homeassistant.New(h, o)
}

// mqttChannels are the channels shown in Home Assistant: the default one,
// and each screen.
func mqttChannels(h *web.Handler) []homeassistant.Channel {
	chans := []homeassistant.Channel{{ID: "frame", Query: url.Values{}}}
	for _, name := range h.ScreenNames() {
		chans = append(chans, homeassistant.Channel{ID: "screen_" + nodeID(name), Name: name, Query: url.Values{"screen": {name}}})
	}
	return chans
}

// nodeID is s as Home Assistant takes a node or object ID: letters,
// digits, '_' and '-'.
func nodeID(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
