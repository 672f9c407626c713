package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"slidestream/decode"
	"slidestream/internal/urgent"
	"slidestream/source"
)

// writePNG writes a w×h PNG of noise, so that decoding it takes a while.
func writePNG(t testing.TB, path string, w, h int) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256)) | 0x03
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keyOf is the key of the file's current version at width.
func keyOf(t testing.TB, dir, name string, width int) Key {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return Key{Name: name, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Width: width, Quality: 80,
		Background: color.RGBA{A: 255}}
}

// reports collects what a Transcoder observes.
type reports struct {
	mu  sync.Mutex
	all []Report
}

func (r *reports) add(rep Report) { r.mu.Lock(); r.all = append(r.all, rep); r.mu.Unlock() }
func (r *reports) count() int     { r.mu.Lock(); defer r.mu.Unlock(); return len(r.all) }

func TestLoadMakesTheFrame(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 400, 300)
	var seen reports
	tr := New(Options{Dir: dir, Observe: seen.add})
	b, err := tr.Load(context.Background(), keyOf(t, dir, "a.png", 200))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 200 || cfg.Height != 150 {
		t.Errorf("Load = %dx%d JPEG (%v); want 200x150", cfg.Width, cfg.Height, err)
	}
	if seen.count() != 1 || seen.all[0].Header.Format != decode.PNG || seen.all[0].Header.Width != 400 || seen.all[0].Took <= 0 {
		t.Errorf("reports = %+v; want one, of a 400-wide PNG", seen.all)
	}
}

// A key names a version: a file replaced since is refused, not kept under
// the old version's key, and not remembered as bad either.
func TestLoadRefusesAnotherVersion(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	writePNG(t, p, 64, 48)
	old := keyOf(t, dir, "a.png", 32)
	writePNG(t, p, 80, 48)
	os.Chtimes(p, time.Now(), time.Now().Add(time.Second))
	tr := New(Options{Dir: dir})
	_, err := tr.Load(context.Background(), old)
	if err == nil || !strings.Contains(err.Error(), "not the version asked for") {
		t.Fatalf("Load(old version) = %v; want a refusal", err)
	}
	if _, err := tr.Load(context.Background(), keyOf(t, dir, "a.png", 32)); err != nil {
		t.Errorf("Load(new version) = %v", err)
	}
}

// A file that cannot be shown is decoded once per version, however often
// it is asked for; a file that cannot be read now is tried again.
func TestLastingFailuresAreRemembered(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.png"), []byte("shopping list\n"), 0o644)
	var seen reports
	tr := New(Options{Dir: dir, Observe: seen.add})
	k := keyOf(t, dir, "notes.png", 100)
	for range 3 {
		if _, err := tr.Load(context.Background(), k); !errors.Is(err, decode.ErrUnknownFormat) {
			t.Fatalf("Load = %v; want ErrUnknownFormat", err)
		}
	}
	if n := seen.count(); n != 1 {
		t.Errorf("3 loads of a bad file read it %d times; want once", n)
	}
	// The reason names the file as the key does, never the folder, so
	// that it can be shown to peers and on pages.
	_, err := tr.Load(context.Background(), k)
	if !strings.HasPrefix(err.Error(), "notes.png: ") || strings.Contains(err.Error(), dir) {
		t.Errorf("Load error = %q; want it to name notes.png, not the folder", err)
	}
	os.Chmod(filepath.Join(dir, "notes.png"), 0)
	if os.Getuid() != 0 { // root reads it anyway
		k2 := keyOf(t, dir, "notes.png", 200)
		tr.Load(context.Background(), k2)
		tr.Load(context.Background(), k2)
		if n := seen.count(); n != 3 {
			t.Errorf("an unreadable file was tried %d times in 2 loads; want each load to try", n-1)
		}
	}
}

// Workers is the one bound on transcodes running at once. (Eight
// different photos: loads of one photo share its decode, and only one of
// them runs.)
func TestWorkersBoundConcurrency(t *testing.T) {
	dir := t.TempDir()
	for w := range 8 {
		writePNG(t, filepath.Join(dir, fmt.Sprintf("a%d.png", w)), 800+w, 600)
	}
	tr := New(Options{Dir: dir, Workers: 2})
	var wg sync.WaitGroup
	var peak atomic.Int32
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if n := tr.running.Load(); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := tr.Load(context.Background(), keyOf(t, dir, fmt.Sprintf("a%d.png", w), 100)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(done)
	if p := peak.Load(); p != 2 {
		t.Errorf("peak transcodes at once = %d; want 2 (Workers)", p)
	}
}

// A decode that needs more than the whole budget still runs, alone.
func TestMemoryBudgetLetsALargeDecodeRunAlone(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 300, 200)
	tr := New(Options{Dir: dir, Memory: 1024})
	if _, err := tr.Load(context.Background(), keyOf(t, dir, "a.png", 64)); err != nil {
		t.Fatalf("Load with a budget smaller than the file: %v", err)
	}
}

// A caller that gives up while waiting for a worker leaves at once.
func TestLoadWaitingForAWorkerCanBeCancelled(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 64, 48)
	tr := New(Options{Dir: dir, Workers: 1})
	tr.workers.acquire(context.Background(), false) // the one worker is busy
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := tr.Load(ctx, keyOf(t, dir, "a.png", 32)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load = %v; want the caller's deadline", err)
	}
}

// queue is a transcoder with one worker, busy, and loads of one picture
// that wait in line for it, known by their widths.
type queue struct {
	t   *testing.T
	tr  *Transcoder
	dir string
	wg  sync.WaitGroup

	mu     sync.Mutex
	order  []int // the widths, in the order they were transcoded
	shared []int // the widths made from another load's decode
	frames map[int][]byte
}

func newQueue(t *testing.T) *queue {
	q := &queue{t: t, dir: t.TempDir(), frames: map[int][]byte{}}
	writePNG(t, filepath.Join(q.dir, "a.png"), 64, 48)
	q.tr = New(Options{Dir: q.dir, Workers: 1, Observe: func(r Report) {
		q.mu.Lock()
		q.order = append(q.order, r.Key.Width)
		if r.Shared {
			q.shared = append(q.shared, r.Key.Width)
		}
		q.mu.Unlock()
	}})
	q.tr.workers.acquire(context.Background(), false) // the one worker is busy
	return q
}

// waitFor polls the line until ok holds.
func (q *queue) waitFor(what string, ok func(g *gate) bool) {
	for n := 0; n < 1000; n++ {
		q.tr.workers.mu.Lock()
		done := ok(q.tr.workers)
		q.tr.workers.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond)
	}
	q.t.Fatal(what)
}

// load starts a load at width and returns once it is the waiting-th in
// line.
func (q *queue) load(ctx context.Context, width, waiting int) { q.loadOf(ctx, "a.png", width, waiting) }

// apart is load of a file of its own (named by the width): the first
// load to decode would otherwise make the frames of the others waiting
// for the same picture, in its own order, and the order of the line
// would not show.
func (q *queue) apart(ctx context.Context, width, waiting int) {
	name := fmt.Sprintf("w%d.png", width)
	writePNG(q.t, filepath.Join(q.dir, name), 64, 48)
	q.loadOf(ctx, name, width, waiting)
}

// loadOf is load of another file of q.dir.
func (q *queue) loadOf(ctx context.Context, name string, width, waiting int) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		b, err := q.tr.Load(ctx, keyOf(q.t, q.dir, name, width))
		if err != nil {
			q.t.Errorf("%s at %d: %v", name, width, err)
		}
		q.mu.Lock()
		q.frames[width] = b
		q.mu.Unlock()
	}()
	q.waitFor(fmt.Sprintf("load at %d did not queue", width), func(g *gate) bool { return len(g.urgent)+len(g.normal) == waiting })
}

// run frees the worker and returns the widths in the order they ran.
func (q *queue) run() string {
	q.tr.workers.release()
	q.wg.Wait()
	return fmt.Sprint(q.order)
}

// Urgent loads (the slide on screen, the next one) take the next free
// worker before loads that were waiting longer.
func TestUrgentLoadsGoFirst(t *testing.T) {
	q := newQueue(t)
	q.apart(context.Background(), 21, 1)
	q.apart(context.Background(), 32, 2)
	q.apart(urgent.Mark(context.Background()), 43, 3)
	if got := q.run(); got != "[43 21 32]" {
		t.Errorf("loads ran in the order %v (by width); want the urgent 43 first, then 21 and 32 as they came", got)
	}
}

// A load that waits in the normal line (a width a client asked for) moves
// to the urgent line when the timeline comes to want the same frame now.
func TestPromotedLoadGoesFirst(t *testing.T) {
	q := newQueue(t)
	q.apart(context.Background(), 21, 1)
	later := Promotable(context.Background())
	q.apart(later, 32, 2)
	q.apart(urgent.Mark(context.Background()), 43, 3)
	Promote(context.WithoutCancel(later)) // as the cache sees it: derived
	q.waitFor("the promoted load did not move", func(g *gate) bool { return len(g.urgent) == 2 })
	if got := q.run(); got != "[43 32 21]" {
		t.Errorf("loads ran in the order %v (by width); want the urgent 43, then the promoted 32, then 21", got)
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "big.png"), 1200, 1000)
	tr := New(Options{Dir: dir, Limits: decode.Limits{MaxPixels: 1e6}})
	st, _ := os.Stat(filepath.Join(dir, "big.png"))
	if m, err := tr.Inspect(source.Slide{Name: "big.png", Size: st.Size(), ModTime: st.ModTime()}); !errors.Is(err, decode.ErrTooManyPixels) || m.Width != 0 ||
		strings.Contains(err.Error(), dir) || !Lasting(err) {
		t.Errorf("Inspect(big.png) = %+v, %v; want too many pixels, naming the file without the folder", m, err)
	}
	writePNG(t, filepath.Join(dir, "ok.png"), 30, 20)
	st, _ = os.Stat(filepath.Join(dir, "ok.png"))
	if m, err := tr.Inspect(source.Slide{Name: "ok.png", Size: st.Size(), ModTime: st.ModTime()}); err != nil || m.Format != string(decode.PNG) || m.Width != 30 || !m.Taken.IsZero() {
		t.Errorf("Inspect(ok.png) = %+v, %v; want a 30-wide PNG without a date", m, err)
	}
	if m, err := tr.Inspect(source.Slide{Name: "ok.png", Size: st.Size() + 1, ModTime: st.ModTime()}); err == nil || Lasting(err) {
		t.Errorf("Inspect of another version = %+v, %v; want a failure that passes", m, err)
	}
}

func ExampleTranscoder_Load() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1600, 1000)))
	os.WriteFile(filepath.Join(dir, "photo.png"), b.Bytes(), 0o644)
	st, _ := os.Stat(filepath.Join(dir, "photo.png"))

	tr := New(Options{Dir: dir, Workers: 2})
	k := Key{Name: "photo.png", Size: st.Size(), ModTime: st.ModTime().UnixNano(), Width: 640, Quality: 80}
	frame, err := tr.Load(context.Background(), k)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(frame))
	fmt.Printf("%dx%d JPEG\n", cfg.Width, cfg.Height)
	fmt.Println(k.String()[:len("f3/640x0/q80/000000/color/-/-/-")])
	// Output:
	// 640x400 JPEG
	// f3/640x0/q80/000000/color/-/-/-
}

// Frames of one photo wanted at once share one decode, made at the scale
// the largest of them needs: the large frame is the one it would be alone.
func TestWidthsWantedTogetherShareOneDecode(t *testing.T) {
	q := newQueue(t)
	m := image.NewRGBA(image.Rect(0, 0, 1000, 750))
	for i := range m.Pix {
		m.Pix[i] = uint8(i/4%251) ^ uint8(i/4000)
	}
	var b bytes.Buffer
	jpeg.Encode(&b, m, &jpeg.Options{Quality: 90})
	if err := os.WriteFile(filepath.Join(q.dir, "b.jpg"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	q.loadOf(context.Background(), "b.jpg", 160, 1) // alone it would decode at 1/2
	q.loadOf(context.Background(), "b.jpg", 640, 2)
	if got := q.run(); got != "[160 640]" {
		t.Errorf("loads ran in the order %v", got)
	}
	if fmt.Sprint(q.shared) != "[640]" {
		t.Errorf("frames made from another load's decode, by width: %v; want [640], from the 160 load's", q.shared)
	}
	alone := New(Options{Dir: q.dir})
	for _, w := range []int{160, 640} {
		want, err := alone.Load(context.Background(), keyOf(t, q.dir, "b.jpg", w))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := jpeg.Decode(bytes.NewReader(q.frames[w]))
		ref, _ := jpeg.Decode(bytes.NewReader(want))
		if got == nil || got.Bounds() != ref.Bounds() {
			t.Fatalf("the %d frame is %v; want %v", w, got, ref.Bounds())
		}
		if w == 640 && !bytes.Equal(q.frames[w], want) {
			t.Errorf("the 640 frame differs from the one made alone; want the decode at the scale it needs")
		}
	}
	if len(q.tr.loads) != 0 {
		t.Errorf("%d file versions still tracked after every load ended", len(q.tr.loads))
	}
	if !q.tr.memory.TryAcquire(q.tr.budget) {
		t.Error("the decode budget was not all given back")
	}
}

// A running transcode may spread its resize over the turns nobody is
// using, and only those: never more than are free, and a load that comes
// meanwhile gets a turn as soon as they are given back. --workers 1 is
// thus one core.
func TestWorkersLendOnlyIdleTurns(t *testing.T) {
	ctx := context.Background()
	g := &gate{free: 3}
	g.acquire(ctx, false) // one transcode running
	if n := g.borrow(8); n != 2 {
		t.Fatalf("borrow with 2 turns free = %d; want 2", n)
	}
	if n := g.borrow(8); n != 0 {
		t.Fatalf("borrow with none free = %d; want 0", n)
	}
	came := make(chan error)
	go func() { came <- g.acquire(ctx, false) }()
	for g.waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	g.giveBack(2)
	if err := <-came; err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	free := g.free
	g.mu.Unlock()
	if free != 1 {
		t.Fatalf("after giving 2 back to a waiting load, %d turns free; want 1", free)
	}
	// With one worker, the transcode holding it has nothing to borrow.
	one := &gate{free: 1}
	one.acquire(ctx, false)
	if n := one.borrow(8); n != 0 {
		t.Errorf("borrow with --workers 1 = %d; want 0", n)
	}
}

func (g *gate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.urgent) + len(g.normal)
}

// The default budget lets every worker decode a large photo, within a
// quarter of the machine's memory, and never drops below 144 MiB.
func TestDefaultMemoryFollowsWorkers(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	for _, c := range []struct {
		workers int
		total   int64
		want    int64
	}{
		{1, 24 * gib, 144 * mib},
		{2, 24 * gib, 144 * mib},
		{8, 24 * gib, 256 * mib},
		{16, 24 * gib, 512 * mib},
		{16, 1 * gib, 256 * mib}, // a quarter of the memory
		{16, 256 * mib, 144 * mib},
		{16, 0, 512 * mib}, // memory unknown
	} {
		if got := DefaultMemory(c.workers, c.total); got != c.want {
			t.Errorf("%d workers, %d MiB: budget %d MiB; want %d", c.workers, c.total/mib, got/mib, c.want/mib)
		}
	}
}

// A load that finds the budget taken waits for it, and its report says
// how long: the figure bench prints and /metrics counts.
func TestReportsTheWaitForMemory(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 64, 48)
	var rs reports
	tr := New(Options{Dir: dir, Memory: 1 << 20, Observe: rs.add})
	if err := tr.memory.Acquire(context.Background(), 1<<20); err != nil { // the whole budget
		t.Fatal(err)
	}
	go func() {
		time.Sleep(80 * time.Millisecond)
		tr.memory.Release(1 << 20)
	}()
	if _, err := tr.Load(context.Background(), keyOf(t, dir, "a.png", 32)); err != nil {
		t.Fatal(err)
	}
	if rs.count() != 1 {
		t.Fatalf("%d reports; want 1", rs.count())
	}
	if w := rs.all[0].MemoryWait; w < 60*time.Millisecond || w > rs.all[0].Took+time.Second {
		t.Errorf("MemoryWait = %v; want the 80 ms the budget was taken", w)
	}
	if _, err := tr.Load(context.Background(), keyOf(t, dir, "a.png", 33)); err != nil {
		t.Fatal(err)
	}
	if w := rs.all[1].MemoryWait; w > 20*time.Millisecond {
		t.Errorf("MemoryWait with the budget free = %v; want next to nothing", w)
	}
}

// Loads of a few photos at random widths, some urgent, some pairs, some
// given up half way, on two workers and a budget of about three decodes:
// every load ends (none waits for memory holding a turn, none waits for a
// load that waits for it), and every turn and byte comes back. Run under
// -race in CI.
func TestStressNeverDeadlocks(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 6 {
		m := image.NewYCbCr(image.Rect(0, 0, 640+16*i, 480), image.YCbCrSubsampleRatio420)
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range m.Y {
			m.Y[j] = uint8(rng.IntN(256))
		}
		var b bytes.Buffer
		jpeg.Encode(&b, m, &jpeg.Options{Quality: 80})
		name := fmt.Sprintf("%d.jpg", i)
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	writePNG(t, filepath.Join(dir, "p.png"), 500, 400)
	names = append(names, "p.png")
	f, err := decode.Open(filepath.Join(dir, "0.jpg"), decode.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	one := f.Memory(decode.Options{})
	f.Close()
	const workers = 2
	tr := New(Options{Dir: dir, Workers: workers, Memory: 3 * one})

	loads := 60
	if testing.Short() || underRace {
		loads = 15
	}
	var wg sync.WaitGroup
	var ended, failed atomic.Int32
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for range loads {
				k := keyOf(t, dir, names[rng.IntN(len(names))], []int{64, 100, 160, 320, 0}[rng.IntN(5)])
				if rng.IntN(4) == 0 {
					k.Width, k.Height = 320, 180
					p := keyOf(t, dir, names[rng.IntN(len(names))], 0)
					k.Pair = PairKey{Name: p.Name, Size: p.Size, ModTime: p.ModTime}
				}
				ctx, cancel := context.WithCancel(context.Background())
				if rng.IntN(3) == 0 {
					ctx = urgent.Mark(ctx)
				}
				if rng.IntN(5) == 0 {
					time.AfterFunc(time.Duration(rng.IntN(20))*time.Millisecond, cancel)
				}
				_, err := tr.Load(ctx, k)
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("Load(%v): %v", k, err)
					failed.Add(1)
				}
				ended.Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		buf := make([]byte, 1<<20)
		t.Fatalf("%d of %d loads ended in 2 minutes: stuck\n%s", ended.Load(), 8*loads, buf[:runtime.Stack(buf, true)])
	}
	if n := len(tr.loads); n != 0 {
		t.Errorf("%d file versions still tracked after every load ended", n)
	}
	if !tr.memory.TryAcquire(tr.budget) {
		t.Error("the decode budget was not all given back")
	}
	if tr.workers.free != workers || tr.Running() != 0 {
		t.Errorf("after every load: %d turns free, %d running; want %d and 0", tr.workers.free, tr.Running(), workers)
	}
}

// Work (a crossfade's frames) runs in a worker turn with its memory
// reserved: it waits while the one worker is busy, and while the budget is
// taken it waits without the turn, so a transcode runs meanwhile.
func TestWorkTakesATurnAndItsMemory(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), 64, 48)
	tr := New(Options{Dir: dir, Workers: 1, Memory: 1 << 20})
	ctx := context.Background()
	tr.workers.acquire(ctx, false) // the one worker is busy
	ran, returned := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(returned)
		if err := tr.Work(ctx, 1<<20, func() {
			if tr.Running() != 1 {
				t.Errorf("Work's fn runs with %d turns held; want its own", tr.Running())
			}
			close(ran)
		}); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-ran:
		t.Fatal("Work ran while the only worker was busy")
	case <-time.After(50 * time.Millisecond):
	}
	tr.memory.Acquire(ctx, 1<<20) // and now the budget is taken too
	tr.workers.release()
	// Work waits for memory without its turn: the turn is free for a
	// load of a file meanwhile.
	deadline := time.Now().Add(5 * time.Second)
	for tr.workers.waiting() > 0 || tr.Running() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("Work holds a turn while it waits for memory")
		}
		time.Sleep(time.Millisecond)
	}
	if err := tr.workers.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	tr.workers.release()
	select {
	case <-ran:
		t.Fatal("Work ran without its memory")
	default:
	}
	tr.memory.Release(1 << 20)
	<-ran
	<-returned // fn has run; Work gives the memory back as it returns
	if !tr.memory.TryAcquire(1 << 20) {
		t.Error("Work did not give its memory back")
	}
}

// A decode whose process was killed is retried (not lasting); the second
// kill of the same version of the file makes it a lasting failure, named
// as such, while another version starts again from nothing.
func TestKilledTwiceLasts(t *testing.T) {
	tr := New(Options{})
	k := Key{Name: "big.heic", Size: 10, ModTime: 1}
	killed := func() error {
		return &decode.Error{File: "big.heic", Err: decode.ErrKilled, Reason: "the process decoding it was killed"}
	}
	first := tr.killedAgain(k.wants(), killed())
	if Lasting(first) || !errors.Is(first, decode.ErrKilled) {
		t.Fatalf("first kill: %v, lasting %v; want a failure of the moment", first, Lasting(first))
	}
	other := Key{Name: "big.heic", Size: 11, ModTime: 2} // the file changed
	if err := tr.killedAgain(other.wants(), killed()); Lasting(err) {
		t.Errorf("first kill of another version: lasting %v", err)
	}
	second := tr.killedAgain(k.wants(), killed())
	if !Lasting(second) || !strings.Contains(second.Error(), "killed twice") {
		t.Errorf("second kill of the same version: %v, lasting %v; want a lasting failure saying so", second, Lasting(second))
	}
}
