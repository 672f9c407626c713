package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"slidestream/transcode"
)

// runBench is "slidestream bench": transcode every image in a folder cold
// and print how fast this machine is, so an operator can tell whether it
// is enough for their photos.
func runBench(args []string, stdout, stderr io.Writer) error {
	var p pipelineFlags
	fs := flag.NewFlagSet("slidestream bench", flag.ContinueOnError)
	p.register(fs)
	outDir := fs.String("out", "", "also write each frame to this folder, as NAME.jpg")
	usage := "Usage: slidestream bench [flags]\n\nTranscodes every image in --dir once, cold, the way the server does, and prints the speed.\n"
	if err := parse(fs, args, usage, stdout, stderr); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if err := p.check(fs); err != nil {
		fmt.Fprintf(stderr, "slidestream bench: %v (see --help)\n", err)
		return errUsage
	}
	folder := p.folder(discardLogger(), "")
	folder.Scan()
	slides, _ := folder.Slides()
	if len(slides) == 0 {
		return fmt.Errorf("no images in %s", p.dir)
	}
	type result struct {
		format  string
		mp      float64
		took    time.Duration
		memWait time.Duration
		out     int
		err     error
	}
	results := make([]result, len(slides))
	index := make(map[string]int, len(slides))
	for i, s := range slides {
		index[s.Name] = i
	}
	// The server's transcoder, with its worker limit and decode-memory
	// budget, without a cache: every image is transcoded cold. Its report
	// of each transcode says what the file was.
	tr := p.transcoder(func(r transcode.Report) {
		h := r.Header
		results[index[r.Key.Name]].format = string(h.Format)
		results[index[r.Key.Name]].mp = float64(h.Width) * float64(h.Height) / 1e6
		results[index[r.Key.Name]].memWait = r.MemoryWait
	})
	spec := p.frameSpec()
	setMemoryLimit(0, int64(p.decodeMemory))
	progress := newProgress(stderr, len(slides))
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s := slides[i]
				t0 := time.Now()
				out, err := tr.Load(context.Background(), spec.key(s, p.width))
				if err == nil && *outDir != "" {
					err = os.WriteFile(filepath.Join(*outDir, strings.ReplaceAll(s.Name, "/", "_")+".jpg"), out, 0o644)
				}
				r := &results[i] // the transcoder's report filled in the format
				r.took, r.out, r.err = time.Since(t0), len(out), err
				progress.step(s.Name)
			}
		}()
	}
	for i := range slides {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(start)
	progress.done()

	byFormat := map[string][]result{}
	var formats []string
	var totalMP float64
	var totalOut, ok int
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(stdout, "skipped %s\n", r.err)
			continue
		}
		if _, seen := byFormat[r.format]; !seen {
			formats = append(formats, r.format)
		}
		byFormat[r.format] = append(byFormat[r.format], r)
		totalMP += r.mp
		totalOut += r.out
		ok++
	}
	slices.Sort(formats)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "format\timages\tmegapixels\tp50 ms\tp95 ms\tMP/s per worker\toutput KiB\t\n")
	for _, f := range formats {
		rs := byFormat[f]
		var mp, secs float64
		var out int
		durs := make([]time.Duration, len(rs))
		for i, r := range rs {
			mp += r.mp
			secs += r.took.Seconds()
			out += r.out
			durs[i] = r.took
		}
		slices.Sort(durs)
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.0f\t%.0f\t%.1f\t%d\t\n", f, len(rs), mp,
			ms(percentile(durs, 0.50)), ms(percentile(durs, 0.95)), mp/secs, out>>10)
	}
	w.Flush()
	fmt.Fprintf(stdout, "\n%d images (%.1f megapixels) to width %d in %.2fs with %d workers: %.2f images/s, %.1f MP/s, %d KiB out\n",
		ok, totalMP, p.width, wall.Seconds(), p.workers, float64(ok)/wall.Seconds(), totalMP/wall.Seconds(), totalOut>>10)
	var waits int
	var waited time.Duration
	for _, r := range results {
		if r.memWait > time.Millisecond {
			waits++
			waited += r.memWait
		}
	}
	fmt.Fprintf(stdout, "waited for --decode-memory: %d of %d images, %.2fs in all\n", waits, len(results), waited.Seconds())
	fmt.Fprintf(stdout, "peak memory (RSS): %s\n", peakRSS())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// peakRSS reads the process's high-water resident set size from Linux's
// /proc; elsewhere it reports what the Go runtime obtained from the OS.
func peakRSS() string {
	if kb := procKB("/proc/self/status", "VmHWM:"); kb > 0 {
		return formatSize(kb << 10)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return formatSize(int64(m.Sys)) + " (Go runtime)"
}

// procKB is the value, in kB, of the line starting with key in a /proc
// file such as /proc/meminfo; 0 where there is none.
func procKB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// machineMemory is the memory of the machine (/proc/meminfo), or of the
// container where its cgroup sets a lower limit; 0 where neither can be
// read.
func machineMemory() int64 {
	total := procKB("/proc/meminfo", "MemTotal:") << 10
	// cgroup v2, then v1; v2 says "max" where there is no limit, which
	// does not parse, and v1 a number larger than the machine's memory.
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (total == 0 || v < total) {
				total = v
			}
		}
	}
	return total
}

// progress draws a bar on a terminal and nothing elsewhere.
type progress struct {
	mu    sync.Mutex // protects n
	w     io.Writer
	total int
	n     int
	tty   bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) step(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if !p.tty {
		return
	}
	const width = 30
	done := width * p.n / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-30.30s", strings.Repeat("=", done), strings.Repeat(" ", width-done), p.n, p.total, filepath.Base(name))
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 80))
	}
}
