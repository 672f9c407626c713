// Package play is the slideshow's clock: it arranges the slides in play
// order and advances through them on one clock per channel, which every
// client of that channel shares.
//
// Data flows one way: a Lister (a source.Folder) gives the slides, a
// Timeline arranges them with its source.Order, prepares the next slide
// (and renders a few beyond it ahead) at the widths its clients watch,
// and publishes each change as a new State by closing a channel. Frames
// come from a Renderer, the one thing this package asks of the outside:
// "the JPEG bytes of this picture at this width"; caching and transcoding
// live behind it. One Failures memo, shared by every channel, remembers
// the files that cannot be shown. Channels starts a timeline per channel
// that clients ask for and stops it once they have gone.
//
// The package knows nothing of HTTP: package web reads what it publishes.
//
// Files: timeline.go (the Timeline and its State), player.go (its clock:
// Run, commands taking effect, sleep hours), prepare.go (choosing and
// rendering the next slides), slot.go (a slide's frames), fade.go
// (crossfades), control.go (commands), failures.go (the failure memo),
// channels.go, sleep.go.
package play
