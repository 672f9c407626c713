package decode

import (
	"testing"
)

func TestVideoToRGB(t *testing.T) {
	tests := []struct {
		y, cb, cr uint8
		r, g, b   uint8
	}{
		{16, 128, 128, 0, 0, 0},
		{235, 128, 128, 255, 255, 255},
		{126, 128, 128, 128, 128, 128},
		{81, 90, 240, 255, 0, 0}, // BT.601 limited-range red
		{145, 54, 34, 0, 255, 0},
		{41, 240, 110, 0, 0, 255},
		{0, 128, 128, 0, 0, 0}, // out of range clamps
		{255, 128, 128, 255, 255, 255},
	}
	for _, tt := range tests {
		r, g, b := VideoToRGB(tt.y, tt.cb, tt.cr)
		if absDiff(r, tt.r) > 1 || absDiff(g, tt.g) > 1 || absDiff(b, tt.b) > 1 {
			t.Errorf("VideoToRGB(%d, %d, %d) = %d, %d, %d; want %d, %d, %d", tt.y, tt.cb, tt.cr, r, g, b, tt.r, tt.g, tt.b)
		}
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}
