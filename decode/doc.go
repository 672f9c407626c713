// Package decode turns untrusted image files into pixels.
//
// A file is read once. Open checks it and reads its header: that it is a
// regular file (a FIFO or device is never read) no bigger than
// Limits.MaxFileSize, what format its first bytes say it is (the name is
// ignored), that the header is sound, and that the width and height stay
// within Limits.MaxPixels, all before a single large buffer is allocated.
// The header and File.Memory tell a caller what decoding will cost, so it
// can wait for memory first; File.Decode then reads the rest of the same
// handle and calls the format's own decoder, where a panic becomes an
// ordinary error.
//
// Formats are rows of one table, one small file each (jpeg.go, png.go,
// webp.go, gif.go, heic.go): JPEG (baseline and progressive, any
// subsampling, grayscale, CMYK and YCCK; decoded at 1/2, 1/4 or 1/8 in
// the DCT domain when the caller shrinks), PNG (every colour type and bit
// depth, interlaced or not; rows inflated as they are read), WebP (lossy,
// lossless, with alpha), the first frame of a GIF, and HEIC and AVIF
// (decoded in child processes of a Children pool; see ServeChild). The
// codecs themselves live in internal packages: internal/jpeg,
// internal/zlib, internal/heif (the HEIF boxes) and internal/icc (colour
// profiles). IsImageName asks the table which file names to try. The
// EXIF orientation, the date taken and the colour profile are read and
// returned alongside the pixels, not applied: the caller can rotate and
// convert after downscaling, which is far cheaper.
//
// Lossy WebP stores limited-range ("video") BT.601 YCbCr, while Go's
// image.YCbCr is defined as full-range JPEG YCbCr; decoding it naively
// washes every colour out (golang/go#40173). Decode returns such pixels as
// a *VideoYCbCr or *VideoNYCbCrA, whose At methods convert correctly.
package decode
