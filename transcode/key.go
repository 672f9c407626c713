package transcode

import (
	"errors"
	"fmt"
	"image/color"
	"net/url"
	"strconv"
	"strings"

	"slidestream/encode"
	"slidestream/source"
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
	// Blur fills the frame around the fitted picture with the picture
	// blurred (--fill blur) instead of Background.
	Blur bool
	// Crop covers the frame with the picture instead, cropped where it
	// matters least (--fill crop); a picture whose aspect is too far from
	// the frame's is shown as with Blur.
	Crop bool
	// Caption names the caption drawn in the frame, if any.
	Caption CaptionKey
	// Pair is the portrait shown beside this one (--pair-portraits), if
	// any: the frame's right half.
	Pair PairKey
	// Still, when on, makes the frame a still for an e-paper panel
	// (exactly Width×Height, then turned, dithered and encoded as it
	// says) instead of an MJPEG frame.
	Still encode.StillSpec
}

// stillString writes k as the STILL part of a key: "-", or
// FORMAT.ROTATE.DITHER.LIFT.PALETTE.CALIBRATED, where LIFT is "lift" or
// "plain" and the palettes are "-" when not given.
func stillString(k encode.StillSpec) string {
	if !k.On() {
		return "-"
	}
	lift, pal, cal := "lift", "-", "-"
	if k.Plain {
		lift = "plain"
	}
	if k.Palette != "" {
		pal = k.Palette
	}
	if k.Calibrated != "" {
		cal = k.Calibrated
	}
	return fmt.Sprintf("%s.%d.%s.%s.%s.%s", k.Format, k.Rotate, k.Dither, lift, pal, cal)
}

// parseStillKey reads what StillKey.String writes, and checks it names a
// still that can be made.
func parseStillKey(s string) (encode.StillSpec, error) {
	f := strings.Split(s, ".")
	if len(f) != 6 || (f[3] != "lift" && f[3] != "plain") {
		return encode.StillSpec{}, errors.New("malformed still")
	}
	rot, err := strconv.Atoi(f[1])
	if err != nil {
		return encode.StillSpec{}, errors.New("malformed still")
	}
	k := encode.StillSpec{Format: f[0], Rotate: rot, Dither: f[2], Plain: f[3] == "plain"}
	if f[4] != "-" {
		k.Palette = f[4]
	}
	if f[5] != "-" {
		k.Calibrated = f[5]
	}
	if _, err := k.Options(); err != nil {
		return encode.StillSpec{}, err
	}
	return k, nil
}

// PairKey names the second file of a frame of two portraits, at a version.
type PairKey struct {
	Name          string // "" for none
	Size, ModTime int64
}

// CaptionKey is what shapes a frame's caption beyond the file: which
// template (a hash of it; 0 for no caption) and, when the template shows
// it, the photo's place in play order.
type CaptionKey struct {
	Template uint32
	// Index (from 0) and Count are 0 unless the template shows them.
	Index, Count int
}

// MaxCount bounds CaptionKey.Count: more photos than any library holds.
const MaxCount = 1 << 24

// keyVersion starts every key, so that instances of different releases
// never take each other's keys for their own.
const keyVersion = "f3"

// maxHeight is the tallest frame a key may ask for: a tall --fit box
// makes frames taller than encode.MaxWidth, within the frame area that
// main allows.
const maxHeight = 16384

// String writes the key as ParseKey reads it:
// f3/WIDTHxHEIGHT/qQUALITY/RRGGBB/FILL/CAPTION/PAIR/STILL/SIZE/MODTIME/NAME,
// where FILL is "color", "blur" or "crop", CAPTION "-" or TEMPLATE.INDEX.COUNT
// (the template's hash in hex), PAIR "-" or SIZE.MODTIME.NAME with the
// name path-escaped, and STILL as StillKey.String writes it.
func (k Key) String() string {
	fill := "color"
	switch {
	case k.Crop:
		fill = "crop"
	case k.Blur:
		fill = "blur"
	}
	caption := "-"
	if c := k.Caption; c.Template != 0 {
		caption = fmt.Sprintf("%08x.%d.%d", c.Template, c.Index, c.Count)
	}
	pair := "-"
	if p := k.Pair; p.Name != "" {
		pair = fmt.Sprintf("%d.%d.%s", p.Size, p.ModTime, url.PathEscape(p.Name))
	}
	return fmt.Sprintf("%s/%dx%d/q%d/%02x%02x%02x/%s/%s/%s/%s/%d/%d/%s", keyVersion, k.Width, k.Height, k.Quality,
		k.Background.R, k.Background.G, k.Background.B, fill, caption, pair, stillString(k.Still), k.Size, k.ModTime, k.Name)
}

// ParseKey reads a key written by String. A peer sends it, so it is
// untrusted: the file must be a plain name in the folder, and the sizes
// within what a client may ask for. The name must be a relative path that
// stays inside the folder (no "..", no absolute path, no dot file or dot
// folder, no backslash); whether the folder lists it is the caller's to
// check.
func ParseKey(s string) (Key, error) {
	bad := func(why string) (Key, error) { return Key{}, fmt.Errorf("transcode: bad frame key %q: %s", s, why) }
	parts := strings.SplitN(s, "/", 11)
	if len(parts) != 11 || parts[0] != keyVersion {
		return bad("not a " + keyVersion + " key")
	}
	fill, caption, pair, still := parts[4], parts[5], parts[6], parts[7]
	parts = append(parts[:4], parts[8:]...)
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
	switch fill {
	case "color":
	case "blur":
		k.Blur = true
	case "crop":
		k.Crop = true
	default:
		return bad("fill is not color, blur or crop")
	}
	if caption != "-" {
		c, err := parseCaptionKey(caption)
		if err != nil {
			return bad(err.Error())
		}
		k.Caption = c
	}
	if pair != "-" {
		p, err := parsePairKey(pair)
		if err != nil {
			return bad(err.Error())
		}
		k.Pair = p
	}
	if still != "-" {
		st, err := parseStillKey(still)
		if err != nil {
			return bad(err.Error())
		}
		k.Still = st
	}
	switch {
	case k.Width < 0 || k.Width > encode.MaxWidth || k.Height < 0 || k.Height > maxHeight:
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

// parseCaptionKey reads TEMPLATE.INDEX.COUNT.
func parseCaptionKey(s string) (CaptionKey, error) {
	f := strings.Split(s, ".")
	if len(f) != 3 || len(f[0]) != 8 {
		return CaptionKey{}, errors.New("malformed caption")
	}
	h, err1 := strconv.ParseUint(f[0], 16, 32)
	i, err2 := strconv.Atoi(f[1])
	n, err3 := strconv.Atoi(f[2])
	switch {
	case errors.Join(err1, err2, err3) != nil || h == 0:
		return CaptionKey{}, errors.New("malformed caption")
	case n < 0 || n > MaxCount || i < 0 || (n > 0 && i >= n) || (n == 0 && i != 0):
		return CaptionKey{}, errors.New("caption place out of range")
	}
	return CaptionKey{Template: uint32(h), Index: i, Count: n}, nil
}

// parsePairKey reads SIZE.MODTIME.NAME.
func parsePairKey(s string) (PairKey, error) {
	f := strings.SplitN(s, ".", 3)
	if len(f) != 3 {
		return PairKey{}, errors.New("malformed pair")
	}
	size, err1 := strconv.ParseInt(f[0], 10, 64)
	mod, err2 := strconv.ParseInt(f[1], 10, 64)
	name, err3 := url.PathUnescape(f[2])
	switch {
	case errors.Join(err1, err2, err3) != nil:
		return PairKey{}, errors.New("malformed pair")
	case size < 0:
		return PairKey{}, errors.New("negative file size")
	case !source.ValidName(name):
		return PairKey{}, errors.New("the pair is not a file name inside the folder")
	}
	return PairKey{Name: name, Size: size, ModTime: mod}, nil
}
