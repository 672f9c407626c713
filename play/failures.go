package play

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"slidestream/source"
)

// Failures remembers which version of which file cannot be shown, and why.
// One memo serves every channel and every page: a file that an album's
// channel could not render is skipped by the default channel too, and the
// status page and the metrics report it at once. It is fed where renders
// return (Record wraps a Renderer), so a thumbnail or a snapshot that finds
// a bad file tells the slideshow as well. It is safe for concurrent use.
type Failures struct {
	lasting func(error) bool
	retry   time.Duration
	listing Lister // every file; failures of the others are forgotten
	log     *slog.Logger

	mu     sync.Mutex
	failed map[string]Failure // by file name
	listed <-chan struct{}    // the listing's change channel when last pruned
}

// Failure is why a version of a file could not be shown. A lasting one
// stands until the file changes; one that belongs to the moment stands
// until RetryAt, and the file is tried again then.
type Failure struct {
	Slide   source.Slide
	Err     error
	Lasting bool
	Tries   int // transient failures in a row, from 0
	RetryAt time.Time
}

// Stands reports whether the failure still keeps this version of s off
// screen.
func (f Failure) Stands(s source.Slide) bool {
	return f.Slide.Same(s) && (f.Lasting || time.Now().Before(f.RetryAt))
}

// maxRetry is the longest wait before a failure that passes is tried again.
const maxRetry = 5 * time.Minute

// FailuresOptions configures Failures.
type FailuresOptions struct {
	// Lasting reports whether a render's failure belongs to the file's bytes
	// and stands until the file changes. Other failures (a file that cannot
	// be read now, a peer that could not answer) are tried again after
	// Retry, doubling each time up to five minutes. Without it every
	// failure lasts.
	Lasting func(error) bool
	// Retry is the first wait before a failure that passes is tried again
	// (default 5s).
	Retry time.Duration
	// Listing lists every file (the whole folder, not an album): the
	// failures of files it no longer lists are forgotten.
	Listing Lister
	Log     *slog.Logger
}

// NewFailures returns an empty memo.
func NewFailures(o FailuresOptions) *Failures {
	if o.Lasting == nil {
		o.Lasting = func(error) bool { return true }
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Failures{lasting: o.Lasting, retry: o.Retry, listing: o.Listing, log: o.Log, failed: make(map[string]Failure)}
}

// Record notes that s could not be shown because of err. A failure given
// again while the same one stands is the same attempt (several widths of
// one slide fail together) and is neither counted nor logged twice.
func (fs *Failures) Record(s source.Slide, err error) {
	f := Failure{Slide: s, Err: err, Lasting: fs.lasting(err)}
	fs.mu.Lock()
	fs.prune()
	old, had := fs.failed[s.Name]
	if had && old.Stands(s) && old.Lasting == f.Lasting {
		fs.mu.Unlock()
		return
	}
	if had && old.Slide.Same(s) && !f.Lasting {
		f.Tries = old.Tries + 1
	}
	if !f.Lasting {
		f.RetryAt = time.Now().Add(min(fs.retry<<min(f.Tries, 16), maxRetry))
	}
	fs.failed[s.Name] = f
	fs.mu.Unlock()
	if f.Lasting {
		fs.log.Warn("skipping image", "file", s.Name, "reason", err.Error())
	} else {
		fs.log.Warn("skipping image for now", "file", s.Name, "reason", err.Error(), "retry in", time.Until(f.RetryAt).Round(time.Second).String())
	}
}

// Clear forgets a failure of s: it was shown after all.
func (fs *Failures) Clear(s source.Slide) {
	fs.mu.Lock()
	_, had := fs.failed[s.Name]
	delete(fs.failed, s.Name)
	fs.mu.Unlock()
	if had {
		fs.log.Info("image can be shown again", "file", s.Name)
	}
}

// Stands reports whether a failure keeps this version of s off screen now.
func (fs *Failures) Stands(s source.Slide) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.failed[s.Name]
	return ok && f.Stands(s)
}

// All returns a copy of the failures, by file name.
func (fs *Failures) All() map[string]Failure {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.prune()
	return maps.Clone(fs.failed)
}

// prune forgets the failures of files the listing no longer has, or has
// in another version, once per change of the listing. fs.mu must be held.
func (fs *Failures) prune() {
	if fs.listing == nil || len(fs.failed) == 0 {
		return
	}
	all, changed := fs.listing.Slides()
	if changed == fs.listed {
		return
	}
	fs.listed = changed
	for name, f := range fs.failed {
		i, ok := slices.BinarySearchFunc(all, name, func(s source.Slide, name string) int { return source.ComparePaths(s.Name, name) })
		if !ok || !all[i].Same(f.Slide) {
			delete(fs.failed, name)
		}
	}
}

// Watch returns r with every outcome recorded here: a failure of a lone
// slide is recorded (a pair's cannot be laid at either portrait's door:
// each is then tried alone), a success clears what was recorded. Renders
// that end because their caller left record nothing.
func (fs *Failures) Watch(r Renderer) Renderer { return watched{r, fs} }

type watched struct {
	Renderer
	fs *Failures
}

func (w watched) Render(ctx context.Context, p Picture, width int) ([]byte, error) {
	b, err := w.Renderer.Render(ctx, p, width)
	switch {
	case err == nil:
		w.fs.Clear(p.Slide)
		if p.Pair.Name != "" {
			w.fs.Clear(p.Pair)
		}
	case ctx.Err() == nil && !errors.Is(err, context.Canceled) && p.Pair.Name == "":
		w.fs.Record(p.Slide, err)
	}
	return b, err
}
