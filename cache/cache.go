// Package cache keeps encoded frames in memory, bounded in bytes, and makes
// sure each one is produced once however many callers want it at the same
// time.
//
// The cache knows nothing about images: it maps string keys to byte slices
// and calls the Loader it was made with on a miss. The caller puts everything
// that shapes the bytes into the key (file, file version, width, quality,
// background), so a changed input is simply a new key and stale entries age
// out of the LRU.
package cache

import (
	"container/list"
	"context"
	"fmt"
	"sync"
)

// DefaultMaxBytes is the size bound used when Options.MaxBytes is zero.
const DefaultMaxBytes = 256 << 20

// A Loader produces the bytes for a key on a miss. Its context is not
// cancelled when the caller that started it gives up, because other callers
// may be waiting for the same result; it is cancelled once every caller has
// given up, so that a Loader still waiting for its turn can drop the work.
// Bounding how many loads run at once is the Loader's business.
type Loader func(ctx context.Context, key string) ([]byte, error)

// Options configures a Cache. The zero value means a 256 MiB bound.
type Options struct {
	// MaxBytes bounds the total size of the cached values (--cache-size).
	MaxBytes int64
	// Join, when set, is called when a caller joins a load another caller
	// started, with the load's context and the joining caller's: a loader
	// that queues work can move the load up for a caller who needs it
	// sooner.
	Join func(load, caller context.Context)
	// KeepNothing makes the cache only share loads between the callers
	// of one key, and cancel a load once they have all left; another
	// store keeps the values (fleet mode's groupcache).
	KeepNothing bool
}

// Stats are counters since the cache was made.
type Stats struct {
	Hits      int64 // Get found the bytes cached
	Shared    int64 // Get joined a load another caller had started
	Misses    int64 // Get started a load
	LoadErrs  int64 // loads that failed (their errors are not cached)
	Evictions int64 // entries dropped to stay within MaxBytes
	// Bytes is what counts against the bound: the cached values and
	// the frames held beside them (Hold).
	Bytes int64
	// Held is the part of Bytes that Hold keeps: pinned entries and
	// frames that are not cached.
	Held     int64
	Items    int   // current number of entries
	MaxBytes int64 // the bound
}

// Cache is a byte-bounded LRU with single-flight loading. It is safe for
// concurrent use.
type Cache struct {
	maxBytes int64
	load     Loader
	join     func(load, caller context.Context)
	keep     bool

	mu    sync.Mutex // protects everything below
	ll    *list.List // front is most recently used; values are *entry
	items map[string]*list.Element
	calls map[string]*call
	stats Stats
}

type entry struct {
	key string
	val []byte
	// pins counts the Holds on this entry; a pinned entry is not evicted.
	pins int
	// held is set when Hold put the entry here (it had been evicted, or
	// was never kept): it goes with its last Hold.
	held bool
}

// call is one load in progress; done closes when val and err are set.
type call struct {
	ctx     context.Context // the load's
	done    chan struct{}
	val     []byte
	err     error
	waiters int                // callers still waiting; c.mu protects it
	cancel  context.CancelFunc // ends the load's context
	// abandoned is set, under c.mu, once every caller has left and the
	// load was cancelled.
	abandoned bool
}

// New returns an empty cache that calls load on a miss.
func New(o Options, load Loader) *Cache {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return &Cache{
		maxBytes: o.MaxBytes,
		load:     load,
		join:     o.Join,
		keep:     !o.KeepNothing,
		ll:       list.New(),
		items:    make(map[string]*list.Element),
		calls:    make(map[string]*call),
	}
}

// Get returns the bytes for key, calling the Loader on a miss. Concurrent
// calls for the same key share one load. If ctx ends first, Get returns
// ctx.Err(); the load runs on for the callers still waiting and its result
// is cached for the next caller. When the last caller leaves, the load's
// context is cancelled.
// The returned slice must not be modified.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		c.stats.Hits++
		c.mu.Unlock()
		return el.Value.(*entry).val, nil
	}
	cl, ok := c.calls[key]
	if ok && cl.abandoned {
		// Every caller of that load left and it was cancelled: it
		// cannot give this caller anything but the cancellation.
		ok = false
	}
	if ok {
		c.stats.Shared++
	} else {
		c.stats.Misses++
		// The load keeps the starter's values but not its cancellation:
		// it ends only when nobody waits any more.
		loadCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call{ctx: loadCtx, done: make(chan struct{}), cancel: cancel}
		c.calls[key] = cl
		go c.run(loadCtx, key, cl)
	}
	cl.waiters++
	c.mu.Unlock()
	if ok && c.join != nil {
		c.join(cl.ctx, ctx)
	}

	select {
	case <-cl.done:
		return cl.val, cl.err
	case <-ctx.Done():
		c.mu.Lock()
		if cl.waiters--; cl.waiters == 0 {
			cl.abandoned = true
			cl.cancel()
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Peek returns the cached bytes for key without loading or waiting, and
// without counting a hit or a miss.
func (c *Cache) Peek(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		return el.Value.(*entry).val, true
	}
	return nil, false
}

// Hold counts val, the bytes a caller keeps for key, against the bound
// until release is called, so that one bound covers the frames cached and
// those held beside the cache (the slides on screen, a crossfade's frames).
// The entry for key is pinned meanwhile: it is not evicted, and is put
// back if it had been. With key "" the bytes are counted without being
// cached. Other entries are evicted to make room; pinned bytes alone may
// exceed the bound, since they are in memory either way. release may be
// called more than once.
func (c *Cache) Hold(key string, val []byte) (release func()) {
	size := int64(len(val))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Held += size
	if key == "" {
		c.stats.Bytes += size
		c.evict()
		return sync.OnceFunc(func() {
			c.mu.Lock()
			c.stats.Bytes -= size
			c.stats.Held -= size
			c.mu.Unlock()
		})
	}
	el, ok := c.items[key]
	if !ok {
		el = c.ll.PushFront(&entry{key: key, val: val, held: true})
		c.items[key] = el
		c.stats.Bytes += size
	}
	e := el.Value.(*entry)
	e.pins++
	c.evict()
	return sync.OnceFunc(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.stats.Held -= size
		if e.pins--; e.pins > 0 {
			return
		}
		if e.held {
			c.remove(el)
			return
		}
		c.evict()
	})
}

func (c *Cache) run(ctx context.Context, key string, cl *call) {
	func() {
		defer func() {
			if p := recover(); p != nil {
				cl.err = fmt.Errorf("cache: loading %q panicked: %v", key, p)
			}
		}()
		cl.val, cl.err = c.load(ctx, key)
	}()
	cl.cancel()

	c.mu.Lock()
	if c.calls[key] == cl { // not replaced after it was cancelled
		delete(c.calls, key)
	}
	if cl.err != nil {
		c.stats.LoadErrs++
	} else {
		c.add(key, cl.val)
	}
	c.mu.Unlock()
	close(cl.done)
}

// add stores val and evicts from the back until the bound holds. A value
// larger than the whole cache is returned to its callers but not kept.
// c.mu must be held.
func (c *Cache) add(key string, val []byte) {
	size := int64(len(val))
	if size > c.maxBytes || !c.keep {
		return
	}
	if el, ok := c.items[key]; ok { // Hold put it back while it loaded
		el.Value.(*entry).held = false // now it is cached like any other
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&entry{key: key, val: val})
	c.stats.Bytes += size
	c.evict()
}

// evict drops the least recently used entries that are not pinned until
// the bound holds or only pinned ones are left. c.mu must be held.
func (c *Cache) evict() {
	for el := c.ll.Back(); el != nil && c.stats.Bytes > c.maxBytes; {
		prev := el.Prev()
		if el.Value.(*entry).pins == 0 {
			c.remove(el)
			c.stats.Evictions++
		}
		el = prev
	}
}

// remove drops an entry. c.mu must be held.
func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.stats.Bytes -= int64(len(e.val))
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Items = c.ll.Len()
	s.MaxBytes = c.maxBytes
	return s
}
