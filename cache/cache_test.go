package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func bytesOf(n int, b byte) []byte { return []byte(strings.Repeat(string(b), n)) }

func TestLRUStaysWithinBytes(t *testing.T) {
	loads := 0
	c := New(Options{MaxBytes: 1000}, func(_ context.Context, k string) ([]byte, error) { loads++; return bytesOf(300, k[0]), nil })
	ctx := context.Background()
	get := func(k string) {
		t.Helper()
		v, err := c.Get(ctx, k)
		if err != nil || len(v) != 300 || v[0] != k[0] {
			t.Fatalf("Get(%q) = %d bytes, %v", k, len(v), err)
		}
	}
	get("a")
	get("b")
	get("c") // 900 bytes
	get("a") // a is now the most recent
	get("d") // 1200 > 1000: evicts b, the least recent
	s := c.Stats()
	if s.Bytes != 900 || s.Items != 3 || s.Evictions != 1 {
		t.Errorf("Stats = %+v; want 900 bytes in 3 items after 1 eviction", s)
	}
	if _, ok := c.Peek("b"); ok {
		t.Error("b is still cached; want it evicted as least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Peek(k); !ok {
			t.Errorf("%s was evicted; want b evicted", k)
		}
	}
	if s.Hits != 1 || s.Misses != 4 || loads != 4 {
		t.Errorf("hits %d misses %d loads %d; want 1, 4, 4", s.Hits, s.Misses, loads)
	}
}

func TestTooLargeIsServedNotKept(t *testing.T) {
	c := New(Options{MaxBytes: 100}, func(context.Context, string) ([]byte, error) { return bytesOf(101, 'x'), nil })
	v, err := c.Get(context.Background(), "big")
	if err != nil || len(v) != 101 {
		t.Fatalf("Get = %d bytes, %v", len(v), err)
	}
	if s := c.Stats(); s.Bytes != 0 || s.Items != 0 {
		t.Errorf("Stats = %+v; a value over MaxBytes must not be kept", s)
	}
}

func TestSingleFlight(t *testing.T) {
	var loads atomic.Int32
	release := make(chan struct{})
	c := New(Options{}, func(context.Context, string) ([]byte, error) {
		loads.Add(1)
		<-release
		return []byte("frame"), nil
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Get(context.Background(), "k")
			if err != nil || string(v) != "frame" {
				t.Errorf("Get = %q, %v", v, err)
			}
		}()
	}
	for c.Stats().Shared+c.Stats().Misses < 50 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("50 concurrent Gets ran the loader %d times; want 1", n)
	}
	if s := c.Stats(); s.Misses != 1 || s.Shared != 49 {
		t.Errorf("Stats = %+v; want 1 miss and 49 shared", s)
	}
}

func TestCallerLeavingDoesNotCancelOthers(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	c := New(Options{}, func(ctx context.Context, _ string) ([]byte, error) {
		close(started)
		select {
		case <-release:
			return []byte("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	first, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Get(first, "k"); errc <- err }()
	<-started
	second := make(chan string, 1)
	go func() {
		v, err := c.Get(context.Background(), "k") // joins the load under way
		if err != nil {
			second <- err.Error()
			return
		}
		second <- string(v)
	}()
	for c.Stats().Shared == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller got %v; want context.Canceled", err)
	}
	close(release)
	if v := <-second; v != "done" {
		t.Errorf("second caller got %q; want the loaded value", v)
	}
	if _, ok := c.Peek("k"); !ok {
		t.Error("the load finished after its starter left but was not cached")
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	n := 0
	c := New(Options{}, func(context.Context, string) ([]byte, error) {
		n++
		if n == 1 {
			return nil, errors.New("disk hiccup")
		}
		return []byte("ok"), nil
	})
	if _, err := c.Get(context.Background(), "k"); err == nil {
		t.Fatal("first Get succeeded; want the load error")
	}
	if v, err := c.Get(context.Background(), "k"); err != nil || string(v) != "ok" {
		t.Errorf("second Get = %q, %v; want a fresh load", v, err)
	}
	if s := c.Stats(); s.LoadErrs != 1 {
		t.Errorf("LoadErrs = %d; want 1", s.LoadErrs)
	}
}

func TestPanickingLoaderIsAnError(t *testing.T) {
	c := New(Options{}, func(context.Context, string) ([]byte, error) { panic("boom") })
	_, err := c.Get(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Get = %v; want the panic as an error", err)
	}
}

// When every caller has given up, the load's context ends, so a load still
// waiting for its turn can drop work nobody wants; its failure is not kept.
func TestLoadIsCancelledWhenEveryCallerLeaves(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	c := New(Options{}, func(ctx context.Context, _ string) ([]byte, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	})
	var cancels []context.CancelFunc
	errs := make(chan error, 2)
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		go func() { _, err := c.Get(ctx, "k"); errs <- err }()
	}
	<-started
	for c.Stats().Shared == 0 {
		time.Sleep(time.Millisecond)
	}
	cancels[0]()
	<-errs
	select {
	case <-ended:
		t.Fatal("the load was cancelled while a caller still waited")
	case <-time.After(50 * time.Millisecond):
	}
	cancels[1]()
	<-errs
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the load's context ended with %v; want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the load's context was not cancelled after every caller left")
	}
	for c.Stats().LoadErrs == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := c.Peek("k"); ok {
		t.Error("a cancelled load was cached")
	}
}

func TestHeldFramesCountInTheBound(t *testing.T) {
	c := New(Options{MaxBytes: 1000}, func(_ context.Context, k string) ([]byte, error) { return bytesOf(300, k[0]), nil })
	ctx := context.Background()
	a, _ := c.Get(ctx, "a")
	releaseA := c.Hold("a", a) // the slide on screen
	c.Get(ctx, "b")
	c.Get(ctx, "c")
	// A crossfade's frames, which are not cached, need 400 bytes: b, the
	// least recent entry not held, makes room; a is pinned.
	releaseFade := c.Hold("", bytesOf(400, 'f'))
	if _, ok := c.Peek("a"); !ok {
		t.Fatal("the held entry a was evicted")
	}
	if _, ok := c.Peek("b"); ok {
		t.Error("b is still cached; want it evicted to make room for the held bytes")
	}
	if s := c.Stats(); s.Bytes != 1000 || s.Held != 700 {
		t.Errorf("Stats = %+v; want 1000 bytes, 700 of them held", s)
	}
	// More loads evict around the pinned entry, never it.
	for _, k := range []string{"d", "e", "g"} {
		c.Get(ctx, k)
		if _, ok := c.Peek("a"); !ok {
			t.Fatalf("after loading %s the held entry a was evicted", k)
		}
		if s := c.Stats(); s.Bytes > 1000 {
			t.Fatalf("after loading %s: %d bytes against a bound of 1000", k, s.Bytes)
		}
	}
	releaseFade()
	releaseFade() // a second release changes nothing
	releaseA()
	if s := c.Stats(); s.Held != 0 || s.Bytes > 1000 {
		t.Errorf("after release: Stats = %+v; want nothing held", s)
	}
}

func TestHoldPutsBackAnEvictedFrame(t *testing.T) {
	c := New(Options{MaxBytes: 600}, func(_ context.Context, k string) ([]byte, error) { return bytesOf(300, k[0]), nil })
	ctx := context.Background()
	a, _ := c.Get(ctx, "a")
	c.Get(ctx, "b")
	c.Get(ctx, "c") // evicts a, which a slot still keeps
	release := c.Hold("a", a)
	if _, ok := c.Peek("a"); !ok {
		t.Fatal("Hold did not count the evicted frame a slot keeps")
	}
	if s := c.Stats(); s.Bytes != 600 || s.Held != 300 {
		t.Errorf("Stats = %+v; want 600 bytes, 300 held", s)
	}
	release()
	if _, ok := c.Peek("a"); ok {
		t.Error("a frame that Hold put back stayed after its release")
	}
	if s := c.Stats(); s.Bytes != 300 || s.Held != 0 {
		t.Errorf("after release: Stats = %+v; want 300 bytes, none held", s)
	}
}

func TestJoinSeesTheLoadAndTheCaller(t *testing.T) {
	type tag struct{}
	release := make(chan struct{})
	var joined []string
	var mu sync.Mutex
	c := New(Options{Join: func(load, caller context.Context) {
		mu.Lock()
		joined = append(joined, fmt.Sprint(load.Value(tag{}), "<-", caller.Value(tag{})))
		mu.Unlock()
	}}, func(ctx context.Context, k string) ([]byte, error) { <-release; return []byte(k), nil })
	started := make(chan struct{})
	go func() {
		close(started)
		c.Get(context.WithValue(context.Background(), tag{}, "first"), "k")
	}()
	<-started
	for c.Stats().Misses == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { c.Get(context.WithValue(context.Background(), tag{}, "second"), "k"); close(done) }()
	for c.Stats().Shared == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done
	c.Get(context.WithValue(context.Background(), tag{}, "third"), "k") // a hit joins nothing
	if fmt.Sprint(joined) != "[first<-second]" {
		t.Errorf("Join saw %v; want the second caller joining the first's load, once", joined)
	}
}

// A caller who comes after every caller of a load has left, while the
// cancelled load is still winding down, gets a load of its own, not the
// cancellation.
func TestAnAbandonedLoadIsNotJoined(t *testing.T) {
	var calls atomic.Int32
	windDown := make(chan struct{})
	cancelled := make(chan struct{})
	c := New(Options{}, func(ctx context.Context, k string) ([]byte, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done()
			close(cancelled)
			<-windDown
			return nil, ctx.Err()
		}
		return []byte(k), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Get(ctx, "k"); close(done) }()
	for c.Stats().Misses == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	<-cancelled
	got := make(chan error, 1)
	go func() {
		b, err := c.Get(context.Background(), "k")
		if err == nil && string(b) != "k" {
			err = fmt.Errorf("got %q", b)
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the caller after an abandoned load got %v; want the value", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller after an abandoned load waited for it to wind down")
	}
	close(windDown)
	time.Sleep(10 * time.Millisecond)
	if v, ok := c.Peek("k"); !ok || string(v) != "k" {
		t.Errorf("cached %q, %v after the abandoned load ended; want the new load's value kept", v, ok)
	}
}
