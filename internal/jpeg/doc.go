// Package jpeg is slidestream's JPEG codec (ITU T.81), both halves sharing
// one set of tables (the zigzag order, the scaled-DCT weights).
//
// DecodeScaled decodes baseline and progressive Huffman-coded frames at
// 1/1, 1/2, 1/4 or 1/8 of their size in the DCT domain; anything else is
// ErrNotScaled, for image/jpeg to decode. Encode writes a baseline 4:2:0
// JPEG from RGBA, with libjpeg's tables at a quality.
package jpeg
