//go:build !linux

package source

import (
	"os"
	"path/filepath"
	"time"
)

// statter stats the files of one folder (by their whole paths here).
type statter struct{}

func newStatter(*os.File) *statter { return &statter{} }

func (s *statter) stat(dir, name string) (int64, time.Time, bool, error) {
	return statPath(filepath.Join(dir, name))
}
