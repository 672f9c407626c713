package transcode

import (
	"image/color"
	"path"
	"strings"
	"testing"
	"time"

	"slidestream/encode"
	"slidestream/source"
)

func TestKeyRoundTrip(t *testing.T) {
	k := Key{Size: 12345, ModTime: time.Date(2026, 5, 1, 12, 0, 0, 7, time.UTC).UnixNano(), Width: 640, Height: 360,
		Quality: 80, Background: color.RGBA{1, 2, 3, 255}, Name: "ü 2026.jpg"}
	got, err := ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
	}
	k.Name = "2024/Italy/IMG_0412.jpg" // a slide in an album
	if got, err := ParseKey(k.String()); err != nil || got != k {
		t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
	}
	k.Blur, k.Caption = true, CaptionKey{Template: 0xabcd, Index: 4, Count: 120} // --fill blur --caption
	k.Pair = PairKey{Name: "2024/Italy/IMG 0413 ü.jpg", Size: 99, ModTime: 1234} // --pair-portraits
	if got, err := ParseKey(k.String()); err != nil || got != k {
		t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
	}
	k.Pair = PairKey{}
	k.Blur, k.Crop = false, true // --fill crop
	if got, err := ParseKey(k.String()); err != nil || got != k || !strings.Contains(k.String(), "/crop/") {
		t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
	}
	k.Width, k.Height = 800, 480 // an e-paper still
	for _, st := range []encode.StillSpec{{Format: "png", Dither: "fs", Palette: "spectra6"}, {Format: "bmp", Rotate: 90, Dither: "atkinson", Plain: true, Palette: "000000,ffffff,ff0000"},
		{Format: "jpeg", Rotate: 270, Dither: "fs"}, {Format: "png", Dither: "none", Palette: "bw", Calibrated: "101010,e0e0e0"}} {
		k.Still = st
		if got, err := ParseKey(k.String()); err != nil || got != k {
			t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
		}
	}
	// A peer's key never reaches outside the folder or asks for silly sizes.
	for _, bad := range []string{
		"f3/640x0/q80/000000/color/-/-/-/1/2/../../etc/passwd",
		"f3/640x0/q80/000000/color/-/-/-/1/2/sub/../../x.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2//etc/passwd",
		"f3/640x0/q80/000000/color/-/-/-/1/2/.hidden/a.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2/a/.b.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2/a//b.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2/a/",
		"f3/640x0/q80/000000/color/-/-/-/1/2/a\\..\\b.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2/..",
		"f3/800x480/q80/000000/color/-/-/png.45.fs.lift.bw.-/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/jpeg.0.fs.lift.bw.-/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/png.0.fs.lift.000000.-/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/gif.0.fs.lift.-.-/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/png.0.ordered.lift.bw.-/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/png.0.fs.lift.bw.000000/1/2/a.jpg",
		"f3/800x480/q80/000000/color/-/-/png.0.fs.lift/1/2/a.jpg",
		"f3/99999x0/q80/000000/color/-/-/-/1/2/a.jpg",
		"f3/640x0/q101/000000/color/-/-/-/1/2/a.jpg",
		"f3/640x0/q80/zzzzzz/color/-/-/-/1/2/a.jpg",
		"f3/640x0/q80/00000/color/-/-/-/1/2/a.jpg",
		"f3/640x0/80/000000/color/-/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/-/-/-1/2/a.jpg",
		"f1/640x0/q80/000000/1/2/a.jpg", // the previous release's
		"f3/640x0/q80/000000/red/-/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/1.2.%2E%2E%2Fx.jpg/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/1.2.%ZZ/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/-1.2.b.jpg/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/1.2/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/0/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/00000000.0.0/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/0000abcd.5.5/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/0000abcd.1.0/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/0000abcd.-1.3/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/0000abcd.0.99999999/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/blur/abcd.0.1/-/-/1/2/a.jpg",
		"f3/640x0/q80/000000/color/-/-/-/1/2/",
		"f3/640x0/q80/000000/color/-/-/-/1/2/a\x00.jpg",
		"f3/0x0/q0/000000/color/-/-/-/0/0//", // found by FuzzParseKey
	} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted it", bad)
		}
	}
}

// FuzzParseKey feeds arbitrary text to ParseKey, as a peer could. A key it
// accepts names a file inside the folder, asks for sizes a client could,
// and reads back the same from its own String.
func FuzzParseKey(f *testing.F) {
	f.Add(Key{Size: 1, ModTime: 2, Width: 640, Quality: 80, Name: "a.jpg"}.String())
	f.Add("f1/640x360/q80/ffffff/12345/1777636800000000007/holiday.jpg")
	f.Add("f3/640x0/q80/000000/color/-/-/-/1/2/../../etc/passwd")
	f.Add("f3/640x0/q80/000000/color/-/-/-/1/2/2024/Italy/IMG_0412.jpg")
	f.Add("f1/+640x-0/q080/0x0000/1/2/a")
	f.Add("f3/800x480/q80/000000/color/-/-/bmp.90.atkinson.plain.000000,ffffff,ff0000.-/1/2/a.jpg")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "transcode: bad frame key") {
				t.Fatalf("ParseKey error %q does not say what it is", err)
			}
			return
		}
		if k.Pair.Name != "" && !source.ValidName(k.Pair.Name) {
			t.Fatalf("ParseKey(%q) accepted the pair %q", s, k.Pair.Name)
		}
		if path.IsAbs(k.Name) || path.Clean(k.Name) != k.Name || strings.HasPrefix(k.Name, ".") ||
			strings.Contains(k.Name, "/.") || strings.ContainsAny(k.Name, "\\\x00") {
			t.Fatalf("ParseKey(%q) accepted the name %q", s, k.Name)
		}
		if k.Width < 0 || k.Width > encode.MaxWidth || k.Height < 0 || k.Height > maxHeight || k.Quality < 0 || k.Quality > 100 || k.Size < 0 {
			t.Fatalf("ParseKey(%q) accepted %+v", s, k)
		}
		again, err := ParseKey(k.String())
		if err != nil || again != k {
			t.Fatalf("ParseKey(%q) = %+v, but its String %q reads back as %+v, %v", s, k, k.String(), again, err)
		}
	})
}
