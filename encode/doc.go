// Package encode turns decoded pictures into the JPEG frames that are
// streamed: flattened onto a background, downscaled to the asked width with
// a Lanczos filter, turned upright, and written as baseline JPEG with no
// metadata at all (an embedded EXIF thumbnail has its own end-of-image
// marker, and MJPEG clients cut frames at the first one they see).
package encode
