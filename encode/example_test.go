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

func ExampleFrame() {
	// A stored landscape picture that EXIF orientation 6 turns upright.
	img := &decode.Image{Pixels: image.NewNRGBA(image.Rect(0, 0, 3000, 2000)), Orientation: 6}
	b, err := encode.Frame(img, encode.Options{Width: 400, Background: color.RGBA{0, 0, 0, 255}})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(b))
	fmt.Printf("%dx%d\n", cfg.Width, cfg.Height)
	// Output: 400x600
}
