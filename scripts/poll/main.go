// Command poll measures what e-paper devices cost when they wake together:
// N clients, each on a connection of its own, ask for one URL at the same
// moment (optionally with If-None-Match, as a device that already has the
// picture does), and it prints the answers' latencies and, given the
// server's PID, the server's CPU time per request. Send it only to a
// server on this machine.
//
//	go run ./scripts/poll -n 1000 -pid $(pidof slidestream) 'http://127.0.0.1:8080/snapshot?size=800x480&palette=spectra6'
//	go run ./scripts/poll -n 1000 -pid $(pidof slidestream) -header Access-Token:TOKEN http://127.0.0.1:8080/api/display
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "clients")
	pid := flag.Int("pid", 0, "the server's PID, to read its CPU time")
	etag := flag.Bool("etag", false, "ask with If-None-Match (the ETag of a first request)")
	rounds := flag.Int("rounds", 3, "rounds of n requests")
	var headers []string
	flag.Func("header", "a request header `NAME:VALUE` (repeatable), such as Access-Token:TOKEN", func(v string) error {
		if !strings.Contains(v, ":") {
			return fmt.Errorf("want NAME:VALUE")
		}
		headers = append(headers, v)
		return nil
	})
	flag.Parse()
	url := flag.Arg(0)
	if url == "" || !strings.HasPrefix(url, "http://127.") {
		fmt.Fprintln(os.Stderr, "usage: poll [-n N] [-pid PID] [-etag] http://127.0.0.1:PORT/...")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}}
	newRequest := func() *http.Request {
		req, _ := http.NewRequest("GET", url, nil)
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(k, strings.TrimSpace(v))
		}
		return req
	}
	first, err := client.Do(newRequest())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io.Copy(io.Discard, first.Body)
	first.Body.Close()
	tag := first.Header.Get("ETag")
	for r := range *rounds {
		cpu0 := cpuSeconds(*pid)
		var wg sync.WaitGroup
		start := make(chan struct{})
		lat := make([]time.Duration, *n)
		codes := map[int]int{}
		var mu sync.Mutex
		var bytes int64
		for i := range *n {
			wg.Go(func() {
				req := newRequest()
				if *etag {
					req.Header.Set("If-None-Match", tag)
				}
				<-start
				t := time.Now()
				resp, err := client.Do(req)
				code := 0
				var got int64
				if err == nil {
					got, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				lat[i] = time.Since(t)
				mu.Lock()
				codes[code]++
				bytes += got
				mu.Unlock()
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		wall := time.Since(t0)
		cpu := cpuSeconds(*pid) - cpu0
		slices.Sort(lat)
		fmt.Printf("round %d: %d requests in %v, answers %v, %.1f MB; latency p50 %v p99 %v max %v",
			r+1, *n, wall.Round(time.Millisecond), codes, float64(bytes)/1e6, lat[*n/2].Round(time.Microsecond),
			lat[*n*99/100].Round(time.Microsecond), lat[*n-1].Round(time.Microsecond))
		if *pid != 0 {
			fmt.Printf("; server CPU %.3f s, %.3f ms a request", cpu, cpu*1000/float64(*n))
		}
		fmt.Println()
	}
}

// cpuSeconds is the user and system time of process pid, from /proc.
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}
