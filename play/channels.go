package play

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Channel names one slideshow: which photos (an album, "" for all), in
// which order, how fast. Every client asking for the same channel sees the
// same slide at the same time.
type Channel struct {
	Album    string
	Order    string
	Interval time.Duration
	// Taken selects by the date taken (source.ParseTaken: "this-day",
	// a range, "last-90d"; "" for all), Days widening this-day.
	Taken string
	Days  int
	// Look names a presentation other than the flags' (a screen's:
	// its frame size, fill, caption, fades, sleep hours), "" for the
	// flags'. Screens of one channel and one look share a timeline.
	Look string
	// Stills shows every slide still, animations as their first frame
	// (?motion=stills).
	Stills bool
}

func (c Channel) String() string {
	s := fmt.Sprintf("album=%q order=%s interval=%v", c.Album, c.Order, c.Interval)
	if c.Taken != "" {
		s += fmt.Sprintf(" taken=%s days=%d", c.Taken, c.Days)
	}
	if c.Look != "" {
		s += fmt.Sprintf(" look=%q", c.Look)
	}
	if c.Stills {
		s += " motion=stills"
	}
	return s
}

// Errors a channel cannot be had for.
var (
	// ErrNoAlbum: the album asked for is no subfolder of the folder.
	ErrNoAlbum = errors.New("no such album")
	// ErrTooManyChannels: every channel the limit allows has clients.
	ErrTooManyChannels = errors.New("too many channels")
)

var errNotServing = errors.New("the server is not serving")

// Interval limits for ?interval=.
const (
	MinInterval = time.Second
	MaxInterval = 24 * time.Hour
)

// ChannelsOptions configures Channels.
type ChannelsOptions struct {
	// Default is the channel a URL without album, order and interval asks
	// for; its timeline always runs.
	Default Channel
	// New makes the timeline of a channel, not yet running, or says why
	// it cannot (an error wrapping ErrNoAlbum for an unknown album).
	New func(Channel) (*Timeline, error)
	// Max bounds the channels running besides the default one.
	Max int
	// PerClient bounds the channels one client address starts that run at
	// once (default half of Max, at least 1), so that one address holding
	// streams open cannot take every channel from the real screens. IPv6
	// addresses count by their /64 network, which one host often has all
	// of.
	PerClient int
	// Linger is how long a channel runs on after its last client leaves
	// (default 1m), so a screen that reconnects or polls snapshots finds
	// it where it was.
	Linger time.Duration
	Log    *slog.Logger
}

// Channels runs a timeline for each channel clients ask for: it starts on
// the first client and stops Linger after the last one leaves. At most Max
// run at once besides the default; when all have clients, one more is
// refused. It is safe for concurrent use.
type Channels struct {
	o   ChannelsOptions
	def *Timeline

	// life is the context channels run in: it exists from the start, so
	// a client arriving before Serve is called is not refused, and ends
	// when Serve's context does.
	life context.Context
	end  context.CancelFunc

	mu   sync.Mutex // protects open
	open map[Channel]*running
	// runs are the timelines running, which Serve waits for. They are
	// only added to while life lasts, under mu.
	runs sync.WaitGroup
}

type running struct {
	tl      *Timeline
	by      string // the client address that started it
	stop    context.CancelFunc
	clients int
	idle    *time.Timer // stops it, once it has no clients
	since   time.Time   // when it last lost its last client
}

// NewChannels returns the channels besides def, the default channel's
// timeline, which the caller runs. Channels may be acquired before Serve
// is called; they stop when its context ends.
func NewChannels(def *Timeline, o ChannelsOptions) *Channels {
	if o.Linger <= 0 {
		o.Linger = time.Minute
	}
	if o.PerClient <= 0 {
		o.PerClient = max(1, o.Max/2)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	life, end := context.WithCancel(context.Background())
	return &Channels{o: o, def: def, life: life, end: end, open: map[Channel]*running{}}
}

// Default returns the default channel and its timeline.
func (cs *Channels) Default() (Channel, *Timeline) { return cs.o.Default, cs.def }

// Serve lets channels run until ctx ends, then stops them all and
// returns once every timeline has stopped.
func (cs *Channels) Serve(ctx context.Context) {
	<-ctx.Done()
	cs.end()
	cs.mu.Lock()
	for c, r := range cs.open {
		r.stop()
		delete(cs.open, c)
	}
	cs.mu.Unlock()
	cs.runs.Wait()
}

// Running returns the number of channels running besides the default.
func (cs *Channels) Running() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.open)
}

// Acquire returns the timeline of channel c for a client at address
// (host and port, as http.Request.RemoteAddr has it), starting it if need
// be, and a function to call when the client leaves. A new channel needs
// room: under Max in all and under PerClient of those the address
// started; a channel without clients makes room, one the address started
// itself first.
func (cs *Channels) Acquire(c Channel, address string) (*Timeline, func(), error) {
	if c == cs.o.Default {
		return cs.def, func() {}, nil
	}
	by := clientOf(address)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	r := cs.open[c]
	if r == nil {
		if cs.life.Err() != nil {
			return nil, nil, errNotServing
		}
		// Made without the lock: an album's timeline may wait seconds for
		// the folder's first listing, and meanwhile other channels and
		// every /metrics scrape must be answered. An unknown album says
		// so, whatever the limit.
		cs.mu.Unlock()
		tl, err := cs.o.New(c)
		cs.mu.Lock()
		if err != nil {
			return nil, nil, err
		}
		if r = cs.open[c]; r == nil { // else another client started it meanwhile
			if cs.life.Err() != nil {
				return nil, nil, errNotServing
			}
			if err := cs.makeRoom(by); err != nil {
				return nil, nil, err
			}
			ctx, stop := context.WithCancel(cs.life)
			cs.runs.Go(func() { tl.Run(ctx) })
			r = &running{tl: tl, stop: stop, by: by}
			cs.open[c] = r
			cs.o.Log.Info("channel started", "channel", c.String(), "by", by, "channels", len(cs.open))
		}
	}
	r.clients++
	if r.idle != nil {
		r.idle.Stop()
		r.idle = nil
	}
	return r.tl, sync.OnceFunc(func() { cs.release(c, r) }), nil
}

// makeRoom makes room for one more channel started by the client by:
// under Max, then under its own bound, stopping a channel without
// clients where need be (one by started itself, else the one idle
// longest). cs.mu must be held.
func (cs *Channels) makeRoom(by string) error {
	mine := cs.startedBy(by)
	if len(cs.open) >= cs.o.Max {
		if !cs.evictIdle(by, false) {
			return fmt.Errorf("%w: %d run besides the default one, each with clients (--max-channels %d)",
				ErrTooManyChannels, len(cs.open), cs.o.Max)
		}
		mine = cs.startedBy(by)
	}
	if mine >= cs.o.PerClient && !cs.evictIdle(by, true) {
		return fmt.Errorf("%w: %s started %d that have clients, the most one address may start (--max-channels-per-client %d)",
			ErrTooManyChannels, by, mine, cs.o.PerClient)
	}
	return nil
}

// startedBy counts the channels running that by started. cs.mu must be
// held.
func (cs *Channels) startedBy(by string) int {
	n := 0
	for _, r := range cs.open {
		if r.by == by {
			n++
		}
	}
	return n
}

// clientOf is the client a remote address counts as: its IP, or for IPv6
// its /64 network.
func clientOf(address string) string {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (cs *Channels) release(c Channel, r *running) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if r.clients--; r.clients > 0 {
		return
	}
	r.since = time.Now()
	r.idle = time.AfterFunc(cs.o.Linger, func() {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if r.clients == 0 && cs.open[c] == r {
			cs.stop(c, r, "no clients")
		}
	})
}

// evictIdle stops a channel without clients to make room: one that by
// started if there is one (the one idle longest), else, unless onlyBy,
// the one idle longest. cs.mu must be held.
func (cs *Channels) evictIdle(by string, onlyBy bool) bool {
	var oldest Channel
	var best *running
	better := func(r *running) bool {
		switch {
		case best == nil:
			return true
		case (r.by == by) != (best.by == by):
			return r.by == by
		}
		return r.since.Before(best.since)
	}
	for c, r := range cs.open {
		if r.clients == 0 && (!onlyBy || r.by == by) && better(r) {
			oldest, best = c, r
		}
	}
	if best == nil {
		return false
	}
	cs.stop(oldest, best, "its place was needed")
	return true
}

func (cs *Channels) stop(c Channel, r *running, why string) {
	if r.idle != nil {
		r.idle.Stop()
	}
	r.stop()
	delete(cs.open, c)
	cs.o.Log.Info("channel stopped", "channel", c.String(), "reason", why, "channels", len(cs.open))
}
