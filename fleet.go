package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/groupcache/groupcache-go/v3"
	"github.com/groupcache/groupcache-go/v3/transport"
	"github.com/groupcache/groupcache-go/v3/transport/peer"

	"slidestream/cache"
	"slidestream/transcode"
)

// Fleet mode: several slidestream instances serving the same folder share
// their frames through groupcache, so each frame is transcoded once in the
// whole fleet. Every key has one owner among the peers (consistent hashing
// with xxhash); the owner transcodes it and keeps it, the others fetch it
// from the owner over the peer port and keep a hot copy.

const (
	groupName = "frames"
	peerPath  = "/_groupcache/"
	// peerTimeout bounds a request to a peer. The owner may be transcoding
	// a large photo, which can take seconds on a small machine.
	peerTimeout = 60 * time.Second
	// peerRefresh is how often a --peers file or DNS name is read again.
	peerRefresh = 2 * time.Second
)

// peerHeader carries a peer request's signature: the HMAC-SHA256, under
// the --peer-secret-file secret, of the request's method and path. The
// secret itself never crosses the network, and a stranger on the peer port
// can ask for nothing.
const peerHeader = "X-Slidestream-Peer"

// fleetOptions configures fleet mode.
type fleetOptions struct {
	addr       string // where to listen for peers (--peer-addr)
	self       string // this instance's peer URL (--self)
	peers      string // the --peers value: a list, or @FILE
	cacheBytes int64
	// secret signs and checks every peer request; nil when there is no
	// --peer-secret-file, and anyone who reaches the peer port is served.
	secret []byte
	// accept refuses, before any work, a key no client of this instance
	// could have asked for.
	accept func(transcode.Key) error
	// load makes a frame from its key when this instance owns it; it
	// bounds its own concurrency.
	load func(ctx context.Context, key string) ([]byte, error)
	// join is told when a caller joins a fetch under way (as
	// cache.Options.Join).
	join        func(load, caller context.Context)
	readTimeout time.Duration // as the public server's
	log         *slog.Logger
}

// fleet is the groupcache side of fleet mode: the instance, its group, and
// the peer listener. It is a store for frames.
type fleet struct {
	inst  *groupcache.Instance
	group groupcache.Group
	// flight shares this instance's fetches of a key between its callers
	// and cancels one they have all left.
	flight *cache.Cache
	self   string // this instance's peer address, host:port
	peers  string // the --peers value: a list, or @FILE
	log    *slog.Logger
	srv    *http.Server
	ln     net.Listener

	mu      sync.Mutex // protects current
	current []string   // the peer addresses in use, sorted
}

// newFleet listens for peer traffic and joins the peers.
func newFleet(o fleetOptions) (*fleet, error) {
	log := o.log
	selfAddr, err := peerAddress(o.self)
	if err != nil {
		return nil, fmt.Errorf("--self: %w", err)
	}
	// Every instance must name every peer the same way, because the ring
	// is built from the names: peers found by host name are known by IP
	// address, so this instance is too.
	if host, port, _ := net.SplitHostPort(selfAddr); net.ParseIP(host) == nil {
		ips, err := net.DefaultResolver.LookupHost(context.Background(), host)
		if err != nil || len(ips) != 1 {
			return nil, fmt.Errorf("--self: %s resolves to %v (%w); give this instance's own IP address", host, ips, err)
		}
		selfAddr = net.JoinHostPort(ips[0], port)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("--peer-addr: %w", err)
	}
	t := transport.NewHttpTransport(transport.HttpTransportOptions{
		BasePath: peerPath,
		Client:   &http.Client{Timeout: peerTimeout, Transport: signer{o.secret, http.DefaultTransport}},
		Logger:   log,
		// A peer that gives up has no caller left for the frame: the
		// transcode is dropped if it has not started. Should another
		// caller have joined it here, that caller asks again (fetch).
		Context: func(r *http.Request) context.Context { return r.Context() },
	})
	f := &fleet{
		inst: groupcache.New(groupcache.Options{
			// FNV, the default, puts similar keys (our keys differ in a few
			// characters) on the ring unevenly; xxhash spreads them.
			HashFn:    xxhash.Sum64,
			Replicas:  50,
			Logger:    log,
			Transport: t,
		}),
		self:  selfAddr,
		peers: o.peers,
		log:   log,
		ln:    ln,
	}
	f.group, err = f.inst.NewGroup(groupName, o.cacheBytes, groupcache.GetterFunc(
		func(ctx context.Context, key string, dest transport.Sink) error {
			b, err := o.load(ctx, key)
			if err != nil {
				return err
			}
			return dest.SetBytes(b, time.Time{})
		}))
	if err != nil {
		ln.Close()
		return nil, err
	}
	f.flight = cache.New(cache.Options{KeepNothing: true, Join: o.join}, f.fetch)
	if o.secret == nil {
		log.Warn("fleet mode without --peer-secret-file: anyone who can reach the peer port can make this instance transcode; give every instance the same secret")
	}
	f.srv = newHTTPServer(peerGate(o, t), o.readTimeout, log)
	go f.srv.Serve(ln)
	if err := f.refresh(context.Background()); err != nil {
		f.srv.Close()
		return nil, err
	}
	return f, nil
}

// peerGate lets peers fetch frames and nothing else, and refuses before
// any work a request that is not signed with the fleet's secret (when there
// is one) or names a frame no client of this instance could have asked
// for. groupcache's transport also accepts writes and deletions of keys,
// which slidestream never sends. Refusals say nothing about the folder.
func peerGate(o fleetOptions, next http.Handler) http.Handler {
	prefix := peerPath + groupName + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.URL.Path, prefix)
		if r.Method != http.MethodGet || !ok {
			http.Error(w, "peers may only GET frames", http.StatusForbidden)
			return
		}
		if o.secret != nil {
			got, err := hex.DecodeString(r.Header.Get(peerHeader))
			if err != nil || !hmac.Equal(got, peerMAC(o.secret, r.Method, r.URL.Path)) {
				http.Error(w, "not signed with this fleet's secret", http.StatusForbidden)
				return
			}
		}
		k, err := transcode.ParseKey(key)
		if err == nil {
			err = o.accept(k)
		}
		if err != nil {
			http.Error(w, "not a frame this instance makes", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// peerMAC signs a peer request.
func peerMAC(secret []byte, method, path string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method + " " + path))
	return m.Sum(nil)
}

// signer signs every request it sends to a peer.
type signer struct {
	secret []byte
	next   http.RoundTripper
}

func (s signer) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.secret == nil {
		return s.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set(peerHeader, hex.EncodeToString(peerMAC(s.secret, r.Method, r.URL.Path)))
	return s.next.RoundTrip(r)
}

// readPeerSecret reads --peer-secret-file: its content, without the spaces
// and line ends around it.
func readPeerSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return nil, fmt.Errorf("%s holds %d bytes; want a secret of at least 16 (head -c 32 /dev/urandom | base64 > %s)", path, len(b), path)
	}
	return b, nil
}

// peerAddress turns a peer URL (http://host:port) or a bare host:port into
// host:port.
func peerAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", err
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("%q: peers speak plain http (keep the peer port on a private network)", s)
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("%q is not http://HOST:PORT", s)
	}
	return net.JoinHostPort(host, port), nil
}

// resolve reads the peer list: a comma-separated list of URLs, or @FILE
// with one URL per line (# starts a comment). A host name that resolves to
// several addresses stands for a peer at each of them, so a DNS name that
// lists the fleet's machines is enough. Self is always included.
func (f *fleet) resolve(ctx context.Context) ([]string, error) {
	var entries []string
	if path, ok := strings.CutPrefix(f.peers, "@"); ok {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if line = strings.TrimSpace(line); line != "" {
				entries = append(entries, line)
			}
		}
		file.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	} else {
		entries = strings.Split(f.peers, ",")
	}
	addrs := []string{f.self}
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			continue
		}
		a, err := peerAddress(e)
		if err != nil {
			return nil, err
		}
		host, port, _ := net.SplitHostPort(a)
		if a == f.self || net.ParseIP(host) != nil {
			addrs = append(addrs, a)
			continue
		}
		ips, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("peer %s: %w", host, err)
		}
		for _, ip := range ips {
			addrs = append(addrs, net.JoinHostPort(ip, port))
		}
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), nil
}

// refresh reads the peer list again and hands it to groupcache if it
// changed.
func (f *fleet) refresh(ctx context.Context) error {
	addrs, err := f.resolve(ctx)
	if err != nil {
		return fmt.Errorf("--peers: %w", err)
	}
	f.mu.Lock()
	same := slices.Equal(addrs, f.current)
	f.mu.Unlock()
	if same {
		return nil
	}
	infos := make([]peer.Info, len(addrs))
	for i, a := range addrs {
		infos[i] = peer.Info{Address: a, IsSelf: a == f.self}
	}
	if err := f.inst.SetPeers(ctx, infos); err != nil {
		return err
	}
	f.mu.Lock()
	f.current = addrs
	f.mu.Unlock()
	f.log.Info("fleet peers", "self", f.self, "peers", strings.Join(addrs, ","))
	return nil
}

// watch re-reads a peer file or DNS name until ctx ends. A list given on
// the command line of IP addresses never changes and is not watched.
func (f *fleet) watch(ctx context.Context) {
	t := time.NewTicker(peerRefresh)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.refresh(ctx); err != nil && err.Error() != lastErr {
			f.log.Warn("cannot update the fleet's peers; keeping the last list", "err", err)
			lastErr = err.Error()
		} else if err == nil {
			lastErr = ""
		}
	}
}

// peerWait is how long a starting instance waits for the other peers to
// listen before it transcodes anything.
const peerWait = 10 * time.Second

// waitForPeers returns once every peer in the list accepts connections, or
// after peerWait. When a fleet starts together, an instance that began
// before its peers listen would find them unreachable and transcode their
// frames itself, twice the work for nothing.
func (f *fleet) waitForPeers(ctx context.Context) {
	f.mu.Lock()
	peers := slices.DeleteFunc(slices.Clone(f.current), func(a string) bool { return a == f.self })
	f.mu.Unlock()
	deadline := time.Now().Add(peerWait)
	logged := false
	for len(peers) > 0 {
		peers = slices.DeleteFunc(peers, func(a string) bool {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		switch {
		case len(peers) == 0:
		case time.Now().After(deadline):
			f.log.Warn("peers not reachable; starting without them (their frames are made here until they answer)",
				"peers", strings.Join(peers, ","))
			return
		case !logged:
			f.log.Info("waiting for peers to listen", "peers", strings.Join(peers, ","), "at most", peerWait.String())
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// close ends the peer server by the deadline of ctx.
func (f *fleet) close(ctx context.Context) {
	if err := f.srv.Shutdown(ctx); err != nil {
		f.srv.Close()
	}
}

// Get makes the fleet a store for frames. The loader is the group's, which
// every instance registers the same way: a key is enough to make its frame.
//
// As with the local cache, a caller that leaves does not cancel the fetch
// while others here wait for the same key; once they have all left, it is
// cancelled, and the owner drops the transcode if it has not started.
func (f *fleet) Get(ctx context.Context, key string) ([]byte, error) { return f.flight.Get(ctx, key) }

// fetch gets a frame from the group. groupcache runs one load per key for
// this instance's callers and the peers asking it, under the context of
// the first: when that one was cancelled, the others ask once more.
func (f *fleet) fetch(ctx context.Context, key string) ([]byte, error) {
	for try := 0; ; try++ {
		var b []byte
		err := f.group.Get(ctx, key, transport.AllocatingByteSliceSink(&b))
		var remote *transport.ErrRemoteCall
		cancelled := errors.Is(err, context.Canceled)
		if errors.As(err, &remote) {
			cancelled = strings.Contains(remote.Msg, context.Canceled.Error())
			err = fmt.Errorf("the peer that owns this frame could not make it: %s", remote.Msg)
		}
		if !cancelled || try > 0 || ctx.Err() != nil {
			return b, err
		}
	}
}

// held is the bytes of frames this instance keeps, its own and hot copies.
func (f *fleet) held() int64 {
	main, hot := f.group.UsedBytes()
	return main + hot
}
