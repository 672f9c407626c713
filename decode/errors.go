package decode

import (
	"errors"
	"fmt"
)

// Sentinel errors name the kind of a rejection; every error returned by File
// and Bytes is an *Error that wraps one of them, so errors.Is works.
var (
	ErrNotRegular    = errors.New("decode: not a regular file")
	ErrFileTooLarge  = errors.New("decode: file too large")
	ErrTooManyPixels = errors.New("decode: too many pixels")
	ErrUnknownFormat = errors.New("decode: unknown format")
	ErrAnimated      = errors.New("decode: animated image")
	ErrUnsupported   = errors.New("decode: unsupported kind of image")
	ErrCorrupt       = errors.New("decode: corrupt image")
	ErrUnreadable    = errors.New("decode: cannot read file")
	// ErrKilled: the process decoding the file (HEIC and AVIF are decoded
	// in child processes) was killed, as the kernel does when memory runs
	// out. It belongs to the moment, not to the file, until it happens
	// again to the same version.
	ErrKilled = errors.New("decode: decoder process killed")
)

// Error explains why one file cannot be shown, in words a user can act on:
// "bomb.png: 100000x100000 is 10000 megapixels, over --max-pixels 50".
type Error struct {
	File   string // the name the caller passed
	Reason string // a sentence without the file name
	Err    error  // one of the sentinels above
}

func (e *Error) Error() string { return e.File + ": " + e.Reason }

// Unwrap returns the sentinel, so errors.Is(err, ErrTooManyPixels) works.
func (e *Error) Unwrap() error { return e.Err }

// Kind returns a short, stable word for the kind of rejection, suitable as a
// metrics label: "not-regular", "too-large", "too-many-pixels",
// "unknown-format", "animated", "unsupported", "corrupt", "unreadable", "killed" or
// "other".
func Kind(err error) string {
	switch {
	case errors.Is(err, ErrNotRegular):
		return "not-regular"
	case errors.Is(err, ErrFileTooLarge):
		return "too-large"
	case errors.Is(err, ErrTooManyPixels):
		return "too-many-pixels"
	case errors.Is(err, ErrUnknownFormat):
		return "unknown-format"
	case errors.Is(err, ErrAnimated):
		return "animated"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	case errors.Is(err, ErrUnreadable):
		return "unreadable"
	case errors.Is(err, ErrKilled):
		return "killed"
	}
	return "other"
}

func reject(name string, kind error, format string, args ...any) *Error {
	return &Error{File: name, Reason: fmt.Sprintf(format, args...), Err: kind}
}
