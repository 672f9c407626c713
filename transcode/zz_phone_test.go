package transcode

import (
	"context"
	"os"
	"testing"
)

func BenchmarkZZPhone(b *testing.B) {
	dir := "/tmp/phone"
	tr := New(Options{Dir: dir})
	name := "p0.jpg"
	st, err := os.Stat(dir + "/" + name)
	if err != nil {
		b.Skip()
	}
	k := Key{Name: name, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Width: 640, Quality: 80}
	for b.Loop() {
		if _, err := tr.Load(context.Background(), k); err != nil {
			b.Fatal(err)
		}
	}
}
