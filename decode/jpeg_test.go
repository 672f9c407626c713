package decode

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJPEGScanBombIsRefused(t *testing.T) {
	// A real progressive JPEG with its scans repeated thousands of times:
	// every scan walks the whole image, so this would take minutes.
	b := readFixture(t, "jpeg-progressive.jpg")
	first := bytes.Index(b, []byte{0xff, 0xda})
	scans := b[first : len(b)-2]
	bomb := bytes.Clone(b[:first])
	for range 2000 {
		bomb = append(bomb, scans...)
	}
	bomb = append(bomb, 0xff, 0xd9)
	start := time.Now()
	_, err := readBytes("scans.jpg", bomb, Limits{}, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "scans") {
		t.Errorf("Bytes(scan bomb) error = %v; want a refusal naming the scans", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the scan bomb took %v", d)
	}
}
