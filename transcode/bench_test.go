package transcode

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"slidestream/internal/benchphoto"
)

// BenchmarkTranscode: one slide cold from its file on disk to the JPEG
// frame through the server's transcoder (one open and read, the memory
// budget, decode, scale, encode), per format, at 1280.
func BenchmarkTranscode(b *testing.B) {
	ins, err := benchphoto.Load(filepath.Join("..", "testdata"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for _, in := range ins {
		if err := os.WriteFile(filepath.Join(dir, "photo."+in.Format), in.Data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	tr := New(Options{Dir: dir})
	for _, in := range ins {
		b.Run(in.Format, func(b *testing.B) {
			name := "photo." + in.Format
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				b.Fatal(err)
			}
			k := Key{Name: name, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Width: 1280, Quality: 80}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Load(context.Background(), k); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
