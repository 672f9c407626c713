package transcode

import (
	"errors"
	"fmt"
	"image/color"
	"slidestream/source"
	"strconv"
	"strings"
)

// Key names one frame: the file, the version of it, and everything that
// shapes the frame's bytes. A replaced file is a new key, so a frame is
// never served stale. It is all another instance needs to make the same
// frame from its copy of the folder, so it is sent between peers as text
// (String), the file named relative to the folder and last.
type Key struct {
	Name    string // the file, relative to the folder
	Size    int64  // its size in bytes
	ModTime int64  // its modification time, Unix nanoseconds
	// Width is the frame width (0: the picture's own); Height is 0 except
	// under --fit, where the frame is exactly Width×Height.
	Width, Height int
	Quality       int
	Background    color.RGBA
}

// keyVersion starts every key, so that instances of different releases
// never take each other's keys for their own.
const keyVersion = "f1"

// MaxSide is the largest frame width or height a key may ask for.
const MaxSide = 16384

// String writes the key as ParseKey reads it:
// f1/WIDTHxHEIGHT/qQUALITY/RRGGBB/SIZE/MODTIME/NAME.
func (k Key) String() string {
	return fmt.Sprintf("%s/%dx%d/q%d/%02x%02x%02x/%d/%d/%s", keyVersion, k.Width, k.Height, k.Quality,
		k.Background.R, k.Background.G, k.Background.B, k.Size, k.ModTime, k.Name)
}

// ParseKey reads a key written by String. A peer sends it, so it is
// untrusted: the file must be a plain name in the folder, and the sizes
// within what a client may ask for. The name must be a relative path that
// stays inside the folder (no "..", no absolute path, no dot file or dot
// folder, no backslash); whether the folder lists it is the caller's to
// check.
func ParseKey(s string) (Key, error) {
	bad := func(why string) (Key, error) { return Key{}, fmt.Errorf("transcode: bad frame key %q: %s", s, why) }
	parts := strings.SplitN(s, "/", 7)
	if len(parts) != 7 || parts[0] != keyVersion {
		return bad("not a " + keyVersion + " key")
	}
	var k Key
	w, h, ok := strings.Cut(parts[1], "x")
	q, okq := strings.CutPrefix(parts[2], "q")
	var errs [6]error
	k.Width, errs[0] = strconv.Atoi(w)
	k.Height, errs[1] = strconv.Atoi(h)
	k.Quality, errs[2] = strconv.Atoi(q)
	var rgb uint64
	rgb, errs[3] = strconv.ParseUint(parts[3], 16, 32)
	k.Size, errs[4] = strconv.ParseInt(parts[4], 10, 64)
	k.ModTime, errs[5] = strconv.ParseInt(parts[5], 10, 64)
	k.Name = parts[6]
	if err := errors.Join(errs[:]...); err != nil || !ok || !okq || len(parts[3]) != 6 {
		return bad("malformed")
	}
	k.Background = color.RGBA{uint8(rgb >> 16), uint8(rgb >> 8), uint8(rgb), 255}
	switch {
	case k.Width < 0 || k.Width > MaxSide || k.Height < 0 || k.Height > MaxSide:
		return bad("frame size out of range")
	case k.Quality < 0 || k.Quality > 100:
		return bad("quality out of range")
	case k.Size < 0:
		return bad("negative file size")
	case !source.ValidName(k.Name):
		return bad("not a file name inside the folder")
	}
	return k, nil
}
