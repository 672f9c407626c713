// Package decode turns untrusted image files into pixels.
//
// Every file is treated as hostile. Before a single large buffer is
// allocated, File checks, in this order, that the path names a regular file
// (a FIFO or device is never read), that it is no bigger than
// Limits.MaxFileSize, what format its first bytes say it is (the extension is
// ignored), and that the width and height in its header stay within
// Limits.MaxPixels. Only then is the format's own decoder called, and a panic
// inside it becomes an ordinary error.
//
// Supported inputs are JPEG (baseline and progressive, any subsampling,
// grayscale, CMYK and YCCK), PNG (every colour type and bit depth, interlaced
// or not), WebP (lossy, lossless, with alpha; animated files are refused) and
// the first frame of a GIF. The EXIF orientation of JPEG, PNG and WebP files
// is read and returned alongside the pixels, not applied: the caller can
// rotate after downscaling, which is far cheaper.
//
// Lossy WebP stores limited-range ("video") BT.601 YCbCr, while Go's
// image.YCbCr is defined as full-range JPEG YCbCr; decoding it naively
// washes every colour out (golang/go#40173). File returns such pixels as a
// *VideoYCbCr or *VideoNYCbCrA, whose At methods convert correctly.
package decode
