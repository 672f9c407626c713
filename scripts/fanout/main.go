// Command fanout measures what serving streams costs: N clients, each on a
// connection of its own, read a stream for a while, and it prints the
// bytes they got and, given the server's PID, the server's CPU time per
// gigabyte sent, and its resident memory and goroutines per client (from
// /proc and the server's /metrics). Send it only to a server on this
// machine.
//
//	go run ./scripts/fanout -n 1000 -for 20s -pid $(pidof slidestream) http://127.0.0.1:8080/slideshow
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "clients")
	d := flag.Duration("for", 20*time.Second, "how long the clients read, once all are connected")
	pid := flag.Int("pid", 0, "the server's PID, to read its CPU time and memory")
	flag.Parse()
	url := flag.Arg(0)
	if url == "" || !strings.HasPrefix(url, "http://127.") {
		fmt.Fprintln(os.Stderr, "usage: fanout [-n N] [-for D] [-pid PID] http://127.0.0.1:PORT/slideshow")
		os.Exit(2)
	}
	host := strings.TrimPrefix(url, "http://")
	path := "/" + strings.SplitN(host, "/", 2)[1]
	host = strings.SplitN(host, "/", 2)[0]
	rss0 := rss(*pid)
	var total atomic.Int64
	var counting atomic.Bool
	var wg sync.WaitGroup
	var connected sync.WaitGroup
	stop := make(chan struct{})
	for range *n {
		wg.Add(1)
		connected.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", host)
			if err != nil {
				connected.Done()
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host)
			r := bufio.NewReaderSize(c, 64<<10)
			resp, err := http.ReadResponse(r, nil)
			connected.Done()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			go func() { <-stop; c.Close() }()
			buf := make([]byte, 64<<10)
			for {
				k, err := resp.Body.Read(buf)
				if counting.Load() {
					total.Add(int64(k))
				}
				if err != nil {
					return
				}
			}
		}()
	}
	connected.Wait()
	time.Sleep(2 * time.Second) // settle
	g := goroutines(url)
	rss1 := rss(*pid)
	c0 := cpu(*pid)
	counting.Store(true)
	start := time.Now()
	time.Sleep(*d)
	counting.Store(false)
	took := time.Since(start)
	c1 := cpu(*pid)
	close(stop)
	wg.Wait()
	gb := float64(total.Load()) / 1e9
	fmt.Printf("%d clients, %v: %.2f GB, %.1f MB/s, %.0f KB/s a client\n", *n, took.Round(time.Millisecond), gb,
		gb*1e3/took.Seconds(), gb*1e6/took.Seconds()/float64(*n))
	if *pid != 0 {
		fmt.Printf("server: %.2f CPU-s, %.2f CPU-s/GB; %.1f KiB resident a client (%d MiB with them, %d MiB before); %.1f goroutines a client\n",
			c1-c0, (c1-c0)/gb, float64(rss1-rss0)/1024/float64(*n), rss1>>20, rss0>>20, g/float64(*n))
	}
}

// cpu is a process's user and system time, in seconds.
func cpu(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	u, _ := strconv.Atoi(f[11])
	k, _ := strconv.Atoi(f[12])
	return float64(u+k) / 100 // USER_HZ
}

// rss is a process's resident memory, in bytes.
func rss(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// goroutines is the server's go_goroutines, from its /metrics.
func goroutines(url string) float64 {
	base := url[:strings.Index(url[len("http://"):], "/")+len("http://")]
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
			g, _ := strconv.ParseFloat(v, 64)
			return g
		}
	}
	return 0
}
