package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"slidestream/decode"
	"slidestream/play"
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

// probe remembers how long each version of a file moves, so that a slide
// shown again is not read again to know it.
type probe struct {
	dir string
	lim decode.Limits
	mu  sync.Mutex
	// known is by file version; cleared when full.
	known map[string]decode.MotionInfo
}

const maxProbed = 4096

// info reads how a slide moves: only GIFs and WebPs are read (up to
// --max-file-size), every other file is a still without being opened.
func (p *probe) info(name string, size int64, mod time.Time) decode.MotionInfo {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".gif", ".webp":
	default:
		return decode.MotionInfo{}
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", name, size, mod.UnixNano())
	p.mu.Lock()
	m, ok := p.known[key]
	p.mu.Unlock()
	if ok {
		return m
	}
	lim := p.lim.MaxFileSize
	if lim <= 0 {
		lim = decode.DefaultMaxFileSize
	}
	if size > lim {
		return decode.MotionInfo{}
	}
	b, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(name)))
	if err == nil && int64(len(b)) == size {
		m = decode.Motion(b)
	}
	p.mu.Lock()
	if p.known == nil || len(p.known) >= maxProbed {
		p.known = map[string]decode.MotionInfo{}
	}
	p.known[key] = m
	p.mu.Unlock()
	return m
}

// mover plays the motion of one look's slides (a play.Mover).
type mover struct {
	f     *frames
	probe *probe
	fps   int
}

func (m *mover) Moves(p play.Picture) time.Duration {
	if p.Pair.Name != "" {
		return 0
	}
	return m.probe.info(p.Slide.Name, p.Slide.Size, p.Slide.ModTime).Length
}

func (m *mover) Motion(ctx context.Context, p play.Picture, width int, each func([]byte, time.Duration) bool) error {
	k := m.f.frameKey(p.Slide, width)
	k.Caption = m.f.captionKey(p)
	err := m.f.tr.Animate(ctx, k, m.fps, each)
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
	return &mover{f: lk.frames, probe: s.probe, fps: s.cfg.motion.fps}
}
