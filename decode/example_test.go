package decode_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"slidestream/decode"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "photos")
	defer os.RemoveAll(dir)
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 4000, 3000)))
	path := filepath.Join(dir, "photo.jpg") // the name says JPEG; the bytes say PNG
	os.WriteFile(path, b.Bytes(), 0o644)

	f, err := decode.Open(path, decode.Limits{MaxPixels: 20e6})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	h := f.Header()
	o := decode.Options{Shrink: 3, Rows: true}
	fmt.Printf("%s %dx%d; a whole decode holds %d MiB, by rows only the file: %v\n",
		h.Format, h.Width, h.Height, f.Memory(decode.Options{})>>20, f.Memory(o) == h.Size)
	img, err := f.Decode(o)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%T, orientation %d\n", img.Pixels, img.Orientation)

	_, err = decode.Open(path, decode.Limits{MaxPixels: 10e6})
	fmt.Println(err != nil)
	// Output:
	// png 4000x3000; a whole decode holds 45 MiB, by rows only the file: true
	// *decode.PNGRows, orientation 1
	// true
}
