//go:build !(386 || arm || mips || mipsle)

package decode

import (
	"fmt"
	"image"
	"io"
	"time"

	deepwebp "github.com/deepteams/webp"
	"github.com/deepteams/webp/animation"
)

// On 64-bit systems github.com/deepteams/webp decodes lossy WebP and
// WebP animations; it does not build where int has 32 bits.

// decodeVP8 decodes a still WebP.
var decodeVP8 func(io.Reader) (image.Image, error) = deepwebp.Decode

// openWebP decodes an animated WebP's frames one at a time.
func openWebP(data []byte, info MotionInfo) (*Animation, error) { return openWebPDeep(data, info) }

// openWebPDeep is openWebP with github.com/deepteams/webp.
func openWebPDeep(data []byte, info MotionInfo) (*Animation, error) {
	a, err := animation.DecodeBytes(data)
	if err != nil {
		return nil, err
	}
	if len(a.Frames) < 1 || animation.FrameDecoderFunc == nil {
		return nil, ErrNoMotion
	}
	dec, err := animation.NewAnimDecoder(a)
	if err != nil {
		return nil, err
	}
	i := 0
	next := func() (*image.NRGBA, time.Duration, error) {
		if i >= len(a.Frames) {
			return nil, 0, io.EOF
		}
		f := &a.Frames[i]
		img, err := animation.FrameDecoderFunc(f.BitstreamData, f.AlphaData)
		if err != nil {
			return nil, 0, fmt.Errorf("frame %d: %w", i+1, err)
		}
		f.Image = img
		m, d, err := dec.NextFrame()
		f.Image = nil // one frame's pixels at a time
		i++
		if err != nil {
			return nil, 0, err
		}
		return m, frameDelay(d), nil
	}
	return &Animation{Info: info, next: next}, nil
}
