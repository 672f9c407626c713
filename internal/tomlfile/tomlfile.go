// Package tomlfile reads the configuration files people edit by hand
// (the devices file, the screens file): bounded before they are parsed,
// decoded strictly, and every mistake told by its line.
package tomlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Stamp tells one version of a file from the next: its size and
// modification time.
type Stamp struct {
	Size int64
	Mod  time.Time
}

// Read reads the regular file at path, refusing one over max bytes, and
// returns it with its stamp (set whenever the file could be looked at).
func Read(path string, max int64) ([]byte, Stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Stamp{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Stamp{}, err
	}
	st := Stamp{fi.Size(), fi.ModTime()}
	if !fi.Mode().IsRegular() {
		return nil, st, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, st, err
	}
	if int64(len(b)) > max {
		return nil, st, fmt.Errorf("%s: over %d bytes", path, max)
	}
	return b, st, nil
}

// Decode decodes b into v, refusing keys v has no field for. A syntax or
// type mistake is told with its line and column, unknown keys each with
// its line.
func Decode(b []byte, v any) error {
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var de *toml.DecodeError
	var strict *toml.StrictMissingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &strict):
		var keys []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
		}
		return fmt.Errorf("unknown keys: %s", strings.Join(keys, ", "))
	case errors.As(err, &de):
		row, col := de.Position()
		return fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
	}
	return err
}
