package cache

import (
	"context"
	"testing"
)

// BenchmarkCacheHit: a frame already in the
func BenchmarkCacheHit(b *testing.B) {
	frame := make([]byte, 200<<10)
	c := New(Options{}, func(context.Context, string) ([]byte, error) { return frame, nil })
	ctx := context.Background()
	c.Get(ctx, "k")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, "k")
		}
	})
}
