package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pillow finds a Python that has Pillow, or skips (fails under CI).
func pillow(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import PIL").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Python's Pillow is not installed; .ci/run should install python3-pil")
	}
	t.Skip("Python's Pillow is not installed")
	return ""
}

// pillowSays is what Pillow reads in an image file.
type pillowSays struct {
	Format string     `json:"format"`
	Mode   string     `json:"mode"`
	Size   [2]int     `json:"size"`
	Colors [][3]uint8 `json:"colors"`
}

const pillowScript = `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
rgb = im.convert("RGB")
colors = rgb.getcolors(maxcolors=1 << 20)
print(json.dumps({"format": im.format, "mode": im.mode, "size": im.size,
                  "colors": sorted({c for _, c in colors}) if len(colors) <= 64 else []}))
`

// The stills e-paper firmware reads are read alike by Pillow and by
// ImageMagick: the size asked, only the palette's colours, the format
// and depth asked.
func TestEPaperStillsReadByPillowAndImageMagick(t *testing.T) {
	py := pillow(t)
	identify := tool(t, "identify-im6.q16", "magick")
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "images", "2-colorful-cups.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cups.jpg"), b, 0o644)
	base, _ := start(t, "--dir", dir, "--interval", "1h")
	work := t.TempDir()
	for _, c := range []struct {
		query        string
		format, mode string // as Pillow names them
		size         [2]int
		colours      []string // the palette's, nil for full colour
		magick       string   // ImageMagick's %m %w %h (BMP3: the Windows 3 header firmware reads)
	}{
		{"size=800x480&palette=bw&format=bmp", "BMP", "1", [2]int{800, 480}, []string{"000000", "ffffff"}, "BMP3 800 480"},
		{"size=800x480&palette=spectra6&format=bmp", "BMP", "P", [2]int{800, 480}, []string{"000000", "ffffff", "ffff00", "ff0000", "0000ff", "00ff00"}, "BMP3 800 480"},
		{"size=600x448&palette=acep7&format=bmp", "BMP", "P", [2]int{600, 448}, []string{"000000", "ffffff", "00ff00", "0000ff", "ff0000", "ffff00", "ff8000"}, "BMP3 600 448"},
		{"size=400x300&format=bmp", "BMP", "RGB", [2]int{400, 300}, nil, "BMP3 400 300"},
		{"size=800x480&palette=bw", "PNG", "P", [2]int{800, 480}, []string{"000000", "ffffff"}, "PNG 800 480"},
		{"size=800x480&palette=gray4", "PNG", "P", [2]int{800, 480}, []string{"000000", "555555", "aaaaaa", "ffffff"}, "PNG 800 480"},
		{"size=1200x825&palette=gray16&rotate=90", "PNG", "P", [2]int{1200, 825}, nil, "PNG 1200 825"},
		{"size=800x480&palette=000000,ffffff,ff0000", "PNG", "P", [2]int{800, 480}, []string{"000000", "ffffff", "ff0000"}, "PNG 800 480"},
	} {
		resp, err := http.Get(base + "/snapshot?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("?%s: %s %s", c.query, resp.Status, body)
			continue
		}
		file := filepath.Join(work, "still."+strings.ToLower(c.format))
		os.WriteFile(file, body, 0o644)
		out, err := exec.Command(py, "-c", pillowScript, file).CombinedOutput()
		var says pillowSays
		if err != nil || json.Unmarshal(out, &says) != nil {
			t.Errorf("?%s: Pillow cannot read it: %v %s", c.query, err, out)
			continue
		}
		if says.Format != c.format || says.Mode != c.mode || says.Size != c.size {
			t.Errorf("?%s: Pillow reads %s %s %v; want %s %s %v", c.query, says.Format, says.Mode, says.Size, c.format, c.mode, c.size)
		}
		if c.colours != nil {
			for _, rgb := range says.Colors {
				hex := fmt.Sprintf("%02x%02x%02x", rgb[0], rgb[1], rgb[2])
				if !slices.Contains(c.colours, hex) {
					t.Errorf("?%s: Pillow finds #%s, not one of the palette's %v", c.query, hex, c.colours)
				}
			}
			if len(says.Colors) < 2 {
				t.Errorf("?%s: Pillow finds %d colours", c.query, len(says.Colors))
			}
		}
		im, err := exec.Command(identify, "-format", "%m %w %h|%k", file).CombinedOutput()
		got, unique, _ := strings.Cut(strings.TrimSpace(string(im)), "|")
		if err != nil || got != c.magick {
			t.Errorf("?%s: ImageMagick identifies %q (%v); want %q", c.query, im, err, c.magick)
		}
		var n int
		if fmt.Sscan(unique, &n); c.colours != nil && (n < 2 || n > len(c.colours)) {
			t.Errorf("?%s: ImageMagick counts %s colours; want 2 to %d", c.query, unique, len(c.colours))
		}
	}
}
