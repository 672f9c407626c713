package encode_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	"slidestream/decode"
	"slidestream/encode"
)

func ExampleScale() {
	// A stored landscape picture that EXIF orientation 6 turns upright.
	img := &decode.Image{Pixels: image.NewNRGBA(image.Rect(0, 0, 3000, 2000)), Orientation: 6}
	o := encode.Options{Width: 400, Background: color.RGBA{0, 0, 0, 255}}
	m, err := encode.Scale(img, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := encode.JPEG(m, o.Quality)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(b))
	fmt.Printf("%dx%d\n", cfg.Width, cfg.Height)
	// Output: 400x600
}
