// Package urgent gives "this frame is wanted now" one name from the clock
// to the workers: the timeline marks the renders of the slide on screen,
// the next one and a crossfade under way (Mark), and the transcoder gives
// marked loads the next free worker before any other (Is).
package urgent

import "context"

type key struct{}

// Mark returns ctx marked as wanted now.
func Mark(ctx context.Context) context.Context { return context.WithValue(ctx, key{}, true) }

// Unmarked returns ctx with the mark taken off: work started for the
// timeline that is not wanted now (renders ahead at other widths).
func Unmarked(ctx context.Context) context.Context { return context.WithValue(ctx, key{}, false) }

// Is reports whether ctx is marked as wanted now.
func Is(ctx context.Context) bool { v, _ := ctx.Value(key{}).(bool); return v }
