package screens

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	list, err := Parse([]byte(`
[screen.tv]
fit = "1920x1080"
fill = "blur"
caption = "{album} · {taken:2 January 2006}"
fade = "1s"

[screen.kitchen]
width = 1024
album = "Family"
interval = "20s"
sleep = ""

[screen.hall-paper]
size = "800x480"
palette = "spectra6"
rotate = 90
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != "hall-paper" || list[1].Name != "kitchen" || list[2].Name != "tv" {
		t.Fatalf("%+v", list)
	}
	k := list[1]
	if *k.Album != "Family" || k.Width != 1024 || k.Sleep == nil || *k.Sleep != "" || k.Caption != nil {
		t.Errorf("kitchen: %+v", k)
	}
	if list[0].Rotate != 90 || list[2].Fill != "blur" {
		t.Errorf("%+v", list)
	}
}

func TestParseRefuses(t *testing.T) {
	for body, says := range map[string]string{
		"[screen.tv]\nwifi = 1\n":          "wifi (line 2)",
		"[screen.tv]\nwidth = \"wide\"\n":  "line 2",
		"[screen.\"a/b\"]\nwidth = 100\n":  "name",
		"[screen.tv\n":                     "line 1",
		strings.Repeat("#", MaxFileSize+1): "bytes",
	} {
		if _, err := Parse([]byte(body), nil); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%.40q: %v; want an error saying %q", body, err, says)
		}
	}
	_, err := Parse([]byte("[screen.tv]\nfit = \"huge\"\n"), func(n Named) error { return errors.New("fit: no") })
	if err == nil || err.Error() != `screen "tv": fit: no` {
		t.Errorf("%v", err)
	}
}

// FuzzParse feeds the screens file parser arbitrary bytes: screens with
// valid names, or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[screen.tv]\nfit = \"1920x1080\"\nfill = \"blur\"\ncaption = \"{name}\"\n"))
	f.Add([]byte("[screen.a]\nalbum = \"x\"\n[screen.b]\nsize = \"800x480\"\nrotate = 90\n"))
	f.Add([]byte("screen = {tv = {width = 100}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := Parse(b, nil)
		if err != nil {
			return
		}
		for _, s := range list {
			if !ValidName(s.Name) {
				t.Fatalf("Parse let through the name %q", s.Name)
			}
		}
	})
}
