package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"
	"strings"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"

	"slidestream/internal/heif"
	"slidestream/internal/icc"
)

// HEIC and AVIF pictures are decoded by libheif (with libde265) and
// libavif (with libaom) compiled to WebAssembly and run by wazero, pure
// Go: github.com/gen2brain/heic and github.com/gen2brain/avif. Each
// compiles its module once per process, on first use, and runs each
// decode in an instance of its own, whose memory is dropped with the
// picture. Everything before the decode (format, size, limits, colour,
// orientation, EXIF) is read here from the boxes, so a file is refused
// before the decoder is started.
//
// The two libraries differ in what they do: libheif applies the
// picture's crop, rotation and mirroring and returns the YCbCr planes as
// coded; libavif converts to RGB by the file's own matrix and range but
// leaves crop, rotation and mirroring to the caller. The pixels this
// package returns are turned accordingly: HEIC comes upright, AVIF with
// an Orientation, applied once the picture is small.

var (
	heicFormat = heifFormat(HEIC, "HEIC", ".heic", ".heif", ".hif")
	avifFormat = heifFormat(AVIF, "AVIF", ".avif")
)

// heifFormat is the row of HEIC or AVIF: the same container, told apart
// by its brands.
func heifFormat(id Format, name string, exts ...string) *format {
	return &format{
		id:     id,
		name:   name,
		exts:   exts,
		magic:  func(b []byte) bool { return heifBrand(b) == id },
		header: heifHeader,
		decode: decodeHEIF,
		exif:   heifExif,
		exifAt: heifExifAt,
		colour: heifProfile,
		orient: heifOrientation,
	}
}

// Bytes per pixel a decode holds at its peak: the child process's
// resident memory (the WebAssembly instance's memory, which holds the
// file, the decoder's frames and its output, grown by copying) plus the
// picture as this process receives it. Measured with slidestream bench on
// 12.5 and 48.8 megapixel files, the child's peak resident set was 24.6
// and 18.4 bytes a pixel for HEIC, 64 for 8-bit AVIF.
const (
	heicBytesPerPixel   = 26
	heicAlphaPerPixel   = 8 // a second decode, for the alpha plane
	avifBytesPerPixel   = 68
	avif16BytesPerPixel = 110 // not measured: 8-bit's, with 16-bit samples
)

// heicMinWidth is the narrowest HEIC picture decoded. libheif pads every
// plane narrower than 64 bytes to 64, which the glue of
// github.com/gen2brain/heic v0.4.5 does not know: it would misplace the
// colour planes of a picture under 128 pixels wide (64 for the chroma of
// 4:2:0). Photos are far wider; icons and thumbnails are refused with
// that reason.
const heicMinWidth = 128

func heifHeader(name string, b []byte) (layout, error) {
	m, err := heif.Parse(b, true)
	if err != nil {
		return layout{}, err
	}
	w, h := m.Cropped()
	if m.Codec == "hvc1" {
		// libheif turns the picture itself.
		if Orientation(m.Orientation()).SwapsAxes() {
			w, h = h, w
		}
		if w < heicMinWidth {
			return layout{}, reject(name, ErrUnsupported, "HEIC pictures narrower than %d pixels are not decoded (this one is %d)", heicMinWidth, w)
		}
		per := int64(heicBytesPerPixel)
		if m.Alpha != 0 {
			per += heicAlphaPerPixel
		}
		return layout{width: w, height: h, whole: per * int64(m.Width) * int64(m.Height)}, nil
	}
	per := int64(avifBytesPerPixel)
	if m.Depth > 8 {
		per = avif16BytesPerPixel
	}
	return layout{width: w, height: h, whole: per * int64(m.Width) * int64(m.Height)}, nil
}

// decodeHEIF decodes in a child process of o.Children (heifchild.go), or
// here without a pool.
func decodeHEIF(_ string, data []byte, l layout, o Options) (image.Image, error) {
	return o.Children.decode(data, l.width, l.height)
}

// decodeHEIFPixels decodes a HEIC or AVIF file's primary picture, with
// its alpha, cropped (AVIF; libheif crops HEIC), of the size heifHeader
// said.
func decodeHEIFPixels(data []byte) (image.Image, error) {
	m, err := heif.Parse(data, false)
	if err != nil {
		return nil, err
	}
	sizeErr := func(b image.Rectangle, w, h int) error {
		return fmt.Errorf("the boxes say %dx%d but the decoder made %dx%d", w, h, b.Dx(), b.Dy())
	}
	if m.Codec == "hvc1" {
		img, err := heic.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		w, h := m.Cropped()
		if Orientation(m.Orientation()).SwapsAxes() {
			w, h = h, w
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			return nil, sizeErr(b, w, h)
		}
		mendFreed(img)
		img = heicColours(img, m.NCLX)
		if m.Alpha != 0 {
			img = withAlpha(img, heicAlpha(m, data))
		}
		return img, nil
	}
	if !slices.Contains(heif.Brands(data), "avif") {
		// libavif wants the avif brand; a file with only the generic
		// ones gets it, in a copy.
		data = bytes.Clone(data)
		copy(data[8:12], "avif")
	}
	img, err := avif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != m.Width || b.Dy() != m.Height {
		return nil, sizeErr(b, m.Width, m.Height)
	}
	mendFreed(img)
	x0, y0, w, h := m.CropRect()
	if w == m.Width && h == m.Height {
		return img, nil
	}
	crop := image.Rect(x0, y0, x0+w, y0+h)
	switch img := img.(type) {
	case *image.RGBA:
		return rebase(img.SubImage(crop)), nil
	case *image.RGBA64:
		return rebase(img.SubImage(crop)), nil
	}
	return nil, errors.New("the AV1 decoder returned an unexpected picture")
}

// freedBytes is how much of the start of a freed block the WebAssembly
// modules' allocator (dlmalloc, 32-bit) may overwrite with its own
// bookkeeping: six words, in a block it files in a size tree.
const freedBytes = 24

// mendFreed repairs what the decoder glue lets the allocator overwrite.
// Both modules hand back a picture that is a view of the instance's memory
// and only then free that block: the allocator writes its bookkeeping into
// the block's first 24 bytes (seen: the first 24 luma samples of a HEIC
// turn into pointers) and, when the block's size leaves no slack, its
// size into the last 4. Those bytes are lost; they are made again from
// their neighbours: the start of the first row from the start of the
// second, and a last RGBA pixel from the one before it. At most 24 pixels
// in a corner of a photo are replaced by the ones next to them, which no
// frame shows.
func mendFreed(img image.Image) {
	var pix []byte
	var stride int
	switch m := img.(type) {
	case *image.YCbCr:
		pix, stride = m.Y, m.YStride
	case *image.Gray:
		pix, stride = m.Pix, m.Stride
	case *image.RGBA:
		pix, stride = m.Pix, m.Stride
		if n := len(pix); n%8 == 4 && n >= 8 {
			copy(pix[n-4:], pix[n-8:n-4])
		}
	case *image.NRGBA:
		pix, stride = m.Pix, m.Stride
	case *image.RGBA64:
		pix, stride = m.Pix, m.Stride
	}
	if img.Bounds().Dy() >= 2 && stride >= freedBytes && len(pix) >= stride+freedBytes {
		copy(pix[:freedBytes], pix[stride:stride+freedBytes])
	}
}

// rebase moves a cropped picture's bounds to start at (0, 0), as every
// decoder's pictures do, without copying its pixels.
func rebase(m image.Image) image.Image {
	switch m := m.(type) {
	case *image.RGBA:
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy())}
	case *image.RGBA64:
		return &image.RGBA64{Pix: m.Pix, Stride: m.Stride, Rect: image.Rect(0, 0, m.Rect.Dx(), m.Rect.Dy())}
	}
	return m
}

// heicAlpha decodes the alpha plane of a HEIC as a picture of its own;
// nil when it cannot be had, and the picture is shown opaque.
func heicAlpha(m *heif.Meta, data []byte) *image.Gray {
	f := m.AlphaFile(data)
	if f == nil {
		return nil
	}
	a, err := heic.Decode(bytes.NewReader(f))
	if err != nil {
		return nil
	}
	mendFreed(a)
	switch a := a.(type) {
	case *image.Gray:
		return a
	case *image.YCbCr: // coded as colour: the luma is the alpha
		return &image.Gray{Pix: a.Y, Stride: a.YStride, Rect: a.Rect}
	}
	return nil
}

// withAlpha joins colour planes and an alpha plane of the same size, not
// premultiplied, as HEIF stores them.
func withAlpha(img image.Image, a *image.Gray) image.Image {
	if a == nil || a.Rect.Size() != img.Bounds().Size() {
		return img
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return &image.NYCbCrA{YCbCr: *m, A: a.Pix, AStride: a.Stride}
	case *VideoYCbCr:
		return &VideoNYCbCrA{&image.NYCbCrA{YCbCr: *m.YCbCr, A: a.Pix, AStride: a.Stride}}
	case *image.RGBA: // opaque, converted from another matrix
		out := &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		for y := range m.Rect.Dy() {
			for x := range m.Rect.Dx() {
				out.Pix[y*out.Stride+4*x+3] = a.Pix[y*a.Stride+x]
			}
		}
		return out
	}
	return img
}

// heifOrientation is how the decoded picture must be turned: not at all
// for HEIC, which libheif turns; for AVIF, the rotations and mirrors of
// its boxes. A file's EXIF orientation is never applied on top: HEIF
// says the boxes are what counts.
func heifOrientation(b []byte) Orientation {
	m, err := heif.Parse(b, true)
	if err != nil || m.Codec == "hvc1" {
		return Upright
	}
	return Orientation(m.Orientation())
}

// heifProfile is the picture's colour: its ICC profile, or else its nclx
// colour description.
func heifProfile(b []byte) (*Profile, error) {
	m, err := heif.Parse(b, true)
	switch {
	case err != nil:
		return nil, nil
	case m.ICC != nil:
		return icc.Parse(m.ICC)
	case m.NCLX != nil:
		return icc.FromCICP(m.NCLX.Primaries, m.NCLX.Transfer)
	}
	return nil, nil
}

// heifExif returns the TIFF structure of the picture's Exif item when it
// lies within b.
func heifExif(b []byte) []byte {
	m, err := heif.Parse(b, true)
	if err != nil || m.Exif == nil {
		return nil
	}
	return heif.ExifTIFF(m.ItemBytes(b, m.Exif, maxExif))
}

// heifExifAt finds the Exif item anywhere in the file, reading the box
// headers, the meta box and the item only.
func heifExifAt(r io.ReaderAt, size int64) []byte {
	const maxMeta = 16 << 20
	var h [16]byte
	for off, n := int64(0), 0; off+8 <= size && n < 1<<10; n++ {
		if _, err := r.ReadAt(h[:8], off); err != nil {
			return nil
		}
		bsize, head := int64(binary.BigEndian.Uint32(h[:])), int64(8)
		switch bsize {
		case 0:
			bsize = size - off
		case 1:
			if _, err := r.ReadAt(h[:16], off); err != nil {
				return nil
			}
			v := binary.BigEndian.Uint64(h[8:])
			if v > uint64(size) {
				return nil
			}
			bsize, head = int64(v), 16
		}
		if bsize < head || off+bsize > size {
			return nil
		}
		if string(h[4:8]) != "meta" {
			off += bsize
			continue
		}
		if bsize > maxMeta {
			return nil
		}
		meta := make([]byte, bsize)
		if _, err := r.ReadAt(meta, off); err != nil {
			return nil
		}
		if head == 16 { // parseHEIF wants a plain header
			meta = meta[8:]
			binary.BigEndian.PutUint32(meta, uint32(bsize-8))
			copy(meta[4:8], "meta")
		}
		m, err := heif.Parse(meta, false)
		if err != nil || m.Exif == nil {
			return nil
		}
		var item []byte
		for _, e := range m.Exif {
			if e.N > maxExif || uint64(len(item))+e.N > maxExif {
				return nil
			}
			part := make([]byte, e.N)
			if e.InIdat {
				if e.Off > uint64(len(m.Idat)) || e.N > uint64(len(m.Idat))-e.Off {
					return nil
				}
				copy(part, m.Idat[e.Off:])
			} else if _, err := r.ReadAt(part, int64(e.Off)); err != nil {
				return nil
			}
			item = append(item, part...)
		}
		return heif.ExifTIFF(item)
	}
	return nil
}

// heicColours makes the YCbCr planes libheif returns mean what the file
// says: image.YCbCr is full-range BT.601, what phones write and what a
// file without a colour description is taken to be; limited range is
// VideoYCbCr; other matrices are converted to RGB here.
func heicColours(img image.Image, c *heif.NCLX) image.Image {
	y, ok := img.(*image.YCbCr)
	if !ok || c == nil {
		return img
	}
	var kr, kb float64
	switch c.Matrix {
	case 2, 5, 6: // unspecified, BT.601
		if c.Full {
			return y
		}
		return &VideoYCbCr{y}
	case 1:
		kr, kb = 0.2126, 0.0722
	case 4:
		kr, kb = 0.30, 0.11
	case 7:
		kr, kb = 0.212, 0.087
	case 9, 10:
		kr, kb = 0.2627, 0.0593
	case 0: // identity: G, B and R coded as Y, Cb and Cr
	default:
		return y // an unknown matrix: BT.601 is the nearest guess
	}
	return ycbcrToRGBA(y, c.Matrix == 0, kr, kb, c.Full)
}

// ycbcrToRGBA converts YCbCr with the luma weights kr and kb (or, with
// gbr, G, B and R stored in place of Y, Cb and Cr) to opaque RGBA.
func ycbcrToRGBA(m *image.YCbCr, gbr bool, kr, kb float64, full bool) *image.RGBA {
	// Fixed point, 16 fractional bits: R = Y' + rv*Cr', and so on, with
	// Y' and the centred chroma scaled from the coded range to 0..255.
	const one = 1 << 16
	ys, yo, cs := float64(one), 0, float64(one)
	if !full {
		ys, yo, cs = 255.0/219*one, 16, 255.0/224*one
	}
	kg := 1 - kr - kb
	rv := int64(2 * (1 - kr) * cs)
	bu := int64(2 * (1 - kb) * cs)
	gu := int64(2 * (1 - kb) * kb / kg * cs)
	gv := int64(2 * (1 - kr) * kr / kg * cs)
	clamp := func(v int64) uint8 { return uint8(min(max((v+one/2)>>16, 0), 255)) }
	b := m.Rect
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		d := out.Pix[(y-b.Min.Y)*out.Stride:]
		for x := b.Min.X; x < b.Max.X; x++ {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			Y, Cb, Cr := int64(m.Y[yi]), int64(m.Cb[ci]), int64(m.Cr[ci])
			p := d[4*(x-b.Min.X):]
			if gbr {
				if !full {
					Y, Cb, Cr = (Y-16)*255/219, (Cb-16)*255/219, (Cr-16)*255/219
				}
				p[0], p[1], p[2] = clamp(Cr<<16), clamp(Y<<16), clamp(Cb<<16)
			} else {
				l := (Y - int64(yo)) * int64(ys)
				u, v := Cb-128, Cr-128
				p[0] = clamp(l + rv*v)
				p[1] = clamp(l - gu*u - gv*v)
				p[2] = clamp(l + bu*u)
			}
			p[3] = 255
		}
	}
	return out
}

// SystemLibraries names the system libraries that decode HEIC and AVIF
// instead of the built-in WebAssembly, or "" when none do. The decoder
// modules load libheif.so and libavif.so when a dynamically linked
// executable finds them (a static build never does).
func SystemLibraries() string {
	var libs []string
	if heic.Dynamic() == nil {
		libs = append(libs, "libheif")
	}
	if avif.Dynamic() == nil {
		libs = append(libs, "libavif")
	}
	return strings.Join(libs, " and ")
}

// heifBrands are the ftyp brands that mean a HEIF still picture (or a
// sequence whose first picture is shown), by the codec they imply.
var heifBrands = map[string]Format{
	"heic": HEIC, "heix": HEIC, "heim": HEIC, "heis": HEIC, "hevc": HEIC, "hevx": HEIC,
	"avif": AVIF, "avis": AVIF,
	"mif1": "", "msf1": "", "miaf": "", // generic: the codec is the item's
}

// heifBrand reads the ftyp box at the start of b and says which of HEIC
// and AVIF its brands name, or "" for a file that is not HEIF. A file
// whose brands are only the generic ones is what its primary item is;
// the item type decides how it is decoded in any case.
func heifBrand(b []byte) Format {
	brands := heif.Brands(b)
	found, generic := Format(""), false
	for _, br := range brands {
		f, ok := heifBrands[br]
		switch {
		case !ok:
		case f == AVIF:
			return AVIF
		case f == HEIC:
			found = HEIC
		default:
			generic = true
		}
	}
	if found == "" && generic {
		// The brands do not say: the primary item's type does, when the
		// meta box is within b (it usually follows ftyp).
		if m, err := heif.Parse(b, true); err == nil && m.Codec == "av01" {
			return AVIF
		}
		return HEIC
	}
	return found
}
