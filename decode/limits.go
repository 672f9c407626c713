package decode

import "fmt"

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxFileSize = 64 << 20 // bytes
	DefaultMaxPixels   = 50e6     // 50 megapixels
)

// Limits bounds what File and Bytes accept. The zero value means the
// defaults. Limits is a plain value and safe to share between goroutines.
type Limits struct {
	// MaxFileSize is the largest file, in bytes, that is read at all
	// (--max-file-size).
	MaxFileSize int64
	// MaxPixels is the largest width×height accepted, checked from the
	// header before decoding (--max-pixels).
	MaxPixels int64
}

func (l Limits) maxFileSize() int64 {
	if l.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return l.MaxFileSize
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// checkPixels rejects a header whose area is over the limit. The product is
// computed in int64 so that 100000x100000 cannot wrap around.
func (l Limits) checkPixels(name string, w, h int) error {
	if w <= 0 || h <= 0 {
		return reject(name, ErrCorrupt, "header says the image is %dx%d", w, h)
	}
	area := int64(w) * int64(h)
	if max := l.maxPixels(); area > max {
		return reject(name, ErrTooManyPixels, "%dx%d is %s megapixels, over --max-pixels %s",
			w, h, megapixels(area), megapixels(max))
	}
	return nil
}

// megapixels prints a pixel count in megapixels without a useless fraction:
// "10000", "50", "0.3".
func megapixels(n int64) string {
	if n%1e6 == 0 || n >= 100e6 {
		return fmt.Sprintf("%d", (n+5e5)/1e6)
	}
	return fmt.Sprintf("%.1f", float64(n)/1e6)
}

// humanBytes prints a byte count in binary units: "64 MiB", "286.1 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// Check applies the limits to what a header said, for a header read
// earlier under other limits (a remembered one, say): the same errors Open
// gives.
func (l Limits) Check(name string, h Header) error {
	if max := l.maxFileSize(); h.Size > max {
		return reject(name, ErrFileTooLarge, "%s is over --max-file-size %s", humanBytes(h.Size), humanBytes(max))
	}
	return l.checkPixels(name, h.Width, h.Height)
}
