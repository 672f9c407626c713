// Package heif reads the box structure of HEIF files (ISO/IEC 23008-12:
// HEIC and AVIF) from untrusted bytes: the brands, and what the meta box
// says of the primary picture (its codec, size, rotations, mirrors, crop,
// colour, alpha plane and Exif item), without decoding a pixel. Decoding
// is package decode's, which hands the picture to libheif or libavif.
package heif
