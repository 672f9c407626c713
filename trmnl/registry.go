package trmnl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"slidestream/internal/tomlfile"
)

// Registry is the devices of a devices file, read again when the file
// changes (looked at, at most every few seconds, when a device asks) or
// when Reload is called. A file that cannot be read or parsed is logged
// and the last good list kept. It is safe for concurrent use.
type Registry struct {
	path  string
	check func(url.Values) error
	log   *slog.Logger

	mu      sync.Mutex // protects the fields below
	byToken map[[32]byte]*entry
	byKey   map[string]*entry
	byMAC   map[string]*entry
	list    []*entry
	stamp   tomlfile.Stamp // of the file last read, good or bad
	looked  time.Time      // when the file was last looked at
}

// entry is a device and what is known of it while it is listed.
type entry struct {
	Device
	key string // names its pictures in their URLs, in place of the token
	fid string // its friendly ID, shown by the device at setup

	mu sync.Mutex // protects the fields below
	// setupOpen lets /api/setup give the token to the device's MAC; it
	// closes once the device has shown a picture, and opens again when
	// the file is read again.
	setupOpen bool
	// release lets go of the device's channel, held from its first
	// request on; held is the channel's query.
	release func()
	held    string
	seen    Seen
}

// Seen is what a device last said of itself, and was last told.
type Seen struct {
	At       time.Time   `json:"at"`
	Battery  string      `json:"battery_voltage,omitempty"`
	Charge   string      `json:"percent_charged,omitempty"`
	RSSI     string      `json:"rssi,omitempty"`
	Firmware string      `json:"firmware,omitempty"`
	Model    string      `json:"model,omitempty"`
	Panel    image.Point `json:"-"`
	Filename string      `json:"filename,omitempty"`
	Refresh  int         `json:"refresh_rate,omitempty"`
}

// lookEvery is how often, at most, the file is looked at for changes.
const lookEvery = 2 * time.Second

// NewRegistry reads the devices file at path. check says what is wrong
// with a device's /snapshot query; a file that cannot be read or parsed
// is an error.
func NewRegistry(path string, check func(url.Values) error, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{path: path, check: check, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the file again now, as on SIGHUP.
func (r *Registry) Reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reload()
}

// Close lets go of every device's channel.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.list {
		e.drop()
	}
	r.list = nil
	r.byToken, r.byKey, r.byMAC = nil, nil, nil
}

// Len is the number of devices listed.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.list)
}

func (r *Registry) load() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, devices, err := r.read()
	r.stamp, r.looked = st, time.Now()
	if err != nil {
		return err
	}
	r.install(devices)
	return nil
}

// read reads and parses the file, bounded before it is parsed.
func (r *Registry) read() (tomlfile.Stamp, []Device, error) {
	b, st, err := tomlfile.Read(r.path, MaxFileSize)
	if err != nil {
		return st, nil, err
	}
	devices, err := Parse(b, r.check)
	if err != nil {
		return st, nil, fmt.Errorf("%s: %w", r.path, err)
	}
	return st, devices, nil
}

// lookForChanges reads the file again if it changed since it was last
// read. r.mu must be held.
func (r *Registry) lookForChanges() {
	if time.Since(r.looked) < lookEvery {
		return
	}
	r.looked = time.Now()
	fi, err := os.Stat(r.path)
	if err == nil && (tomlfile.Stamp{Size: fi.Size(), Mod: fi.ModTime()}) == r.stamp {
		return
	}
	r.reload()
}

// reload reads the file again, keeping the last good list when it
// cannot. r.mu must be held.
func (r *Registry) reload() {
	st, devices, err := r.read()
	r.stamp, r.looked = st, time.Now()
	if err != nil {
		r.log.Error("cannot read the devices file; keeping the last good list", "err", err, "devices", len(r.list))
		return
	}
	r.install(devices)
	r.log.Info("devices file read", "file", r.path, "devices", len(devices))
}

// install makes devices the list. A device listed before with the same
// token keeps what was seen of it, and its channel when that is the
// same; every other channel held is let go. r.mu must be held.
func (r *Registry) install(devices []Device) {
	old := r.byToken
	r.byToken = make(map[[32]byte]*entry, len(devices))
	r.byKey = make(map[string]*entry, len(devices))
	r.byMAC = map[string]*entry{}
	list := make([]*entry, 0, len(devices))
	for _, d := range devices {
		sum := sha256.Sum256([]byte(d.Token))
		key := sha256.Sum256([]byte("slidestream picture key\x00" + d.Token))
		e := &entry{Device: d, key: hex.EncodeToString(key[:16]), fid: strings.ToUpper(hex.EncodeToString(sum[:3])), setupOpen: true}
		if was := old[sum]; was != nil {
			was.mu.Lock()
			e.seen = was.seen
			if was.held == d.ChannelQuery().Encode() {
				e.release, e.held = was.release, was.held
				was.release = nil
			}
			was.mu.Unlock()
		}
		r.byToken[sum] = e
		r.byKey[e.key] = e
		if d.MAC != "" {
			r.byMAC[d.MAC] = e
		}
		list = append(list, e)
	}
	for _, e := range r.list {
		e.drop()
	}
	r.list = list
}

// byToken finds the device with token, nil for none.
func (r *Registry) byTokenOf(token string) *entry {
	if token == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookForChanges()
	return r.byToken[sha256.Sum256([]byte(token))]
}

// byKeyOf finds the device whose pictures key names, nil for none.
func (r *Registry) byKeyOf(key string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookForChanges()
	return r.byKey[key]
}

// byMACOf finds the device listed with mac, nil for none.
func (r *Registry) byMACOf(mac string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookForChanges()
	return r.byMAC[strings.ToUpper(mac)]
}

// DeviceStatus is what /api/devices says of a device: never its token.
type DeviceStatus struct {
	Name       string `json:"name"`
	FriendlyID string `json:"friendly_id"`
	MAC        string `json:"mac,omitempty"`
	SetupOpen  bool   `json:"setup_open"`
	Channel    string `json:"channel"`
	Seen       *Seen  `json:"last_seen,omitempty"`
}

// Status lists the devices, in the file's order.
func (r *Registry) Status() []DeviceStatus {
	r.mu.Lock()
	list := slices.Clone(r.list)
	r.mu.Unlock()
	out := make([]DeviceStatus, 0, len(list))
	for _, e := range list {
		e.mu.Lock()
		s := DeviceStatus{Name: e.Name, FriendlyID: e.fid, MAC: e.MAC, SetupOpen: e.setupOpen && e.MAC != "", Channel: e.ChannelQuery().Encode()}
		if !e.seen.At.IsZero() {
			seen := e.seen
			s.Seen = &seen
		}
		e.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// hold keeps e's channel running from its first request on, by hold.
func (e *entry) hold(hold func(q url.Values, client string) (func(), error)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.release != nil {
		return nil
	}
	q := e.ChannelQuery()
	release, err := hold(q, "device "+e.Name)
	if err != nil {
		return err
	}
	e.release, e.held = release, q.Encode()
	return nil
}

// drop lets go of e's channel.
func (e *entry) drop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.release != nil {
		e.release()
		e.release, e.held = nil, ""
	}
}
