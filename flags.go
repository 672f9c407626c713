package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"strings"
	"unicode"

	"slidestream/decode"
	"slidestream/encode"
	"slidestream/play"
	"slidestream/source"
	"slidestream/transcode"
	"slidestream/video"
)

// pipelineFlags are the flags that say how frames are made, defined once
// for serving and for the bench mode, which must transcode the same way.
type pipelineFlags struct {
	dir          string
	recursive    bool
	width        int
	quality      int
	background   colorFlag
	fit          boxFlag // zero when off
	maxPixels    float64 // megapixels
	maxFileSize  sizeFlag
	workers      int
	decodeMemory sizeFlag
	fill         string         // color or blur
	caption      encode.Caption // from --caption; off when empty
	ffmpeg       string         // --ffmpeg: the executable that decodes clips
	noClips      bool           // --motion off: clips are left out of the library
	// video decodes clips; nil without ffmpeg (transcoder sets it).
	video *video.FFmpeg
}

func (p *pipelineFlags) register(fs *flag.FlagSet) {
	p.background = colorFlag{0, 0, 0, 255}
	p.maxFileSize = decode.DefaultMaxFileSize
	p.decodeMemory = sizeFlag(transcode.DefaultMemory(runtime.NumCPU(), machineMemory()))
	fs.StringVar(&p.dir, "dir", "images", "folder of images (JPEG, PNG, WebP, GIF, HEIC, AVIF), subfolders included")
	fs.BoolVar(&p.recursive, "recursive", true, "include the images in subfolders of --dir (albums); false: the top folder only")
	fs.IntVar(&p.width, "width", 1280, "frame width in pixels, 16 to 4096; 0 keeps each image's own size")
	fs.IntVar(&p.quality, "quality", encode.DefaultQuality, "JPEG quality, 1-100")
	fs.Var(&p.background, "background", "colour behind transparent pixels and around fitted images, `#rrggbb` (default #000000)")
	fs.Var(&p.fit, "fit", "make every frame exactly `WxH` (e.g. 1920x1080), the image fitted inside on --background; sets the width")
	fs.Float64Var(&p.maxPixels, "max-pixels", decode.DefaultMaxPixels/1e6, "largest image accepted, in megapixels (checked before decoding)")
	fs.Var(&p.maxFileSize, "max-file-size", "largest file read, a `SIZE` such as 64MiB")
	fs.IntVar(&p.workers, "workers", runtime.NumCPU(), "images transcoded at once")
	fs.StringVar(&p.ffmpeg, "ffmpeg", "ffmpeg", "the ffmpeg `PATH` (looked up on the PATH) that decodes video clips, Live Photos' and Motion Photos' videos; without it they show as stills or not at all")
	fs.Var(&p.decodeMemory, "decode-memory", "memory for images being decoded and scaled at once, a `SIZE` (a larger image is decoded alone); by default 144MiB or 32MiB a worker, whichever is more, up to a quarter of the memory")
	fs.StringVar(&p.fill, "fill", "color", "with --fit, what fills the frame around a photo: color (--background), blur (the photo itself, blurred and darkened) or crop (the photo covers the frame, cropped where its content matters least; blur for a photo that would lose too much)")
	fs.Func("caption", "text drawn in each frame, a `TEMPLATE` with {name}, {album}, {taken:LAYOUT} (a Go time layout), {index} and {count}, e.g. \"{taken:2 January 2006} · {album}\"", func(v string) error {
		c, err := encode.ParseCaption(v)
		if err != nil {
			return err
		}
		p.caption = c
		return nil
	})
}

// check validates the values once parsed: a one-line reason, or nil.
func (p *pipelineFlags) check(fs *flag.FlagSet) error {
	switch {
	case p.width != 0 && (p.width < encode.MinWidth || p.width > encode.MaxWidth):
		return fmt.Errorf("-width %d: want 0 or %d to %d", p.width, encode.MinWidth, encode.MaxWidth)
	case p.quality < 1 || p.quality > 100:
		return fmt.Errorf("-quality %d: want 1 to 100", p.quality)
	case p.maxPixels <= 0:
		return fmt.Errorf("-max-pixels %v: want more than 0 megapixels", p.maxPixels)
	case p.workers < 1:
		return fmt.Errorf("-workers %d: want 1 or more", p.workers)
	case p.maxFileSize == 0:
		return errors.New("-max-file-size 0: want a size such as 64MiB")
	case p.decodeMemory == 0:
		return errors.New("-decode-memory 0: want a size such as 144MiB")
	case p.fill != "color" && p.fill != "blur" && p.fill != "crop":
		return fmt.Errorf("-fill %q: want color, blur or crop", p.fill)
	case p.fill != "color" && p.fit == (boxFlag{}):
		return fmt.Errorf("-fill %s: needs --fit, the frame to fill", p.fill)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["decode-memory"] {
		p.decodeMemory = sizeFlag(transcode.DefaultMemory(p.workers, machineMemory()))
	}
	if p.fit != (boxFlag{}) {
		if set["width"] && p.width != p.fit.X {
			return fmt.Errorf("-fit %s and -width %d: --fit sets the width; give one of them", p.fit.String(), p.width)
		}
		p.width = p.fit.X
	}
	return nil
}

// folder returns the listing of --dir these flags describe, not yet
// scanned, kept in the file remember ("" for nowhere).
func (p *pipelineFlags) folder(log *slog.Logger, remember string) *source.Folder {
	return source.NewFolder(p.dir, source.FolderOptions{Flat: !p.recursive, NoClips: p.noClips, Remember: remember, Log: log})
}

// limits are the bounds on what is read and decoded.
func (p *pipelineFlags) limits() decode.Limits {
	return decode.Limits{MaxFileSize: int64(p.maxFileSize), MaxPixels: int64(p.maxPixels * 1e6)}
}

// transcoder returns the transcoder these flags describe.
func (p *pipelineFlags) transcoder(observe func(transcode.Report)) *transcode.Transcoder {
	if v, err := video.Find(p.ffmpeg, p.limits().MaxPixels, p.workers); err == nil {
		p.video = v
	}
	return transcode.New(transcode.Options{
		Video:   p.video,
		Dir:     p.dir,
		Limits:  p.limits(),
		Workers: p.workers,
		Memory:  int64(p.decodeMemory),
		Caption: p.caption,
		// HEIC and AVIF decode in children, which main starts
		// (decode.ServeChild).
		Children: true,
		Observe:  observe,
	})
}

// frameSpec returns what every frame's key carries besides the file and
// the width.
func (p *pipelineFlags) frameSpec() frameSpec {
	return frameSpec{quality: p.quality, bg: color.RGBA(p.background), fit: image.Point(p.fit), blur: p.fill == "blur", crop: p.fill == "crop", caption: p.caption}
}

// frameSpec is the settings that shape every frame.
type frameSpec struct {
	quality int
	bg      color.RGBA
	fit     image.Point // the --fit box; zero when off
	blur    bool        // --fill blur
	crop    bool        // --fill crop
	caption encode.Caption
}

// maxFrameArea bounds a frame's pixels: 4096×4096, 64 MiB of RGBA. Without
// --fit a frame is never larger than its photo (--max-pixels bounds that);
// with a tall --fit box a wide ?width= could otherwise ask for hundreds of
// megapixels.
const maxFrameArea = encode.MaxWidth * encode.MaxWidth

// key names the frame of slide s at width, narrowed under --fit so that its
// area stays within maxFrameArea.
func (f frameSpec) key(s source.Slide, width int) transcode.Key {
	if f.fit.X > 0 && width > 0 && int64(width)*int64(f.height(width)) > maxFrameArea {
		width = max(1, int(math.Sqrt(float64(maxFrameArea)*float64(f.fit.X)/float64(f.fit.Y))))
		for int64(width)*int64(f.height(width)) > maxFrameArea {
			width--
		}
	}
	return transcode.Key{Name: s.Name, Size: s.Size, ModTime: s.ModTime.UnixNano(), Width: width,
		Height: f.height(width), Quality: f.quality, Background: f.bg, Blur: f.blur, Crop: f.crop}
}

// captionKey is the caption part of the key of the frame of p: none outside
// play order (thumbnails), and the place in play order only when the
// caption shows it, so that other captions make one frame per photo.
func (f frameSpec) captionKey(p play.Picture) transcode.CaptionKey {
	if !f.caption.On() || p.Count == 0 {
		return transcode.CaptionKey{}
	}
	c := transcode.CaptionKey{Template: f.caption.Hash()}
	if f.caption.Counts() {
		c.Index, c.Count = p.Index, min(p.Count, transcode.MaxCount)
		c.Index = min(c.Index, c.Count-1)
	}
	return c
}

// height is the frame height at width under --fit, or 0 without it.
func (f frameSpec) height(width int) int {
	if f.fit.X <= 0 || width <= 0 {
		return 0
	}
	return max(1, (width*f.fit.Y+f.fit.X/2)/f.fit.X)
}

// sizeFlag is a byte count written the way people write it: "256MiB",
// "1.5 GB", "512k", "1048576". K, M, G and T are powers of 1024 whether or
// not an "i" follows ("MB" is read as MiB, which is what people mean when
// sizing memory).
type sizeFlag int64

func (s *sizeFlag) String() string { return formatSize(int64(*s)) }

func (s *sizeFlag) Set(v string) error {
	t := strings.TrimSpace(v)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	n, err := strconv.ParseFloat(num, 64)
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
	}[strings.ToLower(unit)]
	if err != nil || n < 0 || mult == 0 || n*mult >= 1<<62 {
		return errors.New("want a size such as 256MiB")
	}
	*s = sizeFlag(n * mult)
	return nil
}

// formatSize writes a byte count in the largest binary unit that keeps it
// at least 1: "256MiB", "1.5GiB", "512B". sizeFlag reads it back.
func formatSize(n int64) string {
	v, u := float64(n), 0
	for v >= 1024 && u < 4 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + [...]string{"B", "KiB", "MiB", "GiB", "TiB"}[u]
}

// colorFlag is a colour written as #rrggbb, #rgb, or one of the names
// black, white and gray.
type colorFlag color.RGBA

func (c *colorFlag) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func (c *colorFlag) Set(s string) error {
	switch strings.ToLower(s) {
	case "black":
		*c = colorFlag{0, 0, 0, 255}
		return nil
	case "white":
		*c = colorFlag{255, 255, 255, 255}
		return nil
	case "gray", "grey":
		*c = colorFlag{128, 128, 128, 255}
		return nil
	}
	h, ok := strings.CutPrefix(s, "#")
	if ok && len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if !ok || len(h) != 6 || err != nil {
		return errors.New("want #rrggbb")
	}
	*c = colorFlag{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
	return nil
}

// boxFlag is a frame size written WIDTHxHEIGHT, each within what a client
// may ask for.
type boxFlag image.Point

func (b *boxFlag) String() string {
	if *b == (boxFlag{}) {
		return ""
	}
	return fmt.Sprintf("%dx%d", b.X, b.Y)
}

func (b *boxFlag) Set(s string) error {
	a, c, found := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(c)
	if !found || err1 != nil || err2 != nil || w < encode.MinWidth || w > encode.MaxWidth || h < encode.MinWidth || h > encode.MaxWidth {
		return fmt.Errorf("want WIDTHxHEIGHT, each %d to %d, such as 1920x1080", encode.MinWidth, encode.MaxWidth)
	}
	*b = boxFlag{w, h}
	return nil
}
