package icc

import (
	"math"
	"strings"
	"testing"
)

// Colour descriptions by code point become the profiles they name; HDR
// transfers and unknown codes are reported, not applied.
func TestFromCICP(t *testing.T) {
	for _, c := range []struct {
		code [2]uint16
		name string
		err  string
	}{
		{[2]uint16{9, 14}, "BT.2020 (nclx)", ""},
		{[2]uint16{1, 1}, "BT.709 (nclx)", ""},
		{[2]uint16{9, 16}, "", "HDR picture (PQ)"},
		{[2]uint16{200, 13}, "", "primaries 200"},
	} {
		p, err := FromCICP(c.code[0], c.code[1])
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("FromCICP(%+v) = %v; want an error saying %q", c.code, err, c.err)
		case c.err == "" && (err != nil || p.Name != c.name):
			t.Errorf("FromCICP(%+v) = %+v, %v; want %q", c.code, p, err, c.name)
		}
	}
}

// The colorants of sRGB adapted to D50 match those of the sRGB profiles
// that editors embed (here, libvips's copy of colord's).
func TestSRGBMatrix(t *testing.T) {
	want := [3][3]float64{{0.4361, 0.3851, 0.1431}, {0.2225, 0.7169, 0.0606}, {0.0139, 0.0971, 0.7141}}
	for i := range 3 {
		for j := range 3 {
			if math.Abs(srgbToXYZ50[i][j]-want[i][j]) > 0.0005 {
				t.Fatalf("sRGB to XYZ (D50) = %.4f; want %.4f", srgbToXYZ50, want)
			}
		}
	}
}
