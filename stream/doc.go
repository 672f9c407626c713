// Package stream plays a list of slides as one endless MJPEG stream
// (multipart/x-mixed-replace) that every client shares.
//
// Data flows one way: a Lister (a source.Folder) gives the slides, a
// Timeline arranges them with its source.Order and advances through them on
// one server clock, preparing the next slide ahead, and the Handler writes
// the current slide to each client in its own goroutine. The Timeline
// publishes each change by closing a channel; no client has a queue, so a
// slow client only ever skips slides and never holds anyone else up.
//
// Frames come from a Renderer, the one thing this package asks of the
// outside: "the JPEG bytes of this slide at this width". Caching and
// transcoding live behind it.
package stream
