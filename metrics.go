package main

import (
	"net/http"
	"reflect"

	"github.com/groupcache/groupcache-go/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"slidestream/cache"
	"slidestream/decode"
	"slidestream/play"
	"slidestream/source"
	"slidestream/transcode"
	"slidestream/video"
	"slidestream/web"
)

// metrics holds what /metrics exposes. Counters of events are updated as
// they happen; the state of the cache, the folder and the stream is read at
// scrape time, so it is never stale and costs nothing between scrapes.
type metrics struct {
	reg         *prometheus.Registry
	framesSent  prometheus.Counter
	bytesSent   prometheus.Counter
	clientsGone *prometheus.CounterVec
	transcodes  *prometheus.CounterVec
	transcodeS  *prometheus.HistogramVec
	shared      prometheus.Counter
	memoryWait  prometheus.Counter
	motionSent  prometheus.Counter
}

// goneReasons are the values of clients_gone_total's reason label, shown
// at zero from the start so that rate() and alerts work before the first.
var goneReasons = []string{"left", "write-timeout", "write-error", "shutdown", "channel-gone"}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slidestream_frames_sent_total",
			Help: "JPEG parts written to streams, keep-alive repeats included.",
		}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slidestream_frame_bytes_sent_total",
			Help: "Bytes of JPEG parts written to streams.",
		}),
		clientsGone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slidestream_clients_gone_total",
			Help: "Streams that ended, by reason: left (the client closed it), write-timeout (it stopped reading and was dropped), write-error, shutdown, channel-gone (its screen was removed, or the channel it was moved to could not be had).",
		}, []string{"reason"}),
		transcodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slidestream_transcodes_total",
			Help: "Source images this process decoded and encoded, by format and result (ok or error).",
		}, []string{"format", "result"}),
		motionSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slidestream_motion_frames_sent_total",
			Help: "Of slidestream_frames_sent_total, the frames of slides' motion (animated GIFs and WebPs).",
		}),
		shared: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slidestream_transcodes_shared_decode_total",
			Help: "Of slidestream_transcodes_total, the frames made from a decode shared with another frame of the same photo (several widths wanted at once).",
		}),
		memoryWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slidestream_decode_memory_wait_seconds_total",
			Help: "Time transcodes spent waiting for room in --decode-memory. While it grows, fewer photos decode at once than --workers allows; a larger --decode-memory lets more.",
		}),
		transcodeS: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "slidestream_transcode_seconds",
			Help:    "Time to turn one source file into one JPEG frame (read, decode, scale, encode), by source format.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"format"}),
	}
	for _, r := range goneReasons {
		m.clientsGone.WithLabelValues(r)
	}
	m.reg.MustRegister(m.framesSent, m.bytesSent, m.motionSent, m.clientsGone, m.transcodes, m.transcodeS, m.shared, m.memoryWait,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// FrameSent and ClientGone make metrics a web.Observer.
func (m *metrics) FrameSent(n int, motion bool) {
	m.framesSent.Inc()
	m.bytesSent.Add(float64(n))
	if motion {
		m.motionSent.Inc()
	}
}

func (m *metrics) ClientGone(reason string) { m.clientsGone.WithLabelValues(reason).Inc() }

// transcoded records one transcode; its format is "unknown" when the
// file's header could not be read.
func (m *metrics) transcoded(r transcode.Report) {
	f := string(r.Header.Format)
	if f == "" {
		f = "unknown"
	}
	result := "ok"
	if r.Err != nil {
		result = "error"
	}
	m.transcodes.WithLabelValues(f, result).Inc()
	if r.Err == nil {
		m.transcodeS.WithLabelValues(f).Observe(r.Took.Seconds())
	}
	if r.Shared {
		m.shared.Inc()
	}
	m.memoryWait.Add(r.MemoryWait.Seconds())
}

// watch registers the collector that reads the stream's state at scrape
// time.
func (m *metrics) watch(tl *play.Timeline, h *web.Handler, cs *play.Channels, x *source.Index) {
	m.reg.MustRegister(&stateCollector{tl: tl, h: h, cs: cs, x: x})
}

// watchTranscoder adds how many transcodes run now.
func (m *metrics) watchTranscoder(tr *transcode.Transcoder) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "slidestream_transcodes_running",
		Help: "Transcodes holding a worker now (at most --workers).",
	}, func() float64 { return float64(tr.Running()) }))
}

// watchVideo adds the ffmpeg children's counts, where ffmpeg is there.
func (m *metrics) watchVideo(v *video.FFmpeg) {
	for _, c := range []struct {
		name, help string
		of         func(started, failed, killed int64) int64
	}{
		{"slidestream_ffmpeg_started_total", "ffmpeg children started (a clip's first frame, or the motion of a clip, Live Photo or Motion Photo at one width).",
			func(s, _, _ int64) int64 { return s }},
		{"slidestream_ffmpeg_failed_total", "ffmpeg children that failed: an exit status other than 0, or frames that did not parse.",
			func(_, f, _ int64) int64 { return f }},
		{"slidestream_ffmpeg_killed_total", "ffmpeg children killed: their slide left the screen, or they ran out of time.",
			func(_, _, k int64) int64 { return k }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(c.of(v.Stats())) }))
	}
}

// watchCache adds the local frame cache's state; fleet mode has none.
func (m *metrics) watchCache(c *cache.Cache) {
	m.reg.MustRegister(&cacheCollector{c})
}

// watchFleet adds groupcache's counters in fleet mode.
func (m *metrics) watchFleet(f *fleet) {
	m.reg.MustRegister(&fleetCollector{f: f})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

var (
	descClients = prometheus.NewDesc("slidestream_clients",
		"Streams being served now.", nil, nil)
	descSlides = prometheus.NewDesc("slidestream_slides",
		"Image files in the folder.", nil, nil)
	descSlideIndex = prometheus.NewDesc("slidestream_slide_index",
		"Place of the slide on screen in play order, from 0; -1 when nothing can be shown.", nil, nil)
	descChannels = prometheus.NewDesc("slidestream_channels",
		"Channels (?album=, ?order=, ?interval=) running besides the default one.", nil, nil)
	descPaused = prometheus.NewDesc("slidestream_paused",
		"1 while the default channel is paused (POST /api/pause), else 0.", nil, nil)
	descAsleep = prometheus.NewDesc("slidestream_asleep",
		"1 during the --sleep hours, else 0.", nil, nil)
	descPending = prometheus.NewDesc("slidestream_index_pending",
		"Files whose header and date the background index has not read yet.", nil, nil)
	descSkipped = prometheus.NewDesc("slidestream_skipped_files",
		"Files that cannot be shown, by kind of problem (see /images for each file's reason).", []string{"kind"}, nil)
	descCacheHits = prometheus.NewDesc("slidestream_cache_hits_total",
		"Frame lookups answered from the cache.", nil, nil)
	descCacheShared = prometheus.NewDesc("slidestream_cache_shared_total",
		"Frame lookups that waited for a transcode another caller had started.", nil, nil)
	descCacheMisses = prometheus.NewDesc("slidestream_cache_misses_total",
		"Frame lookups that started a transcode.", nil, nil)
	descCacheErrors = prometheus.NewDesc("slidestream_cache_load_errors_total",
		"Transcodes that failed (failures are not cached).", nil, nil)
	descCacheEvictions = prometheus.NewDesc("slidestream_cache_evictions_total",
		"Frames dropped to stay within --cache-size.", nil, nil)
	descCacheBytes = prometheus.NewDesc("slidestream_cache_bytes",
		"Bytes of frames counted against --cache-size: those cached and those the slideshow holds beside them.", nil, nil)
	descCacheHeld = prometheus.NewDesc("slidestream_cache_held_bytes",
		"Of slidestream_cache_bytes, the frames the slideshow holds (slides on screen and next, crossfades), which are not evicted.", nil, nil)
	descCacheMaxBytes = prometheus.NewDesc("slidestream_cache_max_bytes",
		"The cache's bound, --cache-size.", nil, nil)
	descCacheItems = prometheus.NewDesc("slidestream_cache_frames",
		"Frames in the cache.", nil, nil)
)

// skipKinds are the skipped_files kinds always reported, at zero when no
// file has that problem.
var skipKinds = []string{"not-regular", "too-large", "too-many-pixels", "unknown-format", "animated", "unsupported", "corrupt", "unreadable", "other"}

type stateCollector struct {
	tl *play.Timeline
	h  *web.Handler
	cs *play.Channels
	x  *source.Index
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClients, descSlides, descSlideIndex, descSkipped, descChannels, descPending, descPaused, descAsleep} {
		ch <- d
	}
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descClients, float64(s.h.Clients()))
	gauge(descChannels, float64(s.cs.Running()))
	gauge(descPending, float64(s.x.Pending()))
	gauge(descSlides, float64(len(s.tl.Slides())))
	idx := -1.0
	st, _ := s.tl.State()
	if st.Slide != nil {
		idx = float64(st.Slide.Index)
	}
	gauge(descSlideIndex, idx)
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(descPaused, flag(st.Paused))
	gauge(descAsleep, flag(st.Asleep))
	kinds := make(map[string]int, len(skipKinds))
	for _, k := range skipKinds {
		kinds[k] = 0
	}
	for _, f := range s.tl.Failures().All() {
		kinds[decode.Kind(f.Err)]++
	}
	for k, n := range kinds {
		gauge(descSkipped, float64(n), k)
	}
}

type cacheCollector struct{ c *cache.Cache }

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCacheHits, descCacheShared, descCacheMisses, descCacheErrors,
		descCacheEvictions, descCacheBytes, descCacheHeld, descCacheMaxBytes, descCacheItems} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	st := c.c.Stats()
	counter(descCacheHits, st.Hits)
	counter(descCacheShared, st.Shared)
	counter(descCacheMisses, st.Misses)
	counter(descCacheErrors, st.LoadErrs)
	counter(descCacheEvictions, st.Evictions)
	gauge(descCacheBytes, float64(st.Bytes))
	gauge(descCacheHeld, float64(st.Held))
	gauge(descCacheMaxBytes, float64(st.MaxBytes))
	gauge(descCacheItems, float64(st.Items))
}

var (
	descGroup = prometheus.NewDesc("slidestream_groupcache_total",
		"Fleet mode: groupcache's counters for the frame group, by event: gets (every lookup, peers' included), "+
			"cache_hits, loads (lookups that missed), loads_deduped (after merging concurrent ones), "+
			"local_loads (this instance made the frame), local_load_errors, peer_loads (fetched from the owner), "+
			"peer_errors (the owner could not be reached; the frame was made here instead).",
		[]string{"event"}, nil)
	descGroupCacheBytes = prometheus.NewDesc("slidestream_groupcache_bytes",
		"Fleet mode: bytes held, by cache: main (frames this instance owns) and hot (copies of other owners' frames).",
		[]string{"cache"}, nil)
	descGroupCacheItems = prometheus.NewDesc("slidestream_groupcache_frames",
		"Fleet mode: frames held, by cache (main or hot).", []string{"cache"}, nil)
	descGroupCacheHits = prometheus.NewDesc("slidestream_groupcache_cache_hits_total",
		"Fleet mode: lookups answered by each cache (main or hot).", []string{"cache"}, nil)
	descGroupCacheEvictions = prometheus.NewDesc("slidestream_groupcache_evictions_total",
		"Fleet mode: frames dropped from each cache (main or hot) to stay within its size.", []string{"cache"}, nil)
	descPeers = prometheus.NewDesc("slidestream_fleet_peers",
		"Fleet mode: instances in the peer list in use, this one included.", nil, nil)
)

// cacheStatser is what groupcache's group offers beyond its interface.
type cacheStatser interface {
	CacheStats(groupcache.CacheType) groupcache.CacheStats
}

type fleetCollector struct{ f *fleet }

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGroup, descGroupCacheBytes, descGroupCacheItems,
		descGroupCacheHits, descGroupCacheEvictions, descPeers} {
		ch <- d
	}
}

// groupStats reads the group's counters in place. GroupStats returns a
// copy of them made without atomic loads, while the group adds to them
// atomically: a data race (groupcache-go v3.5.0, the only version served).
// The group's Stats field is reached by reflection instead, and every
// counter is then loaded atomically by its Get; if the field is not where
// this version has it, the copy is used.
func groupStats(g groupcache.Group) *groupcache.GroupStats {
	if v := reflect.ValueOf(g); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("Stats"); f.IsValid() && f.CanAddr() && f.Addr().CanInterface() {
			if st, ok := f.Addr().Interface().(*groupcache.GroupStats); ok {
				return st
			}
		}
	}
	st := g.GroupStats()
	return &st
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	st := groupStats(c.f.group)
	for _, e := range []struct {
		name string
		v    int64
	}{
		{"gets", st.Gets.Get()}, {"cache_hits", st.CacheHits.Get()}, {"loads", st.Loads.Get()},
		{"loads_deduped", st.LoadsDeduped.Get()}, {"local_loads", st.LocalLoads.Get()},
		{"local_load_errors", st.LocalLoadErrs.Get()}, {"peer_loads", st.PeerLoads.Get()},
		{"peer_errors", st.PeerErrors.Get()},
	} {
		ch <- prometheus.MustNewConstMetric(descGroup, prometheus.CounterValue, float64(e.v), e.name)
	}
	if cs, ok := c.f.group.(cacheStatser); ok {
		for _, w := range []struct {
			name string
			t    groupcache.CacheType
		}{{"main", groupcache.MainCache}, {"hot", groupcache.HotCache}} {
			s := cs.CacheStats(w.t)
			ch <- prometheus.MustNewConstMetric(descGroupCacheBytes, prometheus.GaugeValue, float64(s.Bytes), w.name)
			ch <- prometheus.MustNewConstMetric(descGroupCacheItems, prometheus.GaugeValue, float64(s.Items), w.name)
			ch <- prometheus.MustNewConstMetric(descGroupCacheHits, prometheus.CounterValue, float64(s.Hits), w.name)
			ch <- prometheus.MustNewConstMetric(descGroupCacheEvictions, prometheus.CounterValue, float64(s.Evictions), w.name)
		}
	}
	c.f.mu.Lock()
	n := len(c.f.current)
	c.f.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(n))
}
