package cache_test

import (
	"context"
	"fmt"
	"strings"

	"slidestream/cache"
)

func ExampleCache() {
	loads := 0
	c := cache.New(cache.Options{MaxBytes: 10}, func(ctx context.Context, key string) ([]byte, error) {
		loads++
		return []byte(strings.ToUpper(key)), nil
	})
	ctx := context.Background()
	var got []string
	for _, k := range []string{"abcd", "efgh", "abcd", "ijkl", "efgh"} {
		v, _ := c.Get(ctx, k)
		got = append(got, string(v))
	}
	fmt.Println(strings.Join(got, " "))
	st := c.Stats()
	fmt.Printf("%d loads, %d hits, %d evicted, %d bytes held\n", loads, st.Hits, st.Evictions, st.Bytes)
	// Output:
	// ABCD EFGH ABCD IJKL EFGH
	// 4 loads, 1 hits, 2 evicted, 8 bytes held
}
