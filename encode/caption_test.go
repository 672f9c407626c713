package encode

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
	"time"
)

func TestCaptionText(t *testing.T) {
	taken := time.Date(2024, 8, 3, 18, 4, 0, 0, time.UTC)
	for _, c := range []struct {
		template string
		f        CaptionFields
		want     string
	}{
		{"{taken:2 January 2006} · {album}", CaptionFields{Name: "2024/Italy/a.jpg", Taken: taken}, "3 August 2024 · 2024/Italy"},
		{"{taken:2 January 2006} · {album}", CaptionFields{Name: "2024/Italy/a.jpg"}, "2024/Italy"},
		{"{taken:2 January 2006} · {album}", CaptionFields{Name: "a.jpg", Taken: taken}, "3 August 2024"},
		{"{taken:2 January 2006} · {album}", CaptionFields{Name: "a.jpg"}, ""},
		{"{taken}", CaptionFields{Name: "a.jpg", Taken: taken}, "3 August 2024"},
		{"{name} ({index} of {count})", CaptionFields{Name: "x/IMG_1.HEIC", Index: 4, Count: 120}, "IMG_1.HEIC (5 of 120)"},
		{"{name} ({index} of {count})", CaptionFields{Name: "x/IMG_1.HEIC"}, "IMG_1.HEIC"}, // a thumbnail
		{"{album} ({taken:2006})", CaptionFields{Name: "Trips/a.jpg"}, "Trips"},
		{"Taken {taken:Jan 2006}", CaptionFields{Name: "a.jpg", Taken: taken}, "Taken Aug 2024"},
		{"Taken {taken:Jan 2006}", CaptionFields{Name: "a.jpg"}, ""},
		{"Our holiday", CaptionFields{Name: "a.jpg"}, "Our holiday"},
	} {
		cp, err := ParseCaption(c.template)
		if err != nil {
			t.Fatalf("ParseCaption(%q): %v", c.template, err)
		}
		if got := cp.Text(c.f); got != c.want {
			t.Errorf("%q for %+v = %q; want %q", c.template, c.f, got, c.want)
		}
	}
	for _, bad := range []string{"{nme}", "{name", "name}", "{index:3}", "{taken} }", string(make([]byte, MaxCaption+1)), "\xff"} {
		if _, err := ParseCaption(bad); err == nil {
			t.Errorf("ParseCaption(%q) accepted it", bad)
		}
	}
	a, _ := ParseCaption("{name}")
	b, _ := ParseCaption("{name} ")
	if a.Hash() == b.Hash() || a.Hash() == 0 || (Caption{}).Hash() != 0 {
		t.Errorf("hashes: %x %x %x", a.Hash(), b.Hash(), (Caption{}).Hash())
	}
	if a.Counts() {
		t.Errorf("{name} counts")
	}
	if n, _ := ParseCaption("{index}/{count}"); !n.Counts() {
		t.Errorf("{index}/{count} does not count")
	}
}

// FuzzParseCaption feeds any template to the parser: what it accepts
// fills in without panicking and is drawn within the frame.
func FuzzParseCaption(f *testing.F) {
	f.Add("{taken:2 January 2006} · {album}")
	f.Add("{name} ({index} of {count})")
	f.Add("{{}}")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCaption(s)
		if err != nil {
			return
		}
		txt := c.Text(CaptionFields{Name: "a/b.jpg", Taken: time.Unix(1e9, 0), Index: 1, Count: 2})
		m := image.NewRGBA(image.Rect(0, 0, 64, 36))
		if r := drawCaption(m, txt); !r.In(m.Bounds()) {
			t.Fatalf("%q drew outside the frame: %v", txt, r)
		}
	})
}

func TestCaptionIsSizedToTheFrame(t *testing.T) {
	for _, w := range []int{320, 1280, 3840} {
		h := w * 9 / 16
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
		r := drawCaption(m, "3 August 2024 · Italy")
		// Letters at least 8 px tall at 320, and about the same share of the
		// frame at 4K.
		if r.Dy() < 14 || float64(r.Dy())/float64(h) > 0.13 || r.Min.X < 0 || r.Max.Y > h {
			t.Errorf("at %dx%d the caption's plate is %v", w, h, r)
		}
		// An overlong caption ends in an ellipsis within the frame.
		long := make([]byte, 200)
		for i := range long {
			long[i] = 'W'
		}
		if r := drawCaption(m, string(long)); r.Max.X > w {
			t.Errorf("at %d px a long caption reaches %d", w, r.Max.X)
		}
	}
}
