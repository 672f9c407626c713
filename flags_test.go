package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"slidestream/encode"
	"slidestream/source"
	"slidestream/transcode"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--width", "0", "--interval", "0", "--cache-size", "1GiB", "--background", "#ffffff"}, true},
		{[]string{"--width", "abc"}, false},
		{[]string{"--fit", "1280x720", "--fill", "blur", "--caption", "{taken:2 Jan 2006} · {album}", "--fade", "1s", "--sleep", "23:00-07:00"}, true},
		{[]string{"--fill", "blur"}, false}, // nothing to fill without --fit
		{[]string{"--fit", "1280x720", "--fill", "plaid"}, false},
		{[]string{"--caption", "{nmae}"}, false},
		{[]string{"--fade", "-1s"}, false},
		{[]string{"--fade", "2m"}, false},
		{[]string{"--sleep", "23:00"}, false},
		{[]string{"--sleep", "25:00-07:00"}, false},
		{[]string{"--width", "-5"}, false},
		{[]string{"--quality", "101"}, false},
		{[]string{"--interval", "-1s"}, false},
		{[]string{"--interval", "5"}, false},
		{[]string{"--background", "red-ish"}, false},
		{[]string{"--cache-size", "lots"}, false},
		{[]string{"--decode-memory", "0"}, false},
		{[]string{"--max-file-size", "12 parsecs"}, false},
		{[]string{"--max-pixels", "0"}, false},
		{[]string{"stray"}, false},
		{[]string{"--fit", "1920x1080"}, true},
		{[]string{"--fit", "1920x1080", "--width", "1920"}, true},
		{[]string{"--fit", "1920x1080", "--width", "640"}, false},
		{[]string{"--fit", "1920"}, false},
		{[]string{"--fit", "8x8"}, false},
		{[]string{"--auth", "screen:pw"}, true},
		{[]string{"--auth", "screen"}, false},
		{[]string{"--auth", ":pw"}, false},
		{[]string{"--auth", "a:b", "--auth-file", "x"}, false},
		{[]string{"--auth-file", "/nonexistent/auth"}, false},
		{[]string{"--peers", "http://10.0.0.1:8081,http://10.0.0.2:8081", "--self", "http://10.0.0.1:8081"}, true},
		{[]string{"--peers", "http://10.0.0.1:8081"}, false},
		{[]string{"--self", "http://10.0.0.1:8081"}, false},
		{[]string{"--peers", "x", "--self", "https://10.0.0.1:8081"}, false},
		{[]string{"--peers", "x", "--self", "http://10.0.0.1:8080", "--peer-addr", ":8080"}, false},
		{[]string{"--peer-secret-file", "/etc/hostname"}, false},
		{[]string{"--peers", "http://10.0.0.1:8081", "--self", "http://10.0.0.1:8081", "--peer-secret-file", "/nonexistent/secret"}, false},
		{[]string{"--peers", "http://10.0.0.1:8081", "--self", "http://10.0.0.1:8081", "--peer-secret-file", "/dev/null"}, false},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		_, err := parseFlags(tt.args, io.Discard, &stderr)
		if tt.ok != (err == nil) {
			t.Errorf("parseFlags(%q) error = %v; want ok=%v", tt.args, err, tt.ok)
		}
		if !tt.ok && (!errors.Is(err, errUsage) || strings.Count(stderr.String(), "\n") != 1) {
			t.Errorf("parseFlags(%q) printed %q; want one line", tt.args, stderr.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "-interval") {
		t.Errorf("--help = %v, %q", err, out.String())
	}
}

func TestColorFlag(t *testing.T) {
	tests := []struct {
		in   string
		want color.RGBA
		ok   bool
	}{
		{"#000000", color.RGBA{0, 0, 0, 255}, true},
		{"#FF8000", color.RGBA{255, 128, 0, 255}, true},
		{"#fff", color.RGBA{255, 255, 255, 255}, true},
		{"white", color.RGBA{255, 255, 255, 255}, true},
		{"ff8000", color.RGBA{}, false},
		{"#ff80", color.RGBA{}, false},
		{"#gggggg", color.RGBA{}, false},
	}
	for _, tt := range tests {
		var c colorFlag
		err := c.Set(tt.in)
		if got := color.RGBA(c); (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("colorFlag.Set(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && c.String() != "#"+strings.ToLower(strings.TrimPrefix(tt.in, "#")) && len(tt.in) == 7 {
			t.Errorf("colorFlag(%q).String() = %q", tt.in, c.String())
		}
	}
}

func TestSizeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"256MiB", 256 << 20, true},
		{"256 MB", 256 << 20, true},
		{"1.5GiB", 3 << 29, true},
		{"512k", 512 << 10, true},
		{"1048576", 1 << 20, true},
		{"0", 0, true},
		{"lots", 0, false},
		{"5 parsecs", 0, false},
		{"-1M", 0, false},
	}
	for _, tt := range tests {
		var s sizeFlag
		err := s.Set(tt.in)
		if got := int64(s); (err == nil) != tt.ok || got != tt.want {
			t.Errorf("sizeFlag.Set(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, n := range []int64{512, 256 << 20, 3 << 29} {
		var s sizeFlag
		if err := s.Set(formatSize(n)); err != nil || int64(s) != n {
			t.Errorf("sizeFlag.Set(formatSize(%d)=%q) = %d, %v", n, formatSize(n), s, err)
		}
	}
}

func TestBoxFlag(t *testing.T) {
	for in, want := range map[string]image.Point{"1920x1080": {1920, 1080}, "640X360": {640, 360}, "16x16": {16, 16}} {
		var b boxFlag
		if err := b.Set(in); err != nil || image.Point(b) != want {
			t.Errorf("boxFlag.Set(%q) = %v, %v; want %v", in, b, err, want)
		}
	}
	for _, in := range []string{"1920", "8x8", "1920x", "x1080", "5000x100", "axb"} {
		var b boxFlag
		if err := b.Set(in); err == nil {
			t.Errorf("boxFlag.Set(%q) accepted it", in)
		}
	}
}

// serve and bench define the pipeline flags once: both take them all.
func TestServeAndBenchSharePipelineFlags(t *testing.T) {
	args := []string{"--width", "640", "--quality", "70", "--background", "#102030", "--max-pixels", "20",
		"--max-file-size", "32MiB", "--workers", "3", "--decode-memory", "64MiB", "--recursive=false",
		"--fit", "640x360", "--fill", "blur", "--caption", "{name}", "--ffmpeg", "/opt/ffmpeg/bin/ffmpeg"}
	cfg, err := parseFlags(args, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := pipelineFlags{dir: "images", recursive: false, width: 640, quality: 70, background: colorFlag{16, 32, 48, 255},
		maxPixels: 20, maxFileSize: 32 << 20, workers: 3, decodeMemory: 64 << 20, fit: boxFlag{640, 360}, fill: "blur",
		ffmpeg: "/opt/ffmpeg/bin/ffmpeg"}
	want.caption, _ = encode.ParseCaption("{name}")
	if !reflect.DeepEqual(cfg.pipelineFlags, want) {
		t.Errorf("serve parsed %+v; want %+v", cfg.pipelineFlags, want)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--help"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"-width", "-quality", "-background", "-fit", "-max-pixels", "-max-file-size", "-workers", "-decode-memory", "-dir", "-recursive", "-fill", "-caption", "-ffmpeg", "-out"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("bench --help lacks %s", f)
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--quality", "0"}, io.Discard, &stderr); !errors.Is(err, errUsage) ||
		!strings.Contains(stderr.String(), "-quality 0: want 1 to 100") {
		t.Errorf("bench --quality 0 = %v, %q; want the serve mode's one-line reason", err, stderr.String())
	}
}

// Under a tall --fit, a wide ?width= is narrowed so that no frame is larger
// than maxFrameArea; the box's shape is kept.
func TestFrameAreaIsBounded(t *testing.T) {
	slide := source.Slide{Name: "a.jpg", Size: 1, ModTime: time.Unix(1, 0)}
	for _, tt := range []struct {
		fit   image.Point
		width int
	}{{image.Pt(16, 4096), 4096}, {image.Pt(1080, 1920), 4096}, {image.Pt(1920, 1080), 4096}, {image.Pt(16, 16), 4096}} {
		k := frameSpec{quality: 80, fit: tt.fit}.key(slide, tt.width)
		if area := int64(k.Width) * int64(k.Height); area > maxFrameArea || k.Width > tt.width {
			t.Errorf("--fit %v at width %d: frame %dx%d is %d pixels; want at most %d", tt.fit, tt.width, k.Width, k.Height, area, maxFrameArea)
		}
		if got, want := float64(k.Height)/float64(k.Width), float64(tt.fit.Y)/float64(tt.fit.X); got < want*0.98 || got > want*1.02 {
			t.Errorf("--fit %v: frame %dx%d lost the box's shape", tt.fit, k.Width, k.Height)
		}
	}
	if k := (frameSpec{fit: image.Pt(1920, 1080)}).key(slide, 1920); k.Width != 1920 || k.Height != 1080 {
		t.Errorf("--fit 1920x1080 at its own width: %dx%d; want it untouched", k.Width, k.Height)
	}
}

// Without --decode-memory the budget follows --workers; given, it is kept.
func TestDecodeMemoryDefaultFollowsWorkers(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int64
	}{
		{[]string{"--workers", "16"}, transcode.DefaultMemory(16, machineMemory())},
		{[]string{"--workers", "1"}, transcode.DefaultMemory(1, machineMemory())},
		{[]string{"--workers", "16", "--decode-memory", "100MiB"}, 100 << 20},
	} {
		cfg, err := parseFlags(c.args, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := int64(cfg.decodeMemory); got != c.want {
			t.Errorf("%v: --decode-memory %d MiB; want %d", c.args, got>>20, c.want>>20)
		}
	}
	if total := machineMemory(); runtime.GOOS == "linux" && total < 64<<20 {
		t.Errorf("machineMemory() = %d bytes; this machine has more", total)
	}
}
