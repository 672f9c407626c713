package web

import (
	"net/url"
	"testing"

	"slidestream/encode"
)

// FuzzParseStill feeds any query string to the still parameters' parser,
// as a panel or anyone else could: it never panics, and what it accepts is
// a still that can be made, of a bounded size.
func FuzzParseStill(f *testing.F) {
	for _, q := range []string{"size=800x480&palette=spectra6", "size=800x480&palette=bw&format=bmp&rotate=90",
		"size=1600x1200&palette=000000,ffffff,ff0000&dither=atkinson&lift=off", "size=400x300&format=png",
		"size=800x480&palette=acep7&calibrated=191e21,f1f1f1,53a428,31318f,d20e13,f3cf11,b85e1c", "palette=bw", "size=0x0"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, ok, err := parseStill(q, 1<<22)
		if !ok || err != nil {
			return
		}
		if s.panel.X < encode.MinWidth || s.panel.Y < encode.MinWidth || s.panel.X > encode.MaxWidth || s.panel.Y > encode.MaxWidth ||
			s.panel.X*s.panel.Y > 1<<22 {
			t.Fatalf("%q: a %v still accepted", raw, s.panel)
		}
		if _, err := s.spec.Options(); err != nil {
			t.Fatalf("%q accepted as %+v, which cannot be made: %v", raw, s.spec, err)
		}
		if v := s.view(); v.X*v.Y != s.panel.X*s.panel.Y {
			t.Fatalf("%q: view %v of a %v panel", raw, v, s.panel)
		}
	})
}
