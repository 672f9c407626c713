package source

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Info is what a file's metadata says: its header and the date the photo
// was taken.
type Info struct {
	Format        string
	Width, Height int       // as stored
	Taken         time.Time // zero when the file gives none
	// Turned is set when the picture is stored on its side (EXIF
	// orientation): upright, it is Height wide and Width high.
	Turned bool
	// Profile names the colour profile converted from; ProfileNote says
	// why the one the file has is not applied. Both "" for sRGB.
	Profile, ProfileNote string
	// Motion says how the slide moves ("animation", "clip", "Live
	// Photo", "Motion Photo"; "" for a still), for Length; MotionNote
	// why it shows as a still where it cannot play. The index keeps
	// what its reader (IndexOptions.Read) says of Motion and Length, not
	// the note, which depends on the moment (ffmpeg installed or not).
	Motion     string        `json:"-"`
	Length     time.Duration `json:"-"`
	MotionNote string        `json:"-"`
	// Tail is the bytes at the end of the file that are a video (a
	// Motion Photo's), as its header says: for whoever reads the
	// motion. The index keeps Motion and Length, not Tail or the note.
	Tail int64 `json:"-"`
}

// Portrait reports whether the picture, upright, is taller than wide.
func (i Info) Portrait() bool {
	if i.Turned {
		return i.Width > i.Height
	}
	return i.Height > i.Width
}

// Index reads the metadata of every slide of a Folder in the background:
// its header (format, size, or why it cannot be read) for the status
// pages, and the date it was taken for the orders by date. It reads each
// version of a file once, in listing order, and keeps what it read in a
// small state file, so a restart does not read a large library again. It
// is safe for concurrent use.
type Index struct {
	folder  *Folder
	read    func(Slide) (Info, error)
	lasting func(error) bool
	state   string
	log     *slog.Logger
	settled chan struct{} // closed once the first listing is read whole

	mu      sync.Mutex // protects everything below
	entries map[string]entry
	failed  map[string]failure // also in entries, with no info
	pending int                // slides of the listing not read yet
	changed chan struct{}      // closed when the listing or what is known of it changes
	dirty   bool               // entries differ from the state file
}

// entry is one version of a file as read: kept small, as a library may
// hold a hundred thousand. Failures, which are few, are kept apart.
type entry struct {
	size, modTime int64 // the version read
	taken         int64 // Unix seconds; 0 when unknown
	width, height int32
	zone          int32  // the date's offset from UTC, in seconds
	length        uint32 // the motion's, in milliseconds
	format        uint8  // a code in formatNames
	flags         uint8  // turned and hint
	profile, note uint8  // codes in profileNames
	motion        uint8  // a code in motionNames
}

// Flags of an entry. hint is set on an entry from the state file: good
// for orders and pages, but not for a decision a forged or stale file
// could turn into work (Checked reads the file again).
const (
	turned uint8 = 1 << iota
	hint
)

// failure is why a version of a file could not be read, and when.
type failure struct {
	err error
	at  time.Time
}

func newEntry(s Slide, info Info) entry {
	e := entry{size: s.Size, modTime: s.ModTime.UnixNano(), width: int32(info.Width), height: int32(info.Height),
		format:  formatNames.code(info.Format),
		profile: profileNames.code(info.Profile), note: profileNames.code(info.ProfileNote),
		motion: motionNames.code(info.Motion), length: uint32(min(max(info.Length.Milliseconds(), 0), math.MaxUint32))}
	if info.Turned {
		e.flags |= turned
	}
	if !info.Taken.IsZero() {
		_, off := info.Taken.Zone()
		e.taken, e.zone = info.Taken.Unix(), int32(off)
	}
	return e
}

func (e entry) is(s Slide) bool { return e.size == s.Size && e.modTime == s.ModTime.UnixNano() }

func (e entry) info() Info {
	i := Info{Format: formatNames.name(e.format), Width: int(e.width), Height: int(e.height), Turned: e.flags&turned != 0,
		Profile: profileNames.name(e.profile), ProfileNote: profileNames.name(e.note),
		Motion: motionNames.name(e.motion), Length: time.Duration(e.length) * time.Millisecond}
	if e.taken != 0 {
		i.Taken = time.Unix(e.taken, 0).In(time.FixedZone("", int(e.zone)))
	}
	return i
}

// interned keeps strings that few files differ in (formats, colour profiles)
// once, as one-byte codes in the entries.
type interned struct {
	mu   sync.Mutex
	list []string // by code; code 0 is ""
}

var formatNames, profileNames, motionNames = &interned{list: []string{""}}, &interned{list: []string{""}}, &interned{list: []string{""}}

func (n *interned) code(s string) uint8 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i := slices.Index(n.list, s); i >= 0 {
		return uint8(i)
	}
	if len(n.list) == 256 {
		return 0 // no room: the string goes unnamed
	}
	n.list = append(n.list, s)
	return uint8(len(n.list) - 1)
}

func (n *interned) name(c uint8) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.list[c]
}

// IndexOptions configures an Index.
type IndexOptions struct {
	// Read reads a slide's metadata, reading as little of the file as it
	// can. An error says why the file cannot be shown.
	Read func(Slide) (Info, error)
	// Lasting reports whether a read's failure stands until the file
	// changes; others are tried again after a minute. Nil: all stand.
	Lasting func(error) bool
	// State is the file to keep what was read in across restarts; empty
	// keeps it in memory only.
	State string
	Log   *slog.Logger
}

// StateFile is the name of the index file for the folder dir inside the
// state folder stateDir: one per folder, so that instances showing
// different folders can share a state folder.
func StateFile(stateDir, dir string) string {
	return filepath.Join(stateDir, fmt.Sprintf("index-%016x.gob", folderHash(dir)))
}

// folderHash names the state files of folder dir.
func folderHash(dir string) uint64 {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	h := fnv.New64a()
	h.Write([]byte(dir))
	return h.Sum64()
}

// NewIndex returns an Index of folder. What its state file holds is read
// by Run, once the folder is listed.
func NewIndex(folder *Folder, o IndexOptions) *Index {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Lasting == nil {
		o.Lasting = func(error) bool { return true }
	}
	x := &Index{folder: folder, read: o.Read, lasting: o.Lasting, state: o.State, log: o.Log,
		entries: map[string]entry{}, failed: map[string]failure{}, changed: make(chan struct{}), settled: make(chan struct{})}
	return x
}

// Slides returns the folder's listing and a channel closed when it changes
// or when dates for it arrive: a player in an order by date arranges
// again.
func (x *Index) Slides() ([]Slide, <-chan struct{}) {
	listing, _ := x.folder.Slides()
	x.mu.Lock()
	defer x.mu.Unlock()
	return listing, x.changed
}

// Settled returns a channel closed once the first listing of the folder
// has been read whole (from the state file or the files): what a start
// reads is done.
func (x *Index) Settled() <-chan struct{} { return x.settled }

// Ready returns a channel closed once the folder has been listed.
func (x *Index) Ready() <-chan struct{} { return x.folder.Ready() }

// Lookup returns what is known of this version of s, if it has been read.
func (x *Index) Lookup(s Slide) (Info, error, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.entries[s.Name]
	if !ok || !e.is(s) {
		return Info{}, nil, false
	}
	if f, bad := x.failed[s.Name]; bad {
		return Info{}, f.err, true
	}
	return e.info(), nil, true
}

// Healed tells the index that s was just decoded and shown: a failure of
// the moment it recorded for that version (permission denied, an I/O
// error) is stale, so it reads the file again now, and pages stop giving
// the old reason for a photo on screen.
func (x *Index) Healed(s Slide) {
	x.mu.Lock()
	f, bad := x.failed[s.Name]
	e, ok := x.entries[s.Name]
	stale := bad && ok && e.is(s) && !x.lasting(f.err)
	x.mu.Unlock()
	if stale {
		x.readOne(s)
	}
}

// Checked returns what this version of s says of itself, read by this
// process: what the state file said is read again first. A decision that
// would cost much if a header lied (a photo served at its own size) takes
// this, not Get.
func (x *Index) Checked(s Slide) (Info, error) {
	x.mu.Lock()
	e, ok := x.entries[s.Name]
	x.mu.Unlock()
	if ok && e.is(s) && e.flags&hint != 0 {
		return x.readOne(s)
	}
	return x.Get(s)
}

// Get returns what is known of this version of s, reading it now if the
// background has not yet.
func (x *Index) Get(s Slide) (Info, error) {
	if info, err, ok := x.Lookup(s); ok {
		return info, err
	}
	return x.readOne(s)
}

// Taken returns the date s was taken, if it is known: the orders by date
// ask it.
func (x *Index) Taken(s Slide) (time.Time, bool) {
	x.mu.Lock()
	e, ok := x.entries[s.Name]
	x.mu.Unlock()
	if !ok || !e.is(s) || e.taken == 0 {
		return time.Time{}, false
	}
	// In the zone it was taken in: the orders need only the instant, a
	// selection by day the photo's own calendar day.
	return time.Unix(e.taken, 0).In(time.FixedZone("", int(e.zone))), true
}

// Pending returns how many slides of the listing have not been read yet.
func (x *Index) Pending() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.pending
}

func (x *Index) readOne(s Slide) (Info, error) {
	info, err := x.read(s)
	x.mu.Lock()
	if err != nil {
		info = Info{}
		x.failed[s.Name] = failure{err, time.Now()}
	} else {
		delete(x.failed, s.Name)
	}
	x.entries[s.Name] = newEntry(s, info)
	x.dirty = x.dirty || err == nil
	x.mu.Unlock()
	return info, err
}

// needs reports whether s must be read: never read at this version, or a
// failure that passes, a minute old.
func (x *Index) needs(s Slide) bool {
	e, ok := x.entries[s.Name]
	if !ok || !e.is(s) {
		return true
	}
	f, bad := x.failed[s.Name]
	return bad && !x.lasting(f.err) && time.Since(f.at) > time.Minute
}

// Run reads the metadata of every slide in the background until ctx ends:
// at once for the current listing, then whenever the listing changes (and
// each minute, for failures that pass). Arrivals are announced in
// batches, at most once a second, and saved to the state file.
func (x *Index) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	defer x.save()
	select { // an empty listing before the first scan is no reason to forget
	case <-ctx.Done():
		return
	case <-x.folder.Ready():
	}
	if x.state != "" {
		listing, _ := x.folder.Slides()
		if n, err := x.load(listing); err != nil && !errors.Is(err, os.ErrNotExist) {
			x.log.Warn("cannot read the index file; reading the metadata of the files it did not give again", "file", x.state, "files", n, "err", err)
		} else if n > 0 {
			x.log.Info("read the index file", "file", x.state, "files", n)
		}
	}
	// Settled waits for the folder's own listing: the first one may be
	// the last run's, shown while the folder is listed again.
	scanned := x.folder.Listed()
	for {
		listing, changed := x.folder.Slides()
		x.sweep(ctx, listing)
		if ctx.Err() != nil {
			return
		}
		x.save()
		if scanned != nil && isClosed(scanned) {
			close(x.settled)
			scanned = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-scanned:
		case <-tick.C:
		}
	}
}

// sweep forgets files that left the listing and reads those not known.
func (x *Index) sweep(ctx context.Context, listing []Slide) {
	x.mu.Lock()
	names := make(map[string]bool, len(listing))
	var todo []Slide
	for _, s := range listing {
		names[s.Name] = true
		if x.needs(s) {
			todo = append(todo, s)
		}
	}
	gone := 0
	for name := range x.entries {
		if !names[name] {
			delete(x.entries, name)
			delete(x.failed, name)
			gone++
		}
	}
	x.dirty = x.dirty || gone > 0
	x.pending = len(todo)
	if gone > 0 || len(todo) > 0 {
		x.announce() // players in an order by date arrange the new listing
	}
	x.mu.Unlock()
	if len(todo) > 1000 {
		x.log.Info("reading photo metadata in the background", "files", len(todo))
	}
	start, last := time.Now(), time.Now()
	for i, s := range todo {
		if ctx.Err() != nil {
			return
		}
		x.readOne(s)
		x.mu.Lock()
		x.pending = len(todo) - i - 1
		if time.Since(last) >= time.Second || x.pending == 0 {
			x.announce()
			last = time.Now()
		}
		x.mu.Unlock()
		if time.Since(start) > 30*time.Second && x.pending > 0 {
			x.save() // a long first read survives a restart midway
			start = time.Now()
		}
	}
	if len(todo) > 1000 {
		x.log.Info("photo metadata read", "files", len(todo))
	}
}

// isClosed reports whether c is closed, without waiting.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// announce signals a change; x.mu must be held.
func (x *Index) announce() {
	close(x.changed)
	x.changed = make(chan struct{})
}

// record is an entry as the state file keeps it.
type record struct {
	Name          string
	Size, ModTime int64
	Format        string
	Width, Height int
	Taken         time.Time
	Turned        bool
	Profile, Note string
	Motion        string
	Length        time.Duration
}

// stateHeader starts the state file; another header means another layout,
// and the file is read again from the photos. After it come the records,
// one gob value each, to the end of the file.
const stateHeader = "slidestream index 5"

// The state file is a hint: it may be stale, damaged or not ours. It is
// read only if it is a regular file (a FIFO in its place would block the
// start for ever), only as far as a listing of that many files needs
// (stateSlack records more, for files that come and go, and
// stateRecordBytes a record on average), and only its records of files
// the listing has are kept.
const (
	stateSlack       = 1024
	stateRecordBytes = 1024
)

// load reads the state file into the index, for the files of listing. It
// returns how many records it kept; an error says why it stopped early.
func (x *Index) load(listing []Slide) (int, error) {
	f, _, err := openHint(x.state)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names := make(map[string]bool, len(listing))
	for _, s := range listing {
		names[s.Name] = true
	}
	most := int64(len(listing) + stateSlack)
	dec := gob.NewDecoder(bufio.NewReader(io.LimitReader(f, most*stateRecordBytes)))
	var head string
	if err := dec.Decode(&head); err != nil {
		return 0, err
	}
	if head != stateHeader {
		return 0, fmt.Errorf("written by another version (%q)", head)
	}
	// The records are decoded without the lock (a large file takes a
	// tenth of a second, while the first frame asks the index) and take
	// the entries' place at the end, with what was read from the files
	// meanwhile, which is fresher.
	got := make(map[string]entry, len(listing))
	defer func() {
		x.mu.Lock()
		maps.Copy(got, x.entries)
		x.entries = got
		x.mu.Unlock()
	}()
	kept := 0
	for n := int64(0); ; n++ {
		if n == most {
			return kept, fmt.Errorf("more than %d records for a folder of %d files", most, len(listing))
		}
		var r record
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return kept, nil
		} else if err != nil {
			return kept, err
		}
		if !names[r.Name] || r.Width < 0 || r.Height < 0 {
			continue
		}
		e := newEntry(Slide{Size: r.Size}, Info{Format: r.Format, Width: r.Width, Height: r.Height, Taken: r.Taken, Turned: r.Turned,
			Profile: r.Profile, ProfileNote: r.Note, Motion: r.Motion, Length: r.Length})
		e.modTime = r.ModTime
		e.flags |= hint
		got[r.Name] = e
		kept++
	}
}

// save writes the index to the state file if it changed: the files read
// without error, whose metadata stands until they change. It writes a new
// file and renames it over the old, so a crash leaves one or the other.
func (x *Index) save() {
	x.mu.Lock()
	if x.state == "" || !x.dirty {
		x.mu.Unlock()
		return
	}
	recs := make([]record, 0, len(x.entries))
	for name, e := range x.entries {
		if _, bad := x.failed[name]; !bad {
			i := e.info()
			recs = append(recs, record{Name: name, Size: e.size, ModTime: e.modTime, Format: i.Format,
				Width: i.Width, Height: i.Height, Taken: i.Taken, Turned: i.Turned, Profile: i.Profile, Note: i.ProfileNote,
				Motion: i.Motion, Length: i.Length})
		}
	}
	x.dirty = false
	x.mu.Unlock()
	if err := writeState(x.state, recs); err != nil {
		x.log.Warn("cannot save the index file; dates will be read again at the next start", "file", x.state, "err", err)
	}
}

func writeState(path string, recs []record) error {
	return replaceFile(path, func(w *bufio.Writer) error {
		enc := gob.NewEncoder(w)
		err := enc.Encode(stateHeader)
		for i := 0; i < len(recs) && err == nil; i++ {
			err = enc.Encode(recs[i])
		}
		return err
	})
}

// openHint opens a state file, which is read only if it is a regular file:
// O_NONBLOCK keeps a FIFO in its place from blocking the start for ever.
func openHint(p string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// replaceFile writes the file at p whole with write, into a new file
// renamed over the old one, so that a crash leaves one or the other.
func replaceFile(p string, write func(*bufio.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing there
	w := bufio.NewWriterSize(tmp, 256<<10)
	if err := errors.Join(write(w), w.Flush(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
