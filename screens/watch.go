package screens

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"slidestream/internal/tomlfile"
)

// Read reads the file at path, bounded before it is parsed.
func Read(path string) ([]byte, error) {
	b, _, err := tomlfile.Read(path, MaxFileSize)
	return b, err
}

// settle is how long the file must be quiet before it is read again: an
// editor saving writes it in several steps.
const settle = 150 * time.Millisecond

// Watch calls load with the file's bytes each time the file at path
// changes, until ctx ends; loaded is what the caller read last, so that a
// change made before the watch began is not missed. It watches the
// file's folder, so that a file replaced by rename (as editors save) is
// seen too. An error of load, or of reading, is logged: the caller keeps
// what it had.
func Watch(ctx context.Context, path string, loaded []byte, load func([]byte) error, log *slog.Logger) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	dir, base := filepath.Dir(path), filepath.Base(path)
	if err := w.Add(dir); err != nil {
		return err
	}
	var timer <-chan time.Time
	if b, err := Read(path); err != nil || !bytes.Equal(b, loaded) {
		timer = time.After(settle)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) == base && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				timer = time.After(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("watching the screens file", "err", err)
		case <-timer:
			timer = nil
			b, err := Read(path)
			if err == nil {
				err = load(b)
			}
			if err != nil {
				log.Error("cannot read the screens file; keeping the last good one", "file", path, "err", err)
				continue
			}
			log.Info("screens file read again", "file", path)
		}
	}
}
