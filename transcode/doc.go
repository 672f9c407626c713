// Package transcode is the middle of the pipeline: it turns a Key (a file
// at one version, and the frame wanted from it) into a JPEG frame, through
// decode and encode.
//
// A Transcoder holds what bounds that work for the whole process: how many
// transcodes run at once, the memory their decodes may hold together, and
// the memory of files that cannot be shown. It caches no frames: the
// caller keeps them (the cache package, or groupcache in fleet mode) and
// calls Load on a miss. Keys travel between instances as text, so ParseKey
// reads them as untrusted input.
package transcode
