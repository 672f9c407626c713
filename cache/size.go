package cache

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// ParseSize reads a byte count written the way people write it: "256MiB",
// "1.5 GB", "512k", "1048576". K, M, G and T are powers of 1024 whether or
// not an "i" follows ("MB" is read as MiB, which is what people mean when
// sizing memory).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("cache: size %q is not a number of bytes such as 256MiB", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
	}[strings.ToLower(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("cache: size %q has an unknown unit %q (use KiB, MiB or GiB)", s, unit)
	}
	return int64(v * mult), nil
}

// FormatSize writes a byte count in the largest binary unit that keeps it
// at least 1: "256MiB", "1.5GiB", "512B". ParseSize reads it back.
func FormatSize(n int64) string {
	v, u := float64(n), 0
	for v >= 1024 && u < 4 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + [...]string{"B", "KiB", "MiB", "GiB", "TiB"}[u]
}
