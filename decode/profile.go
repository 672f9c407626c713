package decode

import (
	"bytes"
	"compress/zlib"
	"io"
	"sort"

	"slidestream/internal/icc"
	"slidestream/internal/jpeg"
)

// Where each format keeps its colour profile.

// jpegICC gathers the profile a JPEG carries in APP2 segments
// ("ICC_PROFILE", a sequence number and a count), in the order of their
// numbers; nil when it has none or the pieces do not add up.
func jpegICC(b []byte) []byte {
	type piece struct {
		seq  int
		data []byte
	}
	var pieces []piece
	total, count := 0, 0
	jpeg.Segments(b, func(marker byte, p []byte) bool {
		if marker != 0xe2 || len(p) < 14 || string(p[:12]) != "ICC_PROFILE\x00" {
			return true
		}
		pieces = append(pieces, piece{int(p[12]), p[14:]})
		count = int(p[13])
		total += len(p) - 14
		return total <= MaxProfile && len(pieces) <= 255
	})
	if len(pieces) == 0 || len(pieces) != count || total > MaxProfile {
		return nil
	}
	sort.Slice(pieces, func(i, j int) bool { return pieces[i].seq < pieces[j].seq })
	out := make([]byte, 0, total)
	for i, p := range pieces {
		if p.seq != i+1 {
			return nil
		}
		out = append(out, p.data...)
	}
	return out
}

// pngICC inflates a PNG's iCCP chunk: a name, a zero byte, the method (0)
// and the zlib-compressed profile.
func pngICC(b []byte) []byte {
	c := pngChunk(b, "iCCP")
	i := bytes.IndexByte(c, 0)
	if i < 1 || i > 79 || i+2 > len(c) || c[i+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(c[i+2:]))
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxProfile+1))
	if err != nil || len(out) > MaxProfile {
		return nil
	}
	return out
}

// webpICC is a WebP's ICCP chunk, which comes right after VP8X.
func webpICC(b []byte) []byte { return webpChunk(b, "ICCP") }

// Profile is a colour profile that can be converted from to sRGB, and
// ProfileError why one a file has is not applied (see package icc).
type (
	Profile      = icc.Profile
	ProfileError = icc.ProfileError
)

// MaxProfile bounds the colour profile read from a file.
const MaxProfile = icc.MaxProfile

// ParseICC reads a colour profile; one that cannot be applied is a
// *ProfileError.
func ParseICC(b []byte) (*Profile, error) { return icc.Parse(b) }
