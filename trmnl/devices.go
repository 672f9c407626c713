// Package trmnl answers the display API of TRMNL e-paper devices, so that
// a TRMNL pointed at this server shows the library: GET /api/setup trades
// a listed device's MAC address for its token, GET /api/display tells a
// device which picture to fetch and how long to sleep, POST /api/log takes
// its logs, and the picture itself is the device's channel's current
// slide as a still at its panel's size, dithered to its inks.
//
// A device is known only by a token that the operator lists in a devices
// file; a MAC address alone shows nothing.
package trmnl

import (
	"fmt"
	"image"
	"net/url"
	"strconv"
	"strings"
	"time"

	"slidestream/internal/tomlfile"
)

// Device is one device as the devices file lists it. Unset fields take
// the defaults noted.
type Device struct {
	// Name names the device in logs and in /api/devices.
	Name string `toml:"name"`
	// Token is the device's secret, its Access-Token: 16 to 128 letters,
	// digits, '-', '_' or '.'.
	Token string `toml:"token"`
	// MAC, when set, lets the device fetch its token from GET /api/setup
	// with that MAC address, until it first shows a picture.
	MAC string `toml:"mac"`

	// The channel: the album, order and interval (default 15m) of the
	// slides the device shows.
	Album    string `toml:"album"`
	Order    string `toml:"order"`
	Interval string `toml:"interval"`

	// The still: the panel's size (default what the device reports in
	// its Width and Height headers, else 800x480), how it is mounted,
	// its inks (default bw), the dithering, the lift, and the format
	// (default bmp for two inks, png for more).
	Size       string `toml:"size"`
	Rotate     int    `toml:"rotate"`
	Palette    string `toml:"palette"`
	Calibrated string `toml:"calibrated"`
	Dither     string `toml:"dither"`
	Lift       string `toml:"lift"`
	Format     string `toml:"format"`
}

// Defaults of a device's channel and still.
const (
	DefaultInterval = 15 * time.Minute
	DefaultPalette  = "bw"
)

// DefaultPanel is the panel size of a device that reports none: TRMNL's
// own 7.5-inch panel.
var DefaultPanel = image.Pt(800, 480)

// Bounds on a devices file, checked before it is parsed and as it is.
const (
	MaxFileSize = 1 << 20
	MaxDevices  = 1000
	minToken    = 16
	maxToken    = 128
	maxName     = 64
)

// Query is the /snapshot query of the device's still at panel (its own
// size when it lists one).
func (d *Device) Query(panel image.Point) url.Values {
	q := d.ChannelQuery()
	if d.Size != "" {
		q.Set("size", d.Size)
	} else {
		q.Set("size", fmt.Sprintf("%dx%d", panel.X, panel.Y))
	}
	if d.Rotate != 0 {
		q.Set("rotate", strconv.Itoa(d.Rotate))
	}
	q.Set("palette", d.palette())
	for k, v := range map[string]string{"calibrated": d.Calibrated, "dither": d.Dither, "lift": d.Lift} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("format", d.Ext())
	return q
}

// ChannelQuery is the part of the query that names the device's channel.
func (d *Device) ChannelQuery() url.Values {
	q := url.Values{}
	if d.Album != "" {
		q.Set("album", d.Album)
	}
	if d.Order != "" {
		q.Set("order", d.Order)
	}
	interval := d.Interval
	if interval == "" {
		interval = DefaultInterval.String()
	}
	q.Set("interval", interval)
	return q
}

func (d *Device) palette() string {
	if d.Palette == "" {
		return DefaultPalette
	}
	return d.Palette
}

// Ext is the format of the device's pictures: its own, else bmp for
// black and white (the 1-bit BMP every TRMNL firmware reads) and png
// otherwise.
func (d *Device) Ext() string {
	switch {
	case d.Format != "":
		return d.Format
	case d.palette() == "bw":
		return "bmp"
	}
	return "png"
}

// file is the devices file's shape.
type file struct {
	Device []Device `toml:"device"`
}

// Parse reads a devices file: TOML, one [[device]] table per device. check,
// when set, says what is wrong with a device's /snapshot query. Keys the
// file does not know, a duplicate name, token or MAC, and a malformed
// value are errors that name the device.
func Parse(b []byte, check func(url.Values) error) ([]Device, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("over %d bytes", MaxFileSize)
	}
	var f file
	if err := tomlfile.Decode(b, &f); err != nil {
		return nil, err
	}
	if len(f.Device) > MaxDevices {
		return nil, fmt.Errorf("%d devices: at most %d", len(f.Device), MaxDevices)
	}
	names, tokens, macs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range f.Device {
		d := &f.Device[i]
		where := fmt.Sprintf("device %d", i+1)
		if d.Name != "" {
			where += fmt.Sprintf(" (%q)", d.Name)
		}
		if err := d.check(check); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		d.MAC = strings.ToUpper(d.MAC)
		switch {
		case names[d.Name]:
			return nil, fmt.Errorf("%s: another device has that name", where)
		case tokens[d.Token]:
			return nil, fmt.Errorf("%s: another device has that token", where)
		case d.MAC != "" && macs[d.MAC]:
			return nil, fmt.Errorf("%s: another device has that MAC", where)
		}
		names[d.Name], tokens[d.Token], macs[d.MAC] = true, true, true
	}
	return f.Device, nil
}

func (d *Device) check(query func(url.Values) error) error {
	switch {
	case d.Name == "" || len(d.Name) > maxName || strings.ContainsFunc(d.Name, notPrintable):
		return fmt.Errorf("name: want 1 to %d printable characters", maxName)
	case len(d.Token) < minToken || len(d.Token) > maxToken || strings.ContainsFunc(d.Token, notTokenChar):
		return fmt.Errorf("token: want %d to %d letters, digits, '-', '_' or '.' (slidestream token makes one)", minToken, maxToken)
	case d.MAC != "" && !validMAC(d.MAC):
		return fmt.Errorf("mac %q: want six hex pairs, AA:BB:CC:DD:EE:FF", d.MAC)
	}
	if d.Interval != "" {
		if _, err := time.ParseDuration(d.Interval); err != nil {
			return fmt.Errorf("interval %q: want a duration such as 30m or 2h", d.Interval)
		}
	}
	if query != nil {
		if err := query(d.Query(DefaultPanel)); err != nil {
			return err
		}
	}
	return nil
}

func notPrintable(r rune) bool { return r < ' ' || r == 0x7f }

func notTokenChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

// validMAC reports whether s is six pairs of hex digits joined by colons.
func validMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
