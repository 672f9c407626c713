package jpeg

import (
	"os"
	"testing"
)

func BenchmarkZZPhone(b *testing.B) {
	data, err := os.ReadFile("/tmp/phone/p0.jpg")
	if err != nil {
		b.Skip()
	}
	for _, shift := range []int{2, 3} {
		b.Run(string(rune('0'+shift)), func(b *testing.B) {
			for b.Loop() {
				if _, err := DecodeScaled(data, shift); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
