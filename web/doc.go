// Package web serves the slideshow over HTTP: the full-window page, the
// MJPEG stream (multipart/x-mixed-replace), snapshots, the health check,
// the remote control (its API and /control), the image status pages with
// their thumbnails, and the list of albums.
//
// It only reads and commands what package play exports: a Timeline's
// published State, its Slots' frames and its Fades, the shared Failures,
// the Channels. Each client is served in its own goroutine straight from
// the published State; no client has a queue, so a slow one only ever
// skips slides and never holds anyone else up.
package web
