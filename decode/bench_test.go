package decode

import (
	"testing"

	"slidestream/internal/benchphoto"
)

// BenchmarkDecode: file bytes to pixels, per format, for the 12.5-megapixel
// benchmark photo (package benchphoto).
func BenchmarkDecode(b *testing.B) {
	ins, err := benchphoto.Load(fixture(""))
	if err != nil {
		b.Fatal(err)
	}
	decode := func(b *testing.B, in benchphoto.Input) *Image {
		img, err := readBytes(in.Format, in.Data, Limits{}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		return img
	}
	for _, in := range ins {
		b.Run(in.Format, func(b *testing.B) {
			mp := benchphoto.Megapixels(decode(b, in).Pixels)
			b.SetBytes(int64(len(in.Data)))
			b.ReportAllocs()
			for b.Loop() {
				decode(b, in)
			}
			b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
		})
	}
}
