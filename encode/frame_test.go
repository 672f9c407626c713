package encode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"testing"

	"slidestream/decode"
)

func TestFrameSizes(t *testing.T) {
	tests := []struct {
		file         string
		width        int
		wantW, wantH int
	}{
		{"jpeg-large.jpg", 640, 640, 400},
		{"jpeg-large.jpg", 240, 240, 150},
		{"jpeg-large.jpg", 0, 1200, 750},    // 0 keeps the original size
		{"jpeg-large.jpg", 5000, 1200, 750}, // never enlarged
		{"jpeg-420.jpg", 100, 100, 75},
		{"jpeg-422.jpg", 99, 99, 74}, // rounded, not truncated
		{"orient-6.jpg", 32, 32, 24}, // width applies after turning
		{"orient-8.jpg", 0, 64, 48},
		{"png-palette.png", 16, 16, 6},
		{"webp-lossy.webp", 1, 1, 1}, // never a zero height
		{"gif-animated.gif", 64, 64, 48},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%d", tt.file, tt.width), func(t *testing.T) {
			m := frame(t, tt.file, Options{Width: tt.width})
			if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("Frame(%q, %d) = %dx%d; want %dx%d", tt.file, tt.width, b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
}

func TestFrameHasNoMetadata(t *testing.T) {
	// The source has an EXIF block with a thumbnail (its own FFD8..FFD9).
	src, _ := os.ReadFile(fixture("jpeg-thumbnail.jpg"))
	if bytes.Count(src, []byte{0xff, 0xd9}) < 2 {
		t.Fatal("fixture lost its EXIF thumbnail")
	}
	frame(t, "jpeg-thumbnail.jpg", Options{Width: 80})
}

func TestOrientationByCorners(t *testing.T) {
	// Upright, every fixture shows red, green / blue, yellow quadrants.
	corners := []struct {
		x, y float64
		c    color.RGBA
	}{
		{0.1, 0.1, color.RGBA{255, 0, 0, 255}},
		{0.9, 0.1, color.RGBA{0, 255, 0, 255}},
		{0.1, 0.9, color.RGBA{0, 0, 255, 255}},
		{0.9, 0.9, color.RGBA{255, 255, 0, 255}},
	}
	files := []string{"orient-6.png", "orient-6.webp"}
	for o := 1; o <= 8; o++ {
		files = append(files, fmt.Sprintf("orient-%d.jpg", o))
	}
	for _, file := range files {
		for _, width := range []int{0, 32} {
			t.Run(fmt.Sprintf("%s@%d", file, width), func(t *testing.T) {
				m := frame(t, file, Options{Width: width, Quality: 95})
				b := m.Bounds()
				if b.Dx() < b.Dy() {
					t.Fatalf("Frame(%q) is %dx%d: still on its side", file, b.Dx(), b.Dy())
				}
				for _, c := range corners {
					x, y := int(c.x*float64(b.Dx())), int(c.y*float64(b.Dy()))
					if got := m.At(x, y); !near(got, c.c, 40) {
						t.Errorf("Frame(%q) at (%d,%d) = %v; want %v", file, x, y, got, c.c)
					}
				}
			})
		}
	}
}

func TestDownscaleMatchesReferenceResize(t *testing.T) {
	// ImageMagick's Lanczos resize of the same 1200x750 photo to 240x150.
	ref := loadPNG(t, "ref/jpeg-large-240.png")
	got := frame(t, "jpeg-large.jpg", Options{Width: 240, Quality: 95})
	p := psnr(got, ref)
	t.Logf("PSNR against ImageMagick Lanczos: %.1f dB", p)
	if p < 32 {
		t.Errorf("Frame(jpeg-large.jpg, 240) PSNR against the reference resize = %.1f dB; want >= 32", p)
	}
	// A nearest-neighbour downscale of the same photo is far worse; if it
	// were not, this test could not tell a good filter from a bad one.
	src := load(t, "jpeg-large.jpg").Pixels
	nn := image.NewRGBA(image.Rect(0, 0, 240, 150))
	for y := 0; y < 150; y++ {
		for x := 0; x < 240; x++ {
			nn.Set(x, y, src.At(x*5+2, y*5+2))
		}
	}
	if q := psnr(nn, ref); q > p-3 {
		t.Errorf("nearest-neighbour PSNR %.1f dB is within 3 dB of ours (%.1f)", q, p)
	}
}

func TestQualityAndSize(t *testing.T) {
	img := load(t, "jpeg-large.jpg")
	def, _ := Frame(img, Options{Width: 640})
	q80, _ := Frame(img, Options{Width: 640, Quality: 80})
	q40, _ := Frame(img, Options{Width: 640, Quality: 40})
	if !bytes.Equal(def, q80) {
		t.Errorf("default quality is not 80")
	}
	if len(q40) >= len(q80) {
		t.Errorf("quality 40 gives %d bytes, quality 80 %d: quality is ignored", len(q40), len(q80))
	}
}

// --fit: every frame is exactly the box, the picture fitted inside it
// (enlarged when small) and centred on the background.
func TestFit(t *testing.T) {
	red := color.RGBA{220, 20, 30, 255}
	bg := color.RGBA{0, 40, 200, 255}
	img := func(w, h int, o decode.Orientation) *decode.Image {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Rect, image.NewUniform(red), image.Point{}, draw.Src)
		return &decode.Image{Pixels: m, Orientation: o}
	}
	tests := []struct {
		name         string
		img          *decode.Image
		wantW, wantH int // the picture inside the 640x360 box
	}{
		{"wide photo, bars above and below", img(4000, 1000, 1), 640, 160},
		{"portrait, bars left and right", img(1000, 2000, 1), 180, 360},
		{"small image is enlarged", img(64, 36, 1), 640, 360},
		{"stored landscape turned upright by EXIF 6", img(2000, 1000, 6), 180, 360},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Scale(tt.img, Options{Width: 640, Height: 360, Background: bg})
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
				t.Fatalf("frame is %dx%d; want 640x360", b.Dx(), b.Dy())
			}
			if got := m.RGBAAt(320, 180); !near(got, red, 3) {
				t.Errorf("centre = %v; want the picture's %v", got, red)
			}
			// Just inside and just outside the picture's edges.
			x0, y0 := (640-tt.wantW)/2, (360-tt.wantH)/2
			if got := m.RGBAAt(x0+2, y0+2); !near(got, red, 3) {
				t.Errorf("inside corner (%d,%d) = %v; want the picture", x0+2, y0+2, got)
			}
			if x0 > 2 {
				if got := m.RGBAAt(x0-2, 180); !near(got, bg, 3) {
					t.Errorf("left bar (%d,180) = %v; want the background %v", x0-2, got, bg)
				}
			}
			if y0 > 2 {
				if got := m.RGBAAt(320, y0-2); !near(got, bg, 3) {
					t.Errorf("top bar (320,%d) = %v; want the background %v", y0-2, got, bg)
				}
			}
			b, err := Frame(tt.img, Options{Width: 640, Height: 360, Background: bg})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil || cfg.Width != 640 || cfg.Height != 360 {
				t.Errorf("JPEG is %dx%d (%v); want 640x360", cfg.Width, cfg.Height, err)
			}
		})
	}
}

// halfChroma says yes exactly when, after turning and padding, every 2×2
// block of the frame (the blocks a 4:2:0 JPEG keeps one chroma value for)
// comes from one 2×2 block of the resized picture.
func TestHalfChromaKeepsTheEncodersBlocks(t *testing.T) {
	for or := decode.Orientation(1); or <= 8; or++ {
		for _, sz := range [][2]int{{6, 4}, {5, 4}, {6, 3}, {5, 3}} {
			for _, box := range [][2]int{{0, 0}, {10, 10}, {11, 9}, {13, 12}} {
				tw, th := sz[0], sz[1]
				fw, fh := tw, th
				if or.SwapsAxes() {
					fw, fh = th, tw
				}
				o := Options{Width: box[0], Height: box[1]}
				// Each pixel names the 2×2 block of the picture it is in.
				m := image.NewRGBA(image.Rect(0, 0, tw, th))
				for y := range th {
					for x := range tw {
						m.Pix[m.PixOffset(x, y)] = uint8(1 + y/2*8 + x/2)
						m.Pix[m.PixOffset(x, y)+3] = 255
					}
				}
				frame := asRGBA(orient(m, or))
				if box[0] > 0 {
					frame = pad(frame, box[0], box[1], color.RGBA{})
				}
				fb := frame.Bounds()
				kept := true
				for y := 0; y < fb.Dy(); y += 2 {
					for x := 0; x < fb.Dx(); x += 2 {
						ids := map[uint8]bool{}
						for _, p := range []image.Point{{x, y}, {x + 1, y}, {x, y + 1}, {x + 1, y + 1}} {
							if p.In(fb) {
								if id := frame.Pix[frame.PixOffset(p.X, p.Y)]; id != 0 {
									ids[id] = true
								}
							}
						}
						kept = kept && len(ids) <= 1
					}
				}
				if got := halfChroma(or, o, fw, fh, tw, th); got != kept {
					t.Errorf("orientation %d, %dx%d in %v: halfChroma %v; blocks kept: %v", or, tw, th, box, got, kept)
				}
			}
		}
	}
}

// Options.Cores changes how many goroutines share the resize, never the
// pixels: every way of cutting the rows into ranges gives the same frame.
func TestCoresDoNotChangeTheFrame(t *testing.T) {
	for _, name := range []string{"jpeg-large.jpg", "png-rgba.png", "webp-lossy.webp", "orient-6.jpg"} {
		img := load(t, name)
		var first []byte
		for _, n := range []int{1, 2, 3, 7} {
			out, err := Frame(img, Options{Width: 97, Cores: n})
			if err != nil {
				t.Fatalf("Frame(%s, Cores %d): %v", name, n, err)
			}
			if first == nil {
				first = out
			} else if !bytes.Equal(out, first) {
				t.Errorf("Frame(%s) on %d cores differs from the frame made on 1", name, n)
			}
		}
	}
}
