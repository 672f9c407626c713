// Package screens reads a file of named screens: each a channel (album,
// order, interval) with a presentation of its own (frame size, fill,
// caption, fades, sleep hours, quality, and an e-paper panel's still).
// The file is TOML, one [screen.NAME] table per screen; keys a screen
// leaves out take the command line's values. Watch reads the file again
// whenever it changes, keeping the last good one when it cannot.
package screens

import (
	"fmt"
	"slices"
	"strings"

	"slidestream/internal/tomlfile"
)

// Screen is one screen as the file gives it. A nil or zero field is
// unset: the command line's value holds.
type Screen struct {
	// The channel.
	Album    *string `toml:"album"`
	Order    string  `toml:"order"`
	Interval string  `toml:"interval"`
	Taken    string  `toml:"taken"`  // this-day, FROM..TO, last-Nd
	Days     int     `toml:"days"`   // widens this-day
	Motion   string  `toml:"motion"` // stills: animations show their first frame

	// The presentation.
	Width         int     `toml:"width"`
	Fit           string  `toml:"fit"`
	Fill          string  `toml:"fill"`
	Caption       *string `toml:"caption"` // "" turns the command line's off
	Fade          string  `toml:"fade"`
	PairPortraits *bool   `toml:"pair_portraits"`
	Sleep         *string `toml:"sleep"` // "" turns the command line's off
	Quality       int     `toml:"quality"`

	// An e-paper panel's still, for /s/NAME/snapshot (see /snapshot).
	Size       string `toml:"size"`
	Rotate     int    `toml:"rotate"`
	Palette    string `toml:"palette"`
	Calibrated string `toml:"calibrated"`
	Dither     string `toml:"dither"`
	Lift       string `toml:"lift"`
	Format     string `toml:"format"`
}

// Named is a screen and its name.
type Named struct {
	Name string
	Screen
}

// Bounds on a screens file.
const (
	MaxFileSize = 1 << 20
	MaxScreens  = 256
	maxName     = 64
)

// file is the file's shape.
type file struct {
	Screen map[string]Screen `toml:"screen"`
}

// Parse reads a screens file. check, when set, says what is wrong with
// a screen beyond its syntax (values the command line's parsers read);
// its error is reported with the screen's name. The screens come sorted
// by name.
func Parse(b []byte, check func(Named) error) ([]Named, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("over %d bytes", MaxFileSize)
	}
	var f file
	if err := tomlfile.Decode(b, &f); err != nil {
		return nil, err
	}
	if len(f.Screen) > MaxScreens {
		return nil, fmt.Errorf("%d screens: at most %d", len(f.Screen), MaxScreens)
	}
	out := make([]Named, 0, len(f.Screen))
	for name, s := range f.Screen {
		out = append(out, Named{Name: name, Screen: s})
	}
	slices.SortFunc(out, func(a, b Named) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range out {
		if !ValidName(s.Name) {
			return nil, fmt.Errorf("screen %q: a name is 1 to %d letters, digits, '-' or '_'", s.Name, maxName)
		}
		if check != nil {
			if err := check(s); err != nil {
				return nil, fmt.Errorf("screen %q: %w", s.Name, err)
			}
		}
	}
	return out, nil
}

// ValidName reports whether name can name a screen: it appears in URLs
// as it is.
func ValidName(name string) bool {
	if name == "" || len(name) > maxName {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
