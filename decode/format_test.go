package decode

import (
	"strings"
	"testing"
)

func TestIsImageName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.jpg": true, "b.JPEG": true, "c.png": true, "d.WebP": true, "e.gif": true, "2024/f.jpg": true,
		"notes.txt": false, "g.jpg~": false, "jpg": false, "h.heic": true, "i.HIF": true, "j.avif": true, "k.heics": false,
	} {
		if got := IsImageName(name); got != want {
			t.Errorf("IsImageName(%q) = %v; want %v", name, got, want)
		}
	}
}

// Every format in the table is named in the reason an unknown file gets.
func TestDescribeNamesEveryFormat(t *testing.T) {
	text := describe([]byte("hello\n"))
	binary := describe([]byte{0, 1, 2, 3})
	for _, f := range formats {
		if !strings.Contains(text, f.name) || !strings.Contains(binary, f.name) {
			t.Errorf("describe says %q and %q; want both to name %s", text, binary, f.name)
		}
	}
	if text != "it is text, not a JPEG, PNG, WebP, GIF, HEIC, AVIF, MP4 or WebM image" {
		t.Errorf("describe(text) = %q", text)
	}
}
