package web

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"slidestream/play"
)

// A group writes for every stream that is in step at one width of one
// channel. Left to themselves, a thousand viewers of a channel are a
// thousand goroutines woken at each slide, each working out the same
// parts and writing them. Once a stream's loop has sent what the group
// has sent and is waiting for the same thing (see join), its goroutine
// hands the connection over and sleeps; the group's one loop works out
// each flush once and writes it to every member with a non-blocking
// writev(2), in parallel where there are many. A member whose socket
// cannot take a whole flush at once, or whose write fails, is handed
// back what is left of it and the group's place, and goes on alone: it
// sends the rest under its own write deadline (a stalled client is
// dropped as before) and joins again once it is back in step.
type group struct {
	cancel    context.CancelFunc
	obs       Observer
	handbacks *atomic.Int64 // members let go with the rest of a write, in all

	mu      sync.Mutex
	view    view // where every member is, once the last flush is sent
	members []*member
	closed  bool // the group's loop has ended or is ending
}

// groupKey is what a group's members share: the channel's timeline, the
// width, and the routing they were sent by (a rerouted stream finds its
// channel again on its own).
type groupKey struct {
	tl    *play.Timeline
	width int
	moved <-chan struct{}
}

// member is a stream whose writes a group makes.
type member struct {
	fd   syscall.RawConn
	sent int           // frames the group sent it
	back chan handback // where it learns it is on its own again
}

// handback is what a member takes back from its group: where it is in
// the timeline, what of the group's last flush it did not take, and how
// many frames the group sent it.
type handback struct {
	view view
	rest [][]byte
	sent int
}

// inStep is how far apart a joining stream's last whole frame and the
// group's may be: the stream's keep-alive is the group's from then on.
const inStep = 250 * time.Millisecond

// membersPerWriter is how many members one goroutine writes to at a
// flush; a bigger group is written by several, up to GOMAXPROCS.
const membersPerWriter = 128

// shareable reports whether a group may write for c.
func (c *conn) shareable() bool { return c.fd != nil && c.group == nil && c.err == nil }

// join hands c's stream, at v, to the group for key if the group is at v
// too, or to a new group if there is none, and waits until the stream
// is on its own again (the group ended or could not send a flush whole)
// or ctx ends. It reports false, at once, if the stream stays on its
// own. c's unsent pieces are what the group could not send.
func (h *Handler) join(ctx context.Context, key groupKey, c *conn, v view) (view, bool) {
	select {
	case <-ctx.Done():
		return v, false
	case <-key.moved:
		return v, false
	default:
	}
	m := &member{fd: c.fd, back: make(chan handback, 1)}
	h.groupsMu.Lock()
	g := h.groups[key]
	if g != nil {
		if joined, closed := g.add(m, v); !joined && !closed {
			h.groupsMu.Unlock()
			return v, false // not in step with it yet
		} else if closed {
			g = nil
		}
	}
	if g == nil {
		g = h.startGroup(key, v, m)
	}
	h.groupsMu.Unlock()

	var b handback
	select {
	case b = <-m.back:
	case <-ctx.Done():
		if g.leave(m) {
			c.sent += m.sent
			return v, true
		}
		b = <-m.back // the group let it go meanwhile
	}
	c.sent += b.sent
	c.bufs = append(c.bufs, b.rest...)
	return b.view, true
}

// add makes m a member if g is where v is; closed says g's loop is
// ending, and a new group is needed.
func (g *group) add(m *member, v view) (joined, closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false, true
	}
	if !g.view.shown.same(v.shown) || !g.view.pending.same(v.pending) {
		return false, false
	}
	if d := g.view.lastFull.Sub(v.lastFull); d > inStep || d < -inStep {
		return false, false
	}
	g.members = append(g.members, m)
	return true, false
}

// leave takes m out of g; false if g had let it go already. The last
// member to leave ends the group.
func (g *group) leave(m *member) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.members {
		if x == m {
			g.members = append(g.members[:i], g.members[i+1:]...)
			if len(g.members) == 0 {
				g.closed = true
				g.cancel()
			}
			return true
		}
	}
	return false
}

// startGroup starts a group at v with first as its member. Call it with
// h.groupsMu held.
func (h *Handler) startGroup(key groupKey, v view, first *member) *group {
	v.frames = max(v.frames, 2) // the first frame's rule is the stream's, not the group's
	ctx, cancel := context.WithCancel(context.Background())
	g := &group{cancel: cancel, obs: h.obs, handbacks: &h.handbacks, view: v, members: []*member{first}}
	h.groups[key] = g
	h.streams.Add(1)
	go func() {
		defer h.streams.Done()
		c := &conn{group: g, obs: h.obs}
		h.loop(ctx, key.tl, c, key.width, key.moved, v)
		cancel()
		h.groupsMu.Lock()
		if h.groups[key] == g {
			delete(h.groups, key)
		}
		h.groupsMu.Unlock()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.closed = true
		for _, m := range g.members {
			m.back <- handback{view: g.view, sent: m.sent}
		}
		g.members = nil
	}()
	return g
}

// send writes pieces, which hold frames, to every member, and moves the
// group to v. A member that cannot take them whole is let go with the
// rest.
func (g *group) send(pieces [][]byte, frames []sentFrame, v view) {
	total := 0
	for _, b := range pieces {
		total += len(b)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.view = v
	n := len(g.members)
	short := make([]bool, n) // members that did not take it all, by index
	writers := min((n+membersPerWriter-1)/membersPerWriter, runtime.GOMAXPROCS(0))
	if writers <= 1 {
		g.write(g.members, short, pieces, total, frames)
	} else {
		var wg sync.WaitGroup
		per := (n + writers - 1) / writers
		for i := 0; i < n; i += per {
			j := min(i+per, n)
			wg.Go(func() { g.write(g.members[i:j], short[i:j], pieces, total, frames) })
		}
		wg.Wait()
	}
	kept := g.members[:0]
	for i, m := range g.members {
		if !short[i] {
			kept = append(kept, m)
		}
	}
	clear(g.members[len(kept):])
	g.members = kept
}

// write sends pieces to each of ms, and for those that did not take them
// whole, hands back the rest and marks them in short.
func (g *group) write(ms []*member, short []bool, pieces [][]byte, total int, frames []sentFrame) {
	for i, m := range ms {
		// Counted as handed over, as a stream of its own counts them.
		m.sent += len(frames)
		tell(g.obs, frames)
		if n := writeNow(m.fd, pieces); n < total {
			short[i] = true
			g.handbacks.Add(1)
			m.back <- handback{view: g.view, rest: rest(pieces, n), sent: m.sent}
		}
	}
}

// rest is what of pieces follows their first n bytes, in a slice of its
// own (the pieces' bytes are shared, not copied).
func rest(pieces [][]byte, n int) [][]byte {
	var out [][]byte
	for _, b := range pieces {
		if n >= len(b) {
			n -= len(b)
			continue
		}
		out = append(out, b[n:])
		n = 0
	}
	return out
}
