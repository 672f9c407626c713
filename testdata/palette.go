//go:build ignore

// Writes png-palette.png: a palette PNG whose tRNS chunk holds a partial
// alpha, which ImageMagick's png8 cannot write. Run by make.sh.
package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
)

func main() {
	pal := color.Palette{
		color.NRGBA{255, 0, 0, 255},
		color.NRGBA{255, 0, 0, 128},
		color.NRGBA{255, 0, 255, 0},
	}
	m := image.NewPaletted(image.Rect(0, 0, 64, 24), pal)
	for y := 0; y < 24; y++ {
		for x := 0; x < 64; x++ {
			switch {
			case x < 20:
				m.SetColorIndex(x, y, 0)
			case x < 40:
				m.SetColorIndex(x, y, 1)
			default:
				m.SetColorIndex(x, y, 2)
			}
		}
	}
	f, err := os.Create("png-palette.png")
	if err != nil {
		panic(err)
	}
	if err := png.Encode(f, m); err != nil {
		panic(err)
	}
	f.Close()
}
