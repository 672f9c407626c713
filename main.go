// Command slidestream serves a folder of photos as endless MJPEG
// slideshows that any screen can show with a single <img> tag: one per
// channel (an album, an order, an interval), every client of a channel
// seeing the same slide at the same time.
//
// Every image (JPEG, PNG, WebP, GIF, HEIC or AVIF, whatever its name
// says) is decoded, turned upright, converted to sRGB, flattened, resized
// and re-encoded as a JPEG frame, once per width, and kept in a
// byte-bounded cache (or a fleet's groupcache).
//
// This package is the wiring and nothing else: the command line
// (flags.go), the server and its shutdown (main.go), the adapter from
// the slideshow to the frame store and the transcoder (frames.go),
// /metrics, fleet mode, Basic auth and the bench mode. The work is done
// by source (the files and their order), play (the clock), web (the
// pages and streams), transcode with decode and encode (the frames) and
// cache.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/encode"
	"slidestream/homeassistant"
	"slidestream/play"
	"slidestream/screens"
	"slidestream/source"
	"slidestream/transcode"
	"slidestream/trmnl"
	"slidestream/web"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func main() {
	// This executable is also the decode child of HEIC and AVIF files:
	// started as one, it serves its parent and exits here.
	decode.ServeChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "slidestream:", err)
		os.Exit(1)
	}
}

// errUsage marks a command-line mistake, already reported on stderr.
var errUsage = errors.New("usage")

// config is everything the command line sets, parsed.
type config struct {
	pipelineFlags
	addr         string
	cacheSize    sizeFlag
	interval     time.Duration
	writeTimeout time.Duration
	groupWrites  bool
	rescan       time.Duration    // full rescans of the folder, besides notifications
	order        string           // the default play order
	maxChannels  int              // channels besides the default one
	perClient    int              // channels one client address may start; 0: half of maxChannels
	allowedHosts []string         // host names commands may be sent to, besides the machine's own
	linger       time.Duration    // how long a channel outlives its last client; not a flag
	stateDir     string           // where the index of dates is kept; "" for nowhere
	peers        string           // fleet mode: the other instances, a list or @FILE
	self         string           // fleet mode: this instance's peer URL
	peerAddr     string           // fleet mode: where to listen for peers
	peerSecret   []byte           // fleet mode: from --peer-secret-file; nil when none
	readTimeout  time.Duration    // for reading a request, body included; not a flag
	auth         *basicAuth       // from --auth or --auth-file; nil when off
	fade         time.Duration    // crossfades between slides; 0 cuts
	pairs        bool             // --pair-portraits
	sleep        play.Sleep       // daily hours of black screens
	devices      string           // the devices file of TRMNL's display API; "" for none
	screens      string           // the screens file; "" for none
	mqtt         mqttConfig       // Home Assistant over MQTT; off without a broker
	motion       motionConfig     // animated GIFs and WebPs in the stream
	now          func() time.Time // the wall clock of the sleep hours; not a flag (tests set it)
}

func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	c := &config{cacheSize: cache.DefaultMaxBytes, readTimeout: readTimeout, linger: time.Minute}
	var authFlag, authFile string
	fs := flag.NewFlagSet("slidestream", flag.ContinueOnError)
	c.pipelineFlags.register(fs)
	fs.StringVar(&c.addr, "addr", ":8080", "listen address, HOST:PORT")
	fs.Var(&c.cacheSize, "cache-size", "memory for encoded frames (those cached, and those on screen, next and fading), a `SIZE` such as 256MiB or 1GiB")
	fs.DurationVar(&c.interval, "interval", 5*time.Second, "time per slide, e.g. 5s or 1m; 0 = as fast as frames can be made")
	fs.DurationVar(&c.writeTimeout, "write-timeout", 10*time.Second, "drop a client that accepts no data for this long")
	fs.BoolVar(&c.groupWrites, "group-writes", true, "streams showing the same frames at one width share one writer; false: each writes its own")
	fs.StringVar(&c.order, "order", "name", "play order: name (natural, album by album), shuffle (each photo once per pass), taken (oldest first, by EXIF date) or newest")
	fs.IntVar(&c.maxChannels, "max-channels", 16, "channels (?album=, ?order=, ?interval=) that may run at once besides the default one")
	fs.IntVar(&c.perClient, "max-channels-per-client", 0, "channels one client address (an IPv6 /64) may start that run at once; 0: half of --max-channels")
	fs.Func("allowed-hosts", "host `NAMES`, comma-separated, that remote-control commands may be sent to besides addresses, localhost, .local names and the machine's host name (*.example.com for every name under one); others are refused, against DNS rebinding", func(v string) error {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.allowedHosts = append(c.allowedHosts, h)
			}
		}
		return nil
	})
	fs.StringVar(&c.stateDir, "state-dir", defaultStateDir(), "folder for the index of photo dates and sizes and the listing a restart starts from, kept across restarts; empty: keep them in memory only")
	fs.DurationVar(&c.rescan, "rescan", time.Minute, "list the whole folder again this often, for network mounts that send no change notifications; 0 = never")
	fs.StringVar(&c.peers, "peers", "", "fleet mode: peer URLs of every instance, http://HOST:PORT,... or @FILE (one per line, re-read); host names are re-resolved")
	fs.StringVar(&c.self, "self", "", "fleet mode: this instance's own peer URL, as the others list it")
	fs.StringVar(&c.peerAddr, "peer-addr", "", "fleet mode: listen address for peer traffic (default: the port of --self on all interfaces)")
	var secretFile string
	fs.StringVar(&secretFile, "peer-secret-file", "", "fleet mode: a file with a secret shared by every instance; peers sign their requests with it and unsigned ones are refused")
	fs.StringVar(&authFlag, "auth", "", "require HTTP Basic auth as USER:PASSWORD on every path but /healthz")
	fs.StringVar(&authFile, "auth-file", "", "like --auth, read from the first line of this file (keeps the password out of ps)")
	fs.DurationVar(&c.fade, "fade", 0, "crossfade between slides for this long, e.g. 1s (about 10 frames a second; at most half of --interval); 0 = cut")
	fs.BoolVar(&c.pairs, "pair-portraits", false, "with a landscape --fit, show two portrait photos that follow each other side by side in one frame")
	var sleepFlag string
	fs.StringVar(&sleepFlag, "sleep", "", "show black and transcode nothing during these hours, `HH:MM-HH:MM` in local time (may cross midnight, e.g. 23:00-07:00)")
	c.mqtt.register(fs)
	c.motion.register(fs)
	fs.StringVar(&c.screens, "screens", "", "serve the named screens of this TOML `FILE` at /s/NAME, each a channel with its own frame size, fill, caption, fades, sleep hours and quality; read again when it changes. \"slidestream --screens FILE check\" checks it")
	fs.StringVar(&c.devices, "devices", "", "answer TRMNL's display API (/api/setup, /api/display, /api/log) for the e-paper devices listed in this TOML `FILE`, each with its token; read again when it changes")
	usage := "Usage: slidestream [flags]\n       slidestream bench [flags]   (see slidestream bench --help)\n       slidestream token           (prints a new device token for --devices)\n\nServes the images in --dir as an MJPEG slideshow at http://ADDR/.\n"
	if err := parse(fs, args, usage, stdout, stderr); err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) (*config, error) {
		fmt.Fprintf(stderr, "slidestream: "+format+" (see --help)\n", a...)
		return nil, errUsage
	}
	if err := c.pipelineFlags.check(fs); err != nil {
		return bad("%v", err)
	}
	switch {
	case c.interval < 0:
		return bad("-interval %v: want 0 or more", c.interval)
	case c.writeTimeout <= 0:
		return bad("-write-timeout %v: want more than 0", c.writeTimeout)
	case c.rescan < 0:
		return bad("-rescan %v: want 0 (never) or more", c.rescan)
	case c.maxChannels < 0:
		return bad("-max-channels %d: want 0 or more", c.maxChannels)
	case c.perClient < 0:
		return bad("-max-channels-per-client %d: want 0 (half of --max-channels) or more", c.perClient)
	case !slices.Contains(source.OrderNames, c.order):
		return bad("-order %q: want one of %s", c.order, strings.Join(source.OrderNames, ", "))
	case c.fade < 0 || c.fade > time.Minute:
		return bad("-fade %v: want 0 (cut) to 1m", c.fade)
	case c.pairs && c.fit.X <= c.fit.Y:
		return bad("-pair-portraits: needs a landscape --fit, such as 1920x1080, to put two portraits side by side in")
	}
	if err := c.motion.check(); err != nil {
		return bad("%v", err)
	}
	c.noClips = c.motion.mode == "off"
	if err := c.mqtt.check(); err != nil {
		return bad("%v", err)
	}
	var err error
	if c.sleep, err = play.ParseSleep(sleepFlag); err != nil {
		return bad("-%v", err)
	}
	switch {
	case c.peers != "" && c.self == "":
		return bad("-peers needs -self, this instance's own peer URL")
	case c.peers == "" && (c.self != "" || c.peerAddr != "" || secretFile != ""):
		return bad("-self, -peer-addr and -peer-secret-file only mean something with -peers")
	case c.peers != "":
		addr, err := peerAddress(c.self)
		if err != nil {
			return bad("-self: %v", err)
		}
		if c.peerAddr == "" {
			_, port, _ := net.SplitHostPort(addr)
			c.peerAddr = ":" + port
		}
		if c.peerAddr == c.addr {
			return bad("-peer-addr %s: peer traffic needs its own port, not the public one", c.peerAddr)
		}
		if secretFile != "" {
			if c.peerSecret, err = readPeerSecret(secretFile); err != nil {
				return bad("-peer-secret-file: %v", err)
			}
		}
	}
	switch {
	case authFlag != "" && authFile != "":
		return bad("-auth and -auth-file: give one of them")
	case authFlag != "":
		a, err := parseAuth(authFlag)
		if err != nil {
			return bad("-auth: %v", err)
		}
		c.auth = a
	case authFile != "":
		a, err := readAuthFile(authFile)
		if err != nil {
			return bad("-auth-file: %v", err)
		}
		c.auth = a
	}
	return c, nil
}

// defaultStateDir is slidestream's folder in the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache on Linux), or none when there is no home.
func defaultStateDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "slidestream")
}

// parse reads args into fs. --help prints usage and the flags to stdout
// and returns flag.ErrHelp; a mistake is one line on stderr and errUsage.
func parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) error {
	fs.Usage = func() {} // errors are reported below, on one line
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "%s\nFlags:\n", usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return flag.ErrHelp
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v (see --help)\n", fs.Name(), err)
		return errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q (see --help)\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// server is a configured slidestream, listening but not yet serving.
type server struct {
	cfg      *config
	log      *slog.Logger
	ln       net.Listener
	folder   *source.Folder
	index    *source.Index
	failures *play.Failures // every channel's
	timeline *play.Timeline // the default channel's
	channels *play.Channels
	handler  *web.Handler
	root     http.Handler // everything served: the stream, /metrics, auth
	cache    *cache.Cache // nil in fleet mode
	fleet    *fleet       // nil unless --peers
	frames   *frames
	devices  *trmnl.Registry // nil unless --devices
	screens  screenSet
	// screensRead is the screens file as first read.
	screensRead []byte
	mqtt        *homeassistant.Bridge // nil unless --mqtt
	probe       *probe                // how slides move
	// held is the bytes of frames kept, and budget the decode memory: the
	// garbage collector's limit follows them.
	held   func() int64
	budget int64
}

func newServer(cfg *config, log *slog.Logger) (*server, error) {
	m := newMetrics()
	tr := cfg.transcoder(m.transcoded)
	f := &frames{tr: tr, frameSpec: cfg.frameSpec(), lim: cfg.limits()}
	s := &server{cfg: cfg, log: log, frames: f, budget: int64(cfg.decodeMemory)}
	s.screens = screenSet{looks: map[string]*looked{}, flagged: &looked{look: cfg.flagLook(), frames: f}}
	state, listing := "", ""
	if cfg.stateDir != "" {
		state, listing = source.StateFile(cfg.stateDir, cfg.dir), source.ListingFile(cfg.stateDir, cfg.dir)
	}
	s.folder = cfg.folder(log, listing)
	s.probe = &probe{dir: cfg.dir, lim: f.lim, video: cfg.video != nil}
	f.probe = s.probe
	s.index = source.NewIndex(s.folder, source.IndexOptions{Read: indexRead(tr, s.probe), Lasting: transcode.Lasting, State: state, Log: log})
	f.index = s.index
	if cfg.peers != "" {
		fl, err := newFleet(fleetOptions{addr: cfg.peerAddr, self: cfg.self, peers: cfg.peers,
			cacheBytes: int64(cfg.cacheSize), secret: cfg.peerSecret, accept: s.acceptPeerKey, load: load(tr), join: promote,
			readTimeout: cfg.readTimeout, log: log})
		if err != nil {
			return nil, err
		}
		s.fleet, f.store, s.held = fl, fl, fl.held
		m.watchFleet(fl)
	} else {
		c := cache.New(cache.Options{MaxBytes: int64(cfg.cacheSize), Join: promote}, load(tr))
		s.cache, f.store = c, c
		f.cached = func(key string) bool { _, ok := c.Peek(key); return ok }
		f.hold = c.Hold
		s.held = func() int64 { return c.Stats().Bytes }
		m.watchCache(c)
	}
	s.failures = play.NewFailures(play.FailuresOptions{Lasting: transcode.Lasting, Listing: s.folder, Log: log})
	def := play.Channel{Order: cfg.order, Interval: cfg.interval}
	tl, err := s.newTimeline(def)
	if err != nil {
		return nil, err
	}
	s.timeline = tl
	s.channels = play.NewChannels(tl, play.ChannelsOptions{Default: def, New: s.newTimeline,
		Max: cfg.maxChannels, PerClient: cfg.perClient, Linger: cfg.linger, Log: log})
	s.handler = web.NewHandler(s.timeline, web.HandlerOptions{Channels: s.channels, Width: cfg.width, WriteTimeout: cfg.writeTimeout,
		Fit: image.Point(cfg.fit), Inspect: f, Albums: s.folder, Stills: stills{s}, MaxStillPixels: min(maxFrameArea, f.lim.MaxPixels), Observe: m, Log: log, HideNames: cfg.auth != nil,
		AllowedHosts: append(machineNames(), cfg.allowedHosts...), OwnWrites: !cfg.groupWrites})
	m.watch(s.timeline, s.handler, s.channels, s.index)
	m.watchTranscoder(tr)
	if cfg.video != nil {
		m.watchVideo(cfg.video)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	mux.Handle("/", s.handler)
	s.root = mux
	if cfg.auth != nil {
		s.root = cfg.auth.wrap(mux, "/healthz")
	}
	fail := func(err error) (*server, error) {
		if s.fleet != nil {
			s.fleet.close(context.Background())
		}
		return nil, err
	}
	if cfg.screens != "" {
		b, err := screens.Read(cfg.screens)
		if err == nil {
			err = s.loadScreens(b)
		}
		if err != nil {
			return fail(fmt.Errorf("-screens: %w", err))
		}
		s.screensRead = b
		s.handler.SetScreens(s)
	}
	if cfg.devices != "" {
		// Devices show their token, not the password: their API is
		// served beside it, and /api/devices behind it.
		reg, err := trmnl.NewRegistry(cfg.devices, s.handler.CheckStill, log)
		if err != nil {
			return fail(fmt.Errorf("-devices: %w", err))
		}
		s.devices = reg
		t := trmnl.NewHandler(reg, trmnl.Options{Stills: s.handler, Snapshot: s.handler, Log: log})
		mux.HandleFunc("GET /api/devices", t.ServeDevices)
		outer := http.NewServeMux()
		outer.Handle("/", s.root)
		for _, p := range trmnl.Paths {
			outer.Handle(p, t)
		}
		s.root = outer
	}
	var key imageKey
	if cfg.mqtt.broker != "" && cfg.auth != nil {
		// Home Assistant's image entities fetch the snapshot without
		// the password.
		key = newImageKey()
		outer := http.NewServeMux()
		outer.Handle("/", s.root)
		outer.Handle("GET /ha/{key}/snapshot", key.handler(s.handler))
		s.root = outer
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		if s.devices != nil {
			s.devices.Close()
		}
		return fail(err)
	}
	s.ln = ln
	if cfg.mqtt.broker != "" {
		if s.mqtt, err = cfg.mqtt.bridge(s.handler, ln.Addr(), key, log); err != nil {
			ln.Close()
			return fail(err)
		}
	}
	return s, nil
}

// machineNames are the names this machine goes by on its own: its host
// name, and that name's first label (a router's DNS often serves it bare).
func machineNames() []string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return nil
	}
	names := []string{h}
	if first, _, ok := strings.Cut(h, "."); ok {
		names = append(names, first)
	}
	return names
}

// newTimeline makes the timeline of a channel: the album's slides (all of
// them for ""), in the channel's order, at its interval.
func (s *server) newTimeline(c play.Channel) (*play.Timeline, error) {
	if c.Album != "" && !s.folder.HasAlbum(c.Album) {
		s.listed() // a screen asking just after start must not get a 404
		if !s.folder.HasAlbum(c.Album) {
			return nil, fmt.Errorf("%w %q", play.ErrNoAlbum, c.Album)
		}
	}
	order, err := source.NewOrder(c.Order, s.index.Taken)
	if err != nil {
		return nil, err
	}
	var lister play.Lister = s.folder
	if _, byDate := order.(source.ByDate); byDate {
		lister = s.index // dates arrive in the background: arrange again as they do
	}
	sel, err := source.ParseTaken(c.Taken, c.Days)
	if err != nil {
		return nil, err
	}
	if sel.On() {
		lister = s.index // dates arrive in the background: select again as they do
	}
	empty, log := "no images in "+s.cfg.dir, s.log
	if c.Album != "" {
		lister = source.NewAlbumView(lister, c.Album)
		empty = "no images in album " + c.Album
		log = log.With("album", c.Album)
	}
	if sel.On() {
		lister = source.NewDateView(lister, s.index.Taken, sel, s.cfg.now)
		if c.Album != "" {
			empty = "no photos in album " + c.Album + " " + sel.Describe()
		} else {
			empty = "no photos " + sel.Describe()
		}
		log = log.With("taken", sel.String())
	}
	lk, ok := s.lookOf(c.Look)
	if !ok {
		return nil, errors.New("a screen's look that is no more: its screen changed")
	}
	var holder play.Holder
	if lk.frames.hold != nil {
		holder = lk.frames
	}
	return play.NewTimeline(lister, lk.frames, play.TimelineOptions{
		Holder:    holder,
		Order:     order,
		Interval:  c.Interval,
		Width:     lk.width,
		Empty:     empty,
		Lookahead: s.cfg.workers,
		Failures:  s.failures,
		Sleep:     lk.sleep,
		Now:       s.cfg.now,
		Fade:      lk.fade,
		Fader:     lk.frames,
		Portrait:  s.portrait(lk.pairs),
		Mover:     s.mover(lk, c),
		MaxMotion: s.cfg.motion.maxClip,
		// A channel other than the default runs for whoever asks, a
		// state or a snapshot included: it renders only for screens.
		Lazy: c != (play.Channel{Order: s.cfg.order, Interval: s.cfg.interval}),
		Log:  log,
	}), nil
}

// acceptPeerKey refuses a key that no client of this instance could have
// asked for, so that a peer cannot make it transcode anything else: a
// width a client may ask for (or 0, the own size that every width wider
// than the picture comes to, without --fit), the height --fit gives it, this instance's
// quality and background, and a file the folder lists, at exactly the
// version named (checked with stat, before the file is opened).
func (s *server) acceptPeerKey(k transcode.Key) error {
	var why error
	for _, l := range s.allLooks() {
		if why = s.lookMade(l, k); why == nil {
			break
		}
	}
	if why != nil {
		return why
	}
	sl, err := s.folder.Stat(k.Name)
	if err != nil {
		// A peer that started first may ask before this instance has
		// listed a large folder.
		s.listed()
		sl, err = s.folder.Stat(k.Name)
	}
	if err != nil || sl.Size != k.Size || sl.ModTime.UnixNano() != k.ModTime {
		return errors.New("not a slide at that version")
	}
	if k.Pair.Name != "" {
		p, err := s.folder.Stat(k.Pair.Name)
		if err != nil || p.Size != k.Pair.Size || p.ModTime.UnixNano() != k.Pair.ModTime {
			return errors.New("not a slide at that version")
		}
	}
	return nil
}

// allLooks are the command line's look and every screen's.
func (s *server) allLooks() []look {
	all := []look{s.screens.flagged.look}
	s.screens.mu.RLock()
	defer s.screens.mu.RUnlock()
	for _, l := range s.screens.looks {
		all = append(all, l.look)
	}
	return all
}

// lookMade says why look l cannot have made key k, or nil when it can.
func (s *server) lookMade(l look, k transcode.Key) error {
	spec := l.frameSpec
	still := k.Still.On()
	switch {
	case still && (k.Width < encode.MinWidth || k.Width > encode.MaxWidth || k.Height < encode.MinWidth ||
		k.Height > encode.MaxWidth || int64(k.Width)*int64(k.Height) > min(maxFrameArea, s.frames.lim.MaxPixels) || k.Pair.Name != ""):
		return errors.New("a still no client may ask for")
	case still:
	case k.Width != l.width && (k.Width < encode.MinWidth || k.Width > encode.MaxWidth) && (k.Width != 0 || spec.fit.X != 0):
		return errors.New("a width no client may ask for")
	case k.Height != spec.height(k.Width) || int64(k.Width)*int64(k.Height) > maxFrameArea:
		return errors.New("not this instance's frame height")
	}
	switch {
	case k.Quality != spec.quality || k.Background != spec.bg || k.Blur != spec.blur || k.Crop != spec.crop:
		return errors.New("not this instance's quality, background and fill")
	case k.Caption.Template != 0 && k.Caption.Template != spec.caption.Hash(),
		k.Caption.Count != 0 && !spec.caption.Counts():
		return errors.New("not this instance's caption")
	case k.Pair.Name != "" && !l.pairs:
		return errors.New("this instance pairs no portraits")
	}
	return nil
}

// listed waits, up to listWait, for the first listing of the folder: the
// albums and files a request names and the last run's listing does not
// have are known only then.
func (s *server) listed() {
	select {
	case <-s.folder.Listed():
	case <-time.After(listWait):
	}
}

// listWait bounds how long a request waits for the folder's first listing.
const listWait = 10 * time.Second

// portrait tells the timelines which slides are portraits, from the index,
// when portraits are paired (--pair-portraits, or a screen's); a slide the index has not read yet is shown
// alone.
func (s *server) portrait(pairs bool) func(source.Slide) bool {
	if !pairs {
		return nil
	}
	return func(sl source.Slide) bool {
		i, err := s.index.Get(sl)
		return err == nil && i.Portrait()
	}
}

// readTimeout bounds the reading of a request, body included, on both
// servers: a client that announces a body and never sends it is let go.
// Streams outlast it: net/http lifts the read deadline once a request is
// read.
const readTimeout = 15 * time.Second

// newHTTPServer returns a server with the limits both the public and the
// peer server keep: time to send the request, its header size, idle
// connections. There is no WriteTimeout: it would cut every stream.
func newHTTPServer(h http.Handler, read time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, read),
		ReadTimeout:       read,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// url is the address to open in a browser.
func (s *server) url() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// serve runs until ctx ends, then ends every stream and returns within
// about two seconds.
func (s *server) serve(ctx context.Context) error {
	streams, stopStreams := context.WithCancel(context.Background())
	defer stopStreams()
	hs := newHTTPServer(s.root, s.cfg.readTimeout, s.log)
	// Streams end when this context does: Shutdown alone would wait for
	// them forever.
	hs.BaseContext = func(net.Listener) context.Context { return streams }
	// Every goroutine started here ends with streams, and serve returns
	// only once they all have: the index has saved its state, no timeline
	// renders, and the decode children are gone.
	var bg sync.WaitGroup
	defer func() {
		stopStreams()
		if s.devices != nil {
			s.devices.Close()
		}
		bg.Wait()
		s.frames.tr.Close()
	}()
	bg.Go(func() { s.folder.Watch(streams, s.cfg.rescan) })
	bg.Go(func() { s.index.Run(streams) })
	bg.Go(func() { returnStartMemory(streams, s.index.Settled()) })
	bg.Go(func() { s.channels.Serve(streams) })
	bg.Go(func() {
		limitMemory(streams, func() int64 { return s.held() + s.handler.Clients()*clientSlack }, s.budget)
	})
	bg.Go(func() { s.reloadOnHangup(streams) })
	if s.mqtt != nil {
		bg.Go(func() { s.mqtt.Run(streams) })
	}
	if s.cfg.screens != "" {
		bg.Go(func() {
			if err := screens.Watch(streams, s.cfg.screens, s.screensRead, s.reloadScreens, s.log); err != nil {
				s.log.Error("cannot watch the screens file; it is read again on SIGHUP only", "err", err)
			}
		})
	}
	if s.fleet != nil {
		bg.Go(func() { s.fleet.watch(streams) })
		bg.Go(func() {
			s.fleet.waitForPeers(streams)
			s.timeline.Run(streams)
		})
	} else {
		bg.Go(func() { s.timeline.Run(streams) })
	}

	errc := make(chan error, 1)
	bg.Go(func() { errc <- hs.Serve(s.ln) })
	s.log.Info("slidestream is serving", "url", s.url(), "dir", s.cfg.dir, "width", s.cfg.width,
		"interval", s.cfg.interval.String(), "cache", s.cfg.cacheSize.String())
	if libs := decode.SystemLibraries(); libs != "" {
		s.log.Info("HEIC and AVIF are decoded by system libraries, not the built-in ones (a static build always uses its own)", "libraries", libs)
	}
	switch {
	case s.cfg.motion.mode != "auto":
	case s.cfg.video != nil:
		s.log.Info("clips, Live Photos and Motion Photos play", "ffmpeg", s.cfg.video.Path)
	default:
		s.log.Warn("no ffmpeg: clips are skipped, Live Photos and Motion Photos show their photo (install ffmpeg, or --ffmpeg PATH)", "ffmpeg", s.cfg.ffmpeg)
	}
	if s.cfg.auth == nil {
		s.log.Info("authentication is off: anyone who can reach the address can watch (see --auth)")
	} else {
		s.log.Info("HTTP Basic authentication is on for every path but /healthz", "user", s.cfg.auth.user)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "clients", s.handler.Clients())
	s.handler.Shutdown()
	stopStreams()
	// Both servers stop together, by one deadline that leaves the process
	// time to exit within two seconds of the signal.
	done, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	if s.fleet != nil {
		wg.Go(func() { s.fleet.close(done) })
	}
	if err := hs.Shutdown(done); err != nil {
		hs.Close()
	}
	s.handler.Wait(done) // the streams on connections of their own
	wg.Wait()
	return nil
}

// reloadOnHangup reads the folder and the peer list again on SIGHUP, the
// signal service managers send for a reload, instead of dying of it.
func (s *server) reloadOnHangup(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		s.log.Info("SIGHUP: reading the folder, the devices and the peer list again")
		s.folder.Scan()
		if s.devices != nil {
			s.devices.Reload()
		}
		if s.cfg.screens != "" {
			b, err := screens.Read(s.cfg.screens)
			if err == nil {
				err = s.reloadScreens(b)
			}
			if err != nil {
				s.log.Error("cannot read the screens file; keeping the last good one", "file", s.cfg.screens, "err", err)
			}
		}
		if s.fleet != nil {
			if err := s.fleet.refresh(ctx); err != nil {
				s.log.Warn("cannot update the fleet's peers; keeping the last list", "err", err)
			}
		}
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bench" {
		return runBench(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "token" {
		return printToken(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[len(args)-1] == "check" {
		return checkScreens(args[:len(args)-1], stdout, stderr)
	}
	cfg, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s, err := newServer(cfg, log)
	if err != nil {
		return err
	}
	return s.serve(ctx)
}

// printToken prints a new device token for the devices file: 128 random
// bits, as 22 URL-safe characters.
func printToken(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "slidestream token: takes no arguments\n")
		return errUsage
	}
	var b [16]byte
	rand.Read(b[:])
	fmt.Fprintln(stdout, base64.RawURLEncoding.EncodeToString(b[:]))
	return nil
}

// checkScreens checks the --screens file as the server would read it,
// against the other flags given: "FILE: N screens" and status 0, or the
// reason and status 2.
func checkScreens(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	if cfg.screens == "" {
		fmt.Fprintln(stderr, "slidestream check: give the file to check, --screens FILE")
		return errUsage
	}
	s := &server{cfg: cfg, handler: web.NewHandler(nil, web.HandlerOptions{MaxStillPixels: min(maxFrameArea, cfg.limits().MaxPixels)})}
	b, err := screens.Read(cfg.screens)
	n := 0
	if err == nil {
		_, err = screens.Parse(b, func(sc screens.Named) error {
			n++
			_, _, err := s.resolveScreen(sc)
			return err
		})
	}
	if err != nil {
		fmt.Fprintf(stderr, "slidestream check: %s: %v\n", cfg.screens, err)
		return errUsage
	}
	fmt.Fprintf(stdout, "%s: %d screens\n", cfg.screens, n)
	return nil
}

// indexRead is what the index reads of a slide: its header, and how it
// moves (a Motion Photo's video is found from the header's XMP, so a JPEG
// is opened once).
func indexRead(tr *transcode.Transcoder, p *probe) func(source.Slide) (source.Info, error) {
	return func(s source.Slide) (source.Info, error) {
		in, err := tr.Inspect(s)
		if err != nil {
			return in, err
		}
		if m := p.learn(s, in.Tail); m.kind != "photo" {
			in.Motion, in.Length = m.kind, m.length
		}
		return in, nil
	}
}

// returnStartMemory gives the operating system back, once the index has
// settled, what the start used and no longer needs. On a large library
// listing the folder and reading its index file make several times the
// garbage of what stays (directory entries, the file's records), and an
// idle server may not collect for minutes, holding it resident.
func returnStartMemory(ctx context.Context, settled <-chan struct{}) {
	select {
	case <-ctx.Done():
	case <-settled:
		debug.FreeOSMemory()
	}
}
