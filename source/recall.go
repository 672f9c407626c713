package source

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A Folder given a file to remember its listing in (FolderOptions.Remember)
// writes the listing there whenever it changes, and at the next start
// shows it at once while the folder is read again: a hundred thousand
// photos take a quarter of a second to list on a local disk and far longer
// on a network share, and a slideshow need not wait for that to show its
// first photo. The file is a hint like the index's: it may be stale,
// damaged or not ours. It is read within bounds, every name in it must be
// one a scan could have listed, and each of its folders must still be a
// folder (not a link) on disk; a listed file that is gone since is one the
// decoder cannot open, and the scan that follows corrects the listing.
//
// The file holds listingHeader, the number of slides (uvarint), then each
// slide in listing order: how many bytes its name shares with the name
// before (uvarint), the rest of the name (uvarint length, bytes), its size
// (uvarint) and its modification time (varint nanoseconds since 1970,
// noTime for a file that is not regular).
const listingHeader = "slidestream listing 1\n"

// Bounds on a listing file: what a library of millions of photos needs,
// and no more is read. A name is stored as what it adds to the one before,
// so the names add up to more than the file: about twice as much for a
// library, and at most namesPerByte times as much (and maxListingBytes).
const (
	maxListingSlides = 4 << 20
	maxListingBytes  = 256 << 20
	maxNameBytes     = 4096
	namesPerByte     = 16
)

// noTime stands for the zero time of a slide that is not a regular file.
const noTime = math.MinInt64

// ListingFile is the file, inside the state folder stateDir, that remembers
// the listing of folder dir (see FolderOptions.Remember).
func ListingFile(stateDir, dir string) string {
	return filepath.Join(stateDir, fmt.Sprintf("listing-%016x.bin", folderHash(dir)))
}

// writeListing writes slides to the file at p, replacing it whole.
func writeListing(p string, slides []Slide) error {
	return replaceFile(p, func(w *bufio.Writer) error {
		w.WriteString(listingHeader)
		var num [binary.MaxVarintLen64]byte
		put := func(v uint64) { w.Write(binary.AppendUvarint(num[:0], v)) }
		put(uint64(len(slides)))
		prev := ""
		for _, s := range slides {
			shared := commonPrefix(prev, s.Name)
			put(uint64(shared))
			put(uint64(len(s.Name) - shared))
			w.WriteString(s.Name[shared:])
			put(uint64(max(s.Size, 0)))
			t := int64(noTime)
			if !s.ModTime.IsZero() {
				t = s.ModTime.UnixNano()
			}
			w.Write(binary.AppendVarint(num[:0], t))
			prev = s.Name
		}
		return nil // a failed write is the Flush's error
	})
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// readListing reads a listing file written by writeListing, keeping the
// slides that keep(name) accepts. Nothing in the file is trusted: counts
// and lengths are bounded before anything is allocated for them, and an
// error says where it stopped.
func readListing(p string, keep func(name string) bool) ([]Slide, error) {
	f, st, err := openHint(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > maxListingBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d a listing may take", st.Size(), maxListingBytes)
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return parseListing(data, keep)
}

var errListingCut = errors.New("the listing ends in the middle of a slide")

// parseListing decodes the bytes of a listing file.
func parseListing(data []byte, keep func(name string) bool) ([]Slide, error) {
	b, ok := bytes.CutPrefix(data, []byte(listingHeader))
	if !ok {
		return nil, errors.New("not a listing file of this version")
	}
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	count, ok := uvarint()
	if !ok {
		return nil, errListingCut
	}
	if count > maxListingSlides {
		return nil, fmt.Errorf("%d slides, more than the %d a listing may hold", count, maxListingSlides)
	}
	// Each slide takes at least four bytes, which bounds what a lying
	// count can make allocated.
	slides := make([]Slide, 0, min(count, uint64(len(b)/4)))
	name := make([]byte, 0, 256)
	names, most := 0, min(maxListingBytes, namesPerByte*len(data)+maxNameBytes) // bytes of names
	for range count {
		shared, ok1 := uvarint()
		n, ok2 := uvarint()
		if !ok1 || !ok2 {
			return nil, errListingCut
		}
		if shared > uint64(len(name)) || n > maxNameBytes || shared+n > maxNameBytes {
			return nil, errors.New("a name longer than names are")
		}
		if n > uint64(len(b)) {
			return nil, errListingCut
		}
		name = append(name[:shared], b[:n]...)
		b = b[n:]
		if names += len(name); names > most {
			return nil, fmt.Errorf("names adding up to more than %d bytes in a file of %d", most, len(data))
		}
		size, ok1 := uvarint()
		t, m := binary.Varint(b)
		if !ok1 || m <= 0 {
			return nil, errListingCut
		}
		b = b[m:]
		if size > math.MaxInt64 {
			return nil, errors.New("a size out of range")
		}
		s := Slide{Name: string(name), Size: int64(size)}
		if t != noTime {
			s.ModTime = time.Unix(0, t)
		}
		if keep(s.Name) {
			slides = append(slides, s)
		}
	}
	if len(b) != 0 {
		return nil, errors.New("bytes after the last slide")
	}
	return slides, nil
}

// listable reports whether a scan of f could list a file of this name: a
// relative path whose every part is a name (no "", "." or ".."), with no
// dot or skipped folders, a name decode takes for an image, in the top
// folder only when f is flat.
func (f *Folder) listable(name string) bool {
	i := strings.LastIndexByte(name, '/')
	base := name[i+1:]
	if base == "" || base[0] == '.' || strings.IndexByte(name, 0) >= 0 || !f.shows(base) {
		return false
	}
	if i < 0 {
		return true
	}
	if !f.recursive {
		return false
	}
	for part := range strings.SplitSeq(name[:i], "/") {
		if part == "" || Skipped(part) { // dot folders, "." and ".." among them
			return false
		}
	}
	return true
}

// recalledTree makes the tree a scan would have made of slides: the
// folders that hold them and every folder between them and the top, each
// checked on disk to be a folder still (a link to a folder never is).
func (f *Folder) recalledTree(slides []Slide) (tree, error) {
	t := tree{}
	subs := map[string]map[string]bool{}
	bad := map[string]bool{}
	var add func(rel string) bool
	add = func(rel string) bool {
		if _, ok := t[rel]; ok {
			return true
		}
		if bad[rel] {
			return false
		}
		if info, err := os.Lstat(f.abs(rel)); err != nil || !info.IsDir() {
			bad[rel] = true
			return false
		}
		if rel != "" {
			parent := slideDir(rel)
			base := path.Base(rel)
			if !add(parent) {
				bad[rel] = true
				return false
			}
			if subs[parent] == nil {
				subs[parent] = map[string]bool{}
			}
			subs[parent][base] = true
		}
		t[rel] = &folder{}
		return true
	}
	if !add("") {
		return nil, fmt.Errorf("%s is not a folder now", f.dir)
	}
	// A folder's slides come together in a listing: each run of them is
	// looked up once.
	for i := 0; i < len(slides); {
		dir := slideDir(slides[i].Name)
		j := i + 1
		for j < len(slides) && slideDir(slides[j].Name) == dir {
			j++
		}
		if add(dir) { // a folder gone, or a link now: its slides are left out
			d := t[dir]
			d.files = append(d.files, slides[i:j]...)
		}
		i = j
	}
	for rel, names := range subs {
		d := t[rel]
		for base := range names {
			d.subdirs = append(d.subdirs, base)
		}
		slices.SortFunc(d.subdirs, Natural)
	}
	byName := func(a, b Slide) int { return Natural(path.Base(a.Name), path.Base(b.Name)) }
	for _, d := range t {
		if !slices.IsSortedFunc(d.files, byName) {
			slices.SortFunc(d.files, byName)
		}
		d.files = slices.CompactFunc(d.files, func(a, b Slide) bool { return a.Name == b.Name })
	}
	return t, nil
}

// slideDir is the folder a slide or folder is in, by name; "" for the top.
func slideDir(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// recall shows the listing the Remember file keeps, unless a scan has
// listed the folder already.
func (f *Folder) recall() {
	if f.remember == "" {
		return
	}
	start := time.Now()
	slides, err := readListing(f.remember, f.listable)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("cannot read the listing of the last run; waiting for the folder to be listed", "file", f.remember, "err", err)
		}
		return
	}
	t, err := f.recalledTree(slides)
	if err != nil {
		f.log.Warn("the folder of the last run's listing is not there; waiting for it to be listed", "dir", f.dir, "err", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.scanned || f.recalled {
		return
	}
	f.recalled = true
	f.install(t)
	f.kept = f.version // what the file holds, less what it may not list
	close(f.ready)
	f.log.Info("showing the listing of the last run while the folder is listed again", "dir", f.dir, "slides", len(f.slides), "took", time.Since(start).Round(time.Millisecond))
}

// keepEvery is how often, at most, a changing listing is written: a long
// copy into a large library changes it every second.
const keepEvery = 10 * time.Second

// keep writes the listing to the Remember file if it changed since it was
// last written, and if that was keepEvery ago or now is the end.
func (f *Folder) keep(end bool) {
	if f.remember == "" {
		return
	}
	f.mu.Lock()
	slides, v := f.slides, f.version
	skip := v == f.kept || !f.scanned || (!end && time.Since(f.keptAt) < keepEvery)
	f.mu.Unlock()
	if skip {
		return
	}
	// A failure is not tried again until the listing changes, as the
	// index does: a state folder that cannot be written is said once a
	// change, not at every rescan.
	if err := writeListing(f.remember, slides); err != nil {
		f.log.Warn("cannot save the listing; the next start waits for the folder to be listed", "file", f.remember, "err", err)
	}
	f.mu.Lock()
	f.kept, f.keptAt = v, time.Now()
	f.mu.Unlock()
}
