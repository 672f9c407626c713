package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"slidestream/decode"
)

// Folder keeps the list of slides under a directory up to date: the files
// whose names decode takes for images, in every subfolder (unless told
// otherwise), named by their path relative to the directory. It skips dot
// files and folders and the litter that NAS boxes and operating systems
// leave, and does not follow symbolic links to folders (a link back up the
// tree would never end); a link to a file is that file.
//
// Watch keeps it current: operating-system notifications on every folder
// bring a change within a fraction of a second, and a full rescan at a
// longer interval catches what notifications miss (network and FUSE
// mounts send none). It is safe for concurrent use.
type Folder struct {
	dir       string
	recursive bool
	noClips   bool   // video clips are left out
	remember  string // the file the listing is kept in; "" for none
	log       *slog.Logger

	scanMu sync.Mutex // one scan at a time

	mu       sync.Mutex    // protects everything below
	tree     tree          // never modified once published: scans copy it
	slides   []Slide       // the listing, in ComparePaths order
	version  int           // how many times it changed
	kept     int           // the version in the Remember file
	keptAt   time.Time     // when it was written
	scanned  bool          // a first scan has finished
	listed   chan struct{} // closed then
	recalled bool          // the listing of the last run was shown before that
	ready    chan struct{} // closed at the first of the two
	err      error         // why the last full scan failed, if it did
	changed  chan struct{}
}

// tree is a scan of the folders: each folder's own contents by its path
// relative to the top ("" is the top).
type tree map[string]*folder

// folder is one directory at one scan. It is never modified once made.
type folder struct {
	files   []Slide  // in Natural order of their base names
	subdirs []string // base names, in Natural order
}

func (d *folder) same(o *folder) bool {
	return o != nil && slices.Equal(d.subdirs, o.subdirs) && slices.EqualFunc(d.files, o.files, Slide.Same)
}

// FolderOptions configures a Folder.
type FolderOptions struct {
	// Flat lists the top folder only, not its subfolders.
	Flat bool
	// NoClips leaves video clips out (--motion off).
	NoClips bool
	// Remember is a file Watch keeps the listing in, and shows it from
	// at the next start until the folder is listed (ListingFile names
	// one); empty for none.
	Remember string
	Log      *slog.Logger // nil discards
}

// NewFolder returns a Folder for dir. It lists nothing until Scan or
// Watch is called.
func NewFolder(dir string, o FolderOptions) *Folder {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Folder{dir: dir, recursive: !o.Flat, noClips: o.NoClips, remember: o.Remember, log: o.Log, tree: tree{},
		changed: make(chan struct{}), ready: make(chan struct{}), listed: make(chan struct{})}
}

// Dir returns the directory being watched.
func (f *Folder) Dir() string { return f.dir }

// Slides returns the current slides in ComparePaths order, and a channel
// that is closed when they change. The slice must not be modified.
func (f *Folder) Slides() ([]Slide, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slides, f.changed
}

// Ready returns a channel closed once there is a listing to show: the
// folder's, or the one the Remember file kept from the last run until
// then.
func (f *Folder) Ready() <-chan struct{} { return f.ready }

// Listed returns a channel closed once the folder has been listed.
func (f *Folder) Listed() <-chan struct{} { return f.listed }

// Stat returns the slide named name as it is on disk now. Only a name in
// the listing is looked up, so a path with "..", an absolute path, a dot
// file, a file in skipped or linked folders or one that is no image's is
// an error without touching the disk.
func (f *Folder) Stat(name string) (Slide, error) {
	f.mu.Lock()
	s, ok := f.tree.find(name)
	f.mu.Unlock()
	if !ok {
		return Slide{}, fmt.Errorf("%q is not in the listing", name)
	}
	info, err := os.Stat(f.Path(name))
	if err != nil {
		return Slide{}, err
	}
	if !info.Mode().IsRegular() {
		return Slide{}, fmt.Errorf("%q is not a regular file", name)
	}
	s.Size, s.ModTime = info.Size(), info.ModTime()
	return s, nil
}

func (t tree) find(name string) (Slide, bool) {
	dir, base := path.Split(name)
	d := t[strings.TrimSuffix(dir, "/")]
	if d == nil {
		return Slide{}, false
	}
	i, ok := slices.BinarySearchFunc(d.files, base, func(s Slide, base string) int {
		return Natural(path.Base(s.Name), base)
	})
	if !ok || d.files[i].Name != name {
		return Slide{}, false
	}
	return d.files[i], true
}

// Album is a subfolder and how many slides it holds.
type Album struct {
	Path string `json:"path"` // relative to the top, with / separators
	// Photos counts the slides in the folder itself, Total those in its
	// subfolders too.
	Photos int `json:"photos"`
	Total  int `json:"total"`
}

// Albums lists every subfolder, in listing order, with its counts. Folders
// without any slide below them are listed too: a channel may wait for one.
func (f *Folder) Albums() []Album {
	f.mu.Lock()
	t := f.tree
	f.mu.Unlock()
	var out []Album
	var walk func(rel string) int
	walk = func(rel string) int {
		d := t[rel]
		if d == nil {
			return 0
		}
		i := len(out)
		if rel != "" {
			out = append(out, Album{Path: rel, Photos: len(d.files)})
		}
		total := len(d.files)
		for _, sub := range d.subdirs {
			total += walk(join(rel, sub))
		}
		if rel != "" {
			out[i].Total = total
		}
		return total
	}
	walk("")
	return out
}

// HasAlbum reports whether the folder has a subfolder at path album.
func (f *Folder) HasAlbum(album string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tree[album]
	return ok && album != ""
}

// InAlbum reports whether a slide name lies in album or below it. The
// empty album is the whole folder.
func InAlbum(name, album string) bool {
	return album == "" || (strings.HasPrefix(name, album) && len(name) > len(album) && name[len(album)] == '/')
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Path returns the path on disk of the slide named name.
func (f *Folder) Path(name string) string { return f.abs(name) }

// abs is the path on disk of rel.
func (f *Folder) abs(rel string) string {
	return filepath.Join(f.dir, filepath.FromSlash(rel))
}

// rel is the relative name of a path on disk under the folder, and false
// for anything else.
func (f *Folder) rel(p string) (string, bool) {
	if p == f.dir {
		return "", true
	}
	r, ok := strings.CutPrefix(p, f.dir+string(filepath.Separator))
	if !ok {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// Skipped reports whether a folder of this name is left out of the
// listing: dot folders (.git, .Trash-1000, ...) and the litter of NAS
// boxes and operating systems.
func Skipped(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	switch name {
	case "@eaDir", "#recycle", "#snapshot", "lost+found", "@Recycle", "@Recently-Snapshot", "$RECYCLE.BIN", "System Volume Information":
		return true
	}
	return false
}

// Scan lists the whole tree now and publishes any change. A missing or
// unreadable top folder is an empty list, logged once until it recovers.
func (f *Folder) Scan() {
	f.scanMu.Lock()
	defer f.scanMu.Unlock()
	f.mu.Lock()
	old := f.tree
	f.mu.Unlock()
	t := tree{}
	sc := newScanning(t, old, true)
	err := f.scanDir(sc, "")
	sc.wg.Wait()
	f.mu.Lock()
	if (err == nil) != (f.err == nil) {
		if err != nil {
			f.log.Warn("cannot read the image folder; waiting for it", "dir", f.dir, "err", err)
		} else if f.scanned {
			f.log.Info("image folder is readable again", "dir", f.dir)
		}
	}
	f.err = err
	f.mu.Unlock()
	f.publish(t)
}

// scanDirs lists again the folders named (relative paths) and, below
// them, any folder that is new; the rest of the tree is kept as it was.
func (f *Folder) scanDirs(dirs map[string]bool) {
	f.scanMu.Lock()
	defer f.scanMu.Unlock()
	f.mu.Lock()
	old := f.tree
	f.mu.Unlock()
	t := make(tree, len(old))
	for k, v := range old {
		t[k] = v
	}
	sc := newScanning(t, old, false)
	for rel := range dirs {
		if _, known := old[rel]; !known {
			continue // a new folder is scanned from its parent, which is dirty too
		}
		f.scanDir(sc, rel)
	}
	sc.wg.Wait()
	f.publish(t)
}

// scanning is one scan of the tree: folders are listed by several
// goroutines at once (a listing is mostly waiting on the file system,
// one stat a file), each writing its folder into t.
type scanning struct {
	old  tree // the tree before: read only
	full bool // every subfolder, not only the new ones
	sem  chan struct{}
	wg   sync.WaitGroup

	mu sync.Mutex
	t  tree
}

// scanners is how many folders are listed at once.
var scanners = min(16, 2*runtime.GOMAXPROCS(0))

func newScanning(t, old tree, full bool) *scanning {
	return &scanning{t: t, old: old, full: full, sem: make(chan struct{}, scanners-1)}
}

// scanDir lists folder rel into sc.t and goes on into its subfolders: all
// of them when sc.full is set, otherwise only those not in sc.old; a
// subfolder is listed by another goroutine when one is free (sc.wg waits
// for them). Subfolders that are gone are dropped from sc.t with
// everything below them.
func (f *Folder) scanDir(sc *scanning, rel string) error {
	old := sc.old
	dirPath := f.abs(rel)
	dir, err := os.Open(dirPath)
	var entries []os.DirEntry
	if err == nil {
		entries, err = dir.ReadDir(-1)
		defer dir.Close()
	}
	if err != nil {
		sc.mu.Lock()
		dropBelow(sc.t, rel)
		sc.mu.Unlock()
		return err
	}
	st := newStatter(dir)
	d := &folder{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // dot files, dot folders, AppleDouble ._ files
		}
		typ := e.Type()
		if typ&os.ModeSymlink != 0 {
			// A link to a file is that file; a link to a folder is not
			// followed.
			info, err := os.Stat(filepath.Join(dirPath, name))
			if err != nil || info.IsDir() {
				continue
			}
			typ = info.Mode().Type()
		}
		if typ.IsDir() {
			if f.recursive && !Skipped(name) {
				d.subdirs = append(d.subdirs, name)
			}
			continue
		}
		if !f.shows(name) {
			continue
		}
		// Anything that is not a folder stays in the list even if it is
		// not a regular file, so that the decoder can say why it is
		// skipped.
		size, mtime, regular, err := st.stat(dirPath, name)
		if err != nil {
			continue // gone since the listing
		}
		if !regular {
			size, mtime = 0, time.Time{}
		}
		d.files = append(d.files, Slide{Name: join(rel, name), Size: size, ModTime: mtime})
	}
	d.files = withoutLiveVideos(d.files)
	slices.SortFunc(d.files, func(a, b Slide) int { return Natural(path.Base(a.Name), path.Base(b.Name)) })
	slices.SortFunc(d.subdirs, Natural)
	prev := old[rel]
	if d.same(prev) {
		d = prev // unchanged: keep the old one, so nothing is rebuilt
	}
	sc.mu.Lock()
	// Subfolders that went away take their whole subtree with them.
	if prev != nil && !sc.full {
		for _, sub := range prev.subdirs {
			if _, still := slices.BinarySearchFunc(d.subdirs, sub, Natural); !still {
				dropBelow(sc.t, join(rel, sub))
			}
		}
	}
	sc.t[rel] = d
	sc.mu.Unlock()
	for _, sub := range d.subdirs {
		child := join(rel, sub)
		if _, known := old[child]; !sc.full && known {
			continue
		}
		select {
		case sc.sem <- struct{}{}:
			sc.wg.Go(func() {
				defer func() { <-sc.sem }()
				f.scanDir(sc, child)
			})
		default:
			f.scanDir(sc, child)
		}
	}
	return nil
}

// shows reports whether a file of this base name is listed: an image's
// name, or a clip's unless clips are left out.
func (f *Folder) shows(base string) bool {
	return decode.IsImageName(base) && !(f.noClips && decode.IsClipName(base))
}

// dropBelow removes folder rel and every folder under it.
func dropBelow(t tree, rel string) {
	for k := range t {
		if k == rel || InAlbum(k, rel) {
			delete(t, k)
		}
	}
}

// publish makes t the current tree and, if any folder changed, rebuilds
// the listing and signals the change.
func (f *Folder) publish(t tree) {
	f.mu.Lock()
	defer f.mu.Unlock()
	first := !f.scanned
	if first {
		f.scanned = true
		close(f.listed)
		if !f.recalled {
			close(f.ready)
		}
	}
	if (!first || f.recalled) && sameTree(t, f.tree) {
		f.tree = t
		if first {
			f.log.Info("found images, as the last run left them", "dir", f.dir, "slides", len(f.slides), "folders", len(t))
		}
		return
	}
	old := f.slides
	f.install(t)
	if first && !f.recalled {
		f.log.Info("found images", "dir", f.dir, "slides", len(f.slides), "folders", len(f.tree))
	} else {
		added, removed, replaced := diff(old, f.slides)
		f.log.Info("folder changed", "dir", f.dir, "slides", len(f.slides), "added", added, "removed", removed, "replaced", replaced)
	}
}

// install makes t the current tree and its files the listing, and
// signals the change; f.mu must be held.
func (f *Folder) install(t tree) {
	// The listing is every folder's files, album after album; each
	// folder of the published tree then holds its part of the listing
	// rather than a copy, which matters at a hundred thousand slides.
	n := 0
	for _, d := range t {
		n += len(d.files)
	}
	slides := make([]Slide, 0, n)
	shared := make(tree, len(t))
	var walk func(rel string)
	walk = func(rel string) {
		d := t[rel]
		if d == nil {
			return
		}
		start := len(slides)
		slides = append(slides, d.files...)
		shared[rel] = &folder{files: slides[start:len(slides):len(slides)], subdirs: d.subdirs}
		for _, sub := range d.subdirs {
			walk(join(rel, sub))
		}
	}
	walk("")
	f.tree, f.slides = shared, slides
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

// sameTree reports whether two scans found the same folders with the same
// contents. Unchanged folders are shared between scans, so this is mostly
// pointer comparisons.
func sameTree(a, b tree) bool {
	if len(a) != len(b) {
		return false
	}
	for k, d := range a {
		o, ok := b[k]
		if !ok || (d != o && !d.same(o)) {
			return false
		}
	}
	return true
}

// giveBack returns the garbage of a full scan to the system at once on a
// large library: a scan stats every file and names it again, tens of
// megabytes where little changes, which an idle server may not collect for
// minutes and would hold resident until then.
func (f *Folder) giveBack() {
	f.mu.Lock()
	large := len(f.slides) >= largeLibrary
	f.mu.Unlock()
	if large {
		debug.FreeOSMemory()
	}
}

// largeLibrary is the number of files from which a rescan's garbage is
// given back to the system at once.
const largeLibrary = 10000

// Watch keeps the folder current until ctx ends: it scans it, watches every
// folder for changes (a burst of changes is read once it settles), and
// scans everything again every rescan (0: never). Where notifications
// cannot be had, rescans alone keep it current.
func (f *Folder) Watch(ctx context.Context, rescan time.Duration) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		f.log.Warn("cannot watch the folder for changes; relying on rescans", "err", err, "rescan", rescan.String())
		w = nil
	} else {
		defer w.Close()
	}
	// The last run's listing is shown first (a few hundredths of a
	// second at a hundred thousand photos), then the folder is listed.
	f.recall()
	f.Scan()
	watched := map[string]bool{}
	warned := false
	// sync watches the folders of the listing and no others. A folder
	// is watched only after it was read, so whatever arrived in between
	// is found by reading the newly watched folders once more, and so on
	// down any folders that finds. Stale watches go first: a renamed
	// folder is the same inode under a new name.
	sync := func() {
		for w != nil {
			f.mu.Lock()
			t := f.tree
			f.mu.Unlock()
			for rel := range watched {
				if _, ok := t[rel]; !ok {
					w.Remove(f.abs(rel)) // usually gone already, with its folder
					delete(watched, rel)
				}
			}
			added := map[string]bool{}
			for rel := range t {
				if watched[rel] {
					continue
				}
				if err := w.Add(f.abs(rel)); err != nil {
					if !warned {
						f.log.Warn("cannot watch every folder for changes; the others are seen at each rescan", "folder", f.abs(rel), "err", err, "rescan", rescan.String())
						warned = true
					}
					continue
				}
				watched[rel], added[rel] = true, true
			}
			if len(added) == 0 {
				return
			}
			// The first time too: a change between the first scan and
			// the first watches (a photo copied in at start) would
			// otherwise wait for a rescan, or never be seen without one.
			f.scanDirs(added)
		}
	}
	sync()
	f.keep(false)

	var tick <-chan time.Time
	if rescan > 0 {
		t := time.NewTicker(rescan)
		defer t.Stop()
		tick = t.C
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	// Changes are read once they have been quiet for settle, and at the
	// latest after maxWait, so a long copy still shows up as it goes.
	const settle, maxWait = 200 * time.Millisecond, time.Second
	dirty := map[string]bool{}
	var first time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			f.keep(true)
			return
		case <-tick:
			f.Scan()
			sync()
			f.keep(false)
			f.giveBack()
		case err := <-errs:
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				f.log.Warn("too many changes at once to follow one by one; scanning the whole folder")
			}
			f.Scan()
			sync()
			f.keep(false)
		case ev := <-events:
			rel, ok := f.rel(filepath.Clean(ev.Name))
			if !ok {
				continue
			}
			if rel != "" {
				dirty[path.Dir("/" + rel)[1:]] = true // its folder
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Create) {
				dirty[rel] = true // it may be a folder itself
			}
			if first.IsZero() {
				first = time.Now()
			}
			timer.Reset(min(settle, max(time.Until(first.Add(maxWait)), 0)))
		case <-timer.C:
			f.scanDirs(dirty)
			sync()
			f.keep(false)
			dirty, first = map[string]bool{}, time.Time{}
		}
	}
}

func diff(old, cur []Slide) (added, removed, replaced int) {
	byName := make(map[string]Slide, len(old))
	for _, s := range old {
		byName[s.Name] = s
	}
	for _, s := range cur {
		o, ok := byName[s.Name]
		switch {
		case !ok:
			added++
		case !o.Same(s):
			replaced++
		}
		delete(byName, s.Name)
	}
	return added, len(byName), replaced
}

// AlbumView is the part of a listing that lies in one album, as a listing
// of its own with the same change signal. It is safe for concurrent use.
type AlbumView struct {
	src interface {
		Slides() ([]Slide, <-chan struct{})
	}
	album string

	mu     sync.Mutex
	of     <-chan struct{} // the change channel the slides were cut for
	slides []Slide
}

// NewAlbumView returns the slides of src in album (a folder's path).
func NewAlbumView(src interface {
	Slides() ([]Slide, <-chan struct{})
}, album string) *AlbumView {
	return &AlbumView{src: src, album: album}
}

// Slides returns the album's slides, in src's order, and src's change
// channel.
func (v *AlbumView) Slides() ([]Slide, <-chan struct{}) {
	all, changed := v.src.Slides()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.of != changed || v.slides == nil {
		v.slides = make([]Slide, 0)
		for _, s := range all {
			if InAlbum(s.Name, v.album) {
				v.slides = append(v.slides, s)
			}
		}
		v.of = changed
	}
	return v.slides, changed
}

// Ready returns a channel closed once the folder below has been listed.
func (v *AlbumView) Ready() <-chan struct{} {
	if r, ok := v.src.(interface{ Ready() <-chan struct{} }); ok {
		return r.Ready()
	}
	return closed
}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// withoutLiveVideos drops the clips that are a Live Photo's video: a clip
// beside a photo of the same name (IMG_0001.HEIC and IMG_0001.MOV) is one
// slide, the photo, which plays it (LiveVideo finds it).
func withoutLiveVideos(files []Slide) []Slide {
	photos := map[string]bool{}
	for _, f := range files {
		if !decode.IsClipName(f.Name) {
			photos[strings.TrimSuffix(f.Name, path.Ext(f.Name))] = true
		}
	}
	return slices.DeleteFunc(files, func(f Slide) bool {
		return decode.IsClipName(f.Name) && photos[strings.TrimSuffix(f.Name, path.Ext(f.Name))]
	})
}

// LiveVideo is the name of the clip beside photo s that makes it a Live
// Photo, if there is one: the same name with .mov (or .MOV, .mp4).
func LiveVideo(dir string, s Slide) (string, bool) {
	if decode.IsClipName(s.Name) {
		return "", false
	}
	base := strings.TrimSuffix(s.Name, path.Ext(s.Name))
	for _, ext := range []string{".MOV", ".mov", ".MP4", ".mp4"} {
		if info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(base+ext))); err == nil && info.Mode().IsRegular() {
			return base + ext, true
		}
	}
	return "", false
}

// statPath is os.Stat's size, modification time and whether it is a
// regular file.
func statPath(path string) (int64, time.Time, bool, error) {
	info, err := os.Stat(path)
	if err != nil {
		return 0, time.Time{}, false, err
	}
	return info.Size(), info.ModTime(), info.Mode().IsRegular(), nil
}
