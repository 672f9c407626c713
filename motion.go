package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"slidestream/decode"
	"slidestream/play"
	"slidestream/source"
	"slidestream/video"
)

// motionConfig is the command line of motion: animated GIFs and WebPs
// played in the stream.
type motionConfig struct {
	mode    string        // auto, stills or off
	fps     int           // the most frames a second of motion
	maxClip time.Duration // the longest motion a slide plays
}

func (m *motionConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&m.mode, "motion", "auto", "auto: play animated GIFs and WebPs in the stream; stills (or off): show their first frame")
	fs.IntVar(&m.fps, "motion-fps", 15, "the most frames a second sent during motion (1 to 30); faster animations skip frames")
	fs.DurationVar(&m.maxClip, "max-clip", 30*time.Second, "the longest motion played: a longer animation plays its first part")
}

func (m *motionConfig) check() error {
	switch {
	case m.mode != "auto" && m.mode != "stills" && m.mode != "off":
		return fmt.Errorf("-motion %q: want auto, stills or off", m.mode)
	case m.fps < 1 || m.fps > 30:
		return fmt.Errorf("-motion-fps %d: want 1 to 30", m.fps)
	case m.maxClip < time.Second || m.maxClip > 10*time.Minute:
		return fmt.Errorf("-max-clip %v: want 1s to 10m", m.maxClip)
	}
	return nil
}

// motionKind is how a slide moves, as /images shows it.
type motionKind struct {
	kind   string // photo, animation, clip, Live Photo, Motion Photo
	length time.Duration
	then   play.Then
	// live is a Live Photo's video, relative to the folder; tail is a
	// Motion Photo's video's length, at the end of the file.
	live string
	tail int64
	// note says why it shows as a still.
	note string
}

// probe remembers how each version of a file moves, so that a slide
// shown again is not read again to know it.
type probe struct {
	dir   string
	lim   decode.Limits
	video bool // ffmpeg is there: clips, Live and Motion Photos play
	mu    sync.Mutex
	// known is by file version; cleared when full.
	known map[string]motionKind
}

const maxProbed = 4096

// headBytes is how much of a JPEG is read for its XMP.
const headBytes = 128 << 10

// info reads how a slide moves. Only GIFs, WebPs, clips and JPEGs are
// read (a JPEG's first bytes, for Motion Photo XMP); a photo with a clip
// of the same name beside it is a Live Photo.
func (p *probe) info(s source.Slide) motionKind {
	key := fmt.Sprintf("%s\x00%d\x00%d", s.Name, s.Size, s.ModTime.UnixNano())
	p.mu.Lock()
	m, ok := p.known[key]
	p.mu.Unlock()
	if ok {
		return m
	}
	m = p.playable(p.learn(s, -1))
	p.remember(key, m)
	return m
}

// learn reads how a slide moves, whether this process can play it or not
// (what the index keeps), given the Motion Photo video its header
// announces: tail bytes at its end, 0 for none, -1 when the head is still
// to be read. The index reads every file once, so it is not remembered
// here: the memo is for the slides on screen.
func (p *probe) learn(s source.Slide, tail int64) motionKind {
	return p.read(s, strings.ToLower(filepath.Ext(s.Name)), tail)
}

// playable is m as this process plays it: a still, with the reason, where
// its video needs the ffmpeg it does not have.
func (p *probe) playable(m motionKind) motionKind {
	if note := motionNote(m.kind, p.video); note != "" {
		return motionKind{kind: m.kind, note: note}
	}
	return m
}

func (p *probe) remember(key string, m motionKind) {
	p.mu.Lock()
	if p.known == nil || len(p.known) >= maxProbed {
		p.known = map[string]motionKind{}
	}
	p.known[key] = m
	p.mu.Unlock()
}

func (p *probe) path(name string) string { return filepath.Join(p.dir, filepath.FromSlash(name)) }

// readUpTo reads a file of at most --max-file-size bytes whole.
func (p *probe) readUpTo(name string) ([]byte, error) {
	lim := p.lim.MaxFileSize
	if lim <= 0 {
		lim = decode.DefaultMaxFileSize
	}
	f, err := openRegular(p.path(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, lim+1))
	if err == nil && int64(len(b)) > lim {
		err = fmt.Errorf("over --max-file-size")
	}
	return b, err
}

// read finds how a slide moves; tail is the Motion Photo video its header
// announces, or -1 when its head is still to be read.
func (p *probe) read(s source.Slide, ext string, tail int64) motionKind {
	photo := motionKind{kind: "photo"}
	switch {
	case ext == ".gif" || ext == ".webp":
		if s.Size > p.lim.MaxFileSize && p.lim.MaxFileSize > 0 {
			return photo
		}
		b, err := p.readUpTo(s.Name)
		if err != nil || int64(len(b)) != s.Size {
			return photo
		}
		if m := decode.Motion(b); m.Kind == decode.Animated {
			return motionKind{kind: "animation", length: m.Length, then: play.Loop}
		}
		return photo
	case decode.IsClipName(s.Name):
		b, err := p.readUpTo(s.Name)
		if err != nil {
			return motionKind{kind: "clip"}
		}
		in, err := video.Inspect(b)
		if err != nil {
			return motionKind{kind: "clip"}
		}
		return motionKind{kind: "clip", length: in.Length, then: play.HoldLast}
	}
	if live, ok := source.LiveVideo(p.dir, s); ok {
		b, err := p.readUpTo(live)
		if err == nil {
			if in, err := video.Inspect(b); err == nil && in.Length > 0 {
				return motionKind{kind: "Live Photo", length: in.Length, then: play.BackToStill, live: live}
			}
		}
	}
	if (ext == ".jpg" || ext == ".jpeg") && tail != 0 {
		f, err := openRegular(p.path(s.Name))
		if err != nil {
			return photo
		}
		defer f.Close()
		if tail < 0 {
			head := make([]byte, headBytes)
			n, _ := io.ReadFull(f, head)
			tail = decode.MotionPhotoVideo(head[:n])
		}
		if tail <= 0 || tail >= s.Size || tail > p.lim.MaxFileSize && p.lim.MaxFileSize > 0 {
			return photo
		}
		clip := make([]byte, tail)
		if _, err := f.ReadAt(clip, s.Size-tail); err != nil {
			return photo
		}
		if in, err := video.Inspect(clip); err == nil && in.Length > 0 {
			return motionKind{kind: "Motion Photo", length: in.Length, then: play.BackToStill, tail: tail}
		}
	}
	return photo
}

// motionNote says why a slide of this motion kind shows as a still, if it
// does: a clip's, a Live Photo's and a Motion Photo's video need ffmpeg.
func motionNote(kind string, video bool) string {
	if video || kind == "" || kind == "photo" || kind == "animation" {
		return ""
	}
	return "its motion plays once ffmpeg is installed"
}

// mover plays the motion of one look's slides (a play.Mover).
type mover struct {
	f     *frames
	probe *probe
	fps   int
	max   time.Duration
}

func (m *mover) Moves(p play.Picture) play.Moves {
	if p.Pair.Name != "" {
		return play.Moves{}
	}
	k := m.probe.info(p.Slide)
	return play.Moves{Length: k.length, Then: k.then}
}

func (m *mover) Motion(ctx context.Context, p play.Picture, width int, each func([]byte, time.Duration) bool) error {
	k := m.f.frameKey(p.Slide, width)
	k.Caption = m.f.captionKey(p)
	mk := m.probe.info(p.Slide)
	var err error
	switch {
	case mk.live != "":
		var clip []byte
		if clip, err = m.probe.readUpTo(mk.live); err == nil {
			err = m.f.tr.PlayClip(ctx, k, clip, m.fps, m.max, each)
		}
	case mk.tail > 0:
		clip := make([]byte, mk.tail)
		var f *os.File
		if f, err = openRegular(m.probe.path(p.Slide.Name)); err == nil {
			_, err = f.ReadAt(clip, p.Slide.Size-mk.tail)
			f.Close()
		}
		if err == nil {
			err = m.f.tr.PlayClip(ctx, k, clip, m.fps, m.max, each)
		}
	default:
		err = m.f.tr.Animate(ctx, k, m.fps, m.max, each)
	}
	if errors.Is(err, decode.ErrNoMotion) {
		return nil
	}
	return err
}

// mover is the motion player of channel c in look lk: nil where slides
// show as stills (--motion stills or off, ?motion=stills).
func (s *server) mover(lk *looked, c play.Channel) play.Mover {
	if s.cfg.motion.mode != "auto" || c.Stills {
		return nil
	}
	return &mover{f: lk.frames, probe: s.probe, fps: s.cfg.motion.fps, max: s.cfg.motion.maxClip}
}

// openRegular opens a regular file for reading, and refuses anything else
// without waiting: a FIFO without a writer would block open(2) forever.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}
