package trmnl

import (
	"errors"
	"image"
	"net/url"
	"strings"
	"testing"
)

func TestParseDevices(t *testing.T) {
	devices, err := Parse([]byte(`
# the hall's frame
[[device]]
name = "hall"
token = "hall-token-0123456789"
mac = "aa:bb:cc:dd:ee:ff"
album = "2024/Italy"
interval = "1h"
palette = "spectra6"
size = "800x480"
rotate = 90

[[device]]
name = "desk"
token = "desk_token.0123456789"
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(devices) != 2 || devices[0].MAC != "AA:BB:CC:DD:EE:FF" {
		t.Fatalf("%+v", devices)
	}
	hall, desk := &devices[0], &devices[1]
	q := hall.Query(image.Pt(1, 1))
	want := url.Values{"album": {"2024/Italy"}, "interval": {"1h"}, "size": {"800x480"}, "rotate": {"90"}, "palette": {"spectra6"}, "format": {"png"}}
	if q.Encode() != want.Encode() {
		t.Errorf("hall's query %s; want %s", q.Encode(), want.Encode())
	}
	// Unset: a quarter of an hour, black and white as a BMP, at the
	// panel's reported size.
	q = desk.Query(image.Pt(1872, 1404))
	want = url.Values{"interval": {"15m0s"}, "size": {"1872x1404"}, "palette": {"bw"}, "format": {"bmp"}}
	if q.Encode() != want.Encode() {
		t.Errorf("desk's query %s; want %s", q.Encode(), want.Encode())
	}
}

func TestParseDevicesRefuses(t *testing.T) {
	const tok = "token = \"a-long-enough-token\"\n"
	for body, says := range map[string]string{
		"[[device]]\nname = \"a\"\ntoken = \"short\"\n":                   "token",
		"[[device]]\nname = \"a\"\ntoken = \"has spaces in the token\"\n": "token",
		"[[device]]\n" + tok: "name",
		"[[device]]\nname = \"a\"\n" + tok + "mac = \"00:11:22:33:44\"\n":                                 "mac",
		"[[device]]\nname = \"a\"\n" + tok + "interval = \"often\"\n":                                     "interval",
		"[[device]]\nname = \"a\"\n" + tok + "wifi = \"home\"\n":                                          "wifi (line 4)",
		"[[device]]\nname = \"a\"\n" + tok + "[[device]]\nname = \"a\"\ntoken = \"another-long-token\"\n": "that name",
		"[[device]]\nname = \"a\"\n" + tok + "[[device]]\nname = \"b\"\n" + tok:                           "that token",
		"[[device]]\nname = \"a\"\n" + tok + "rotate = \"ninety\"\n":                                      "line 4",
		"[[device]\n":                      "line 1",
		strings.Repeat("#", MaxFileSize+1): "bytes",
	} {
		if _, err := Parse([]byte(body), nil); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%.60q: %v; want an error saying %q", body, err, says)
		}
	}
	// The check of the still's query names the device.
	_, err := Parse([]byte("[[device]]\nname = \"hall\"\n"+tok), func(url.Values) error { return errors.New("palette nonsense") })
	if err == nil || !strings.Contains(err.Error(), `device 1 ("hall"): palette nonsense`) {
		t.Errorf("%v", err)
	}
}

// FuzzParse feeds the devices file parser arbitrary bytes: it returns
// devices that pass their own checks, or an error, and never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[[device]]\nname = \"a\"\ntoken = \"a-long-enough-token\"\nmac = \"AA:BB:CC:DD:EE:FF\"\n"))
	f.Add([]byte("[[device]]\nname = \"a\"\ntoken = \"a-long-enough-token\"\nsize = \"800x480\"\nrotate = 90\n[[device]]\n"))
	f.Add([]byte("device = [{name = \"x\", token = \"yyyyyyyyyyyyyyyyyyyy\"}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		devices, err := Parse(b, nil)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, d := range devices {
			if d.check(nil) != nil || seen[d.Token] {
				t.Fatalf("Parse let through %+v", d)
			}
			seen[d.Token] = true
			d.Query(DefaultPanel)
		}
	})
}
