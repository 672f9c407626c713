package trmnl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"slidestream/web"
)

// Stills is what the API needs of the server: web.Handler has it.
type Stills interface {
	// StillInfo answers for a /snapshot query of a still without making
	// it: its tag and the seconds until it changes.
	StillInfo(ctx context.Context, q url.Values, client string) (web.StillInfo, error)
	// Hold keeps a channel running until release is called.
	Hold(q url.Values, client string) (release func(), err error)
}

// Options configures a Handler.
type Options struct {
	// Stills answers for the devices' pictures, and Snapshot serves them
	// (GET /snapshot with a still's query).
	Stills   Stills
	Snapshot http.Handler
	Log      *slog.Logger
}

// Handler serves TRMNL's display API for the devices of a Registry:
// GET /api/setup, GET /api/display, POST /api/log, and the pictures at
// GET /trmnl/KEY/WxH/NAME. It checks each device's token itself: mount it
// outside any password. It is safe for concurrent use.
type Handler struct {
	reg      *Registry
	stills   Stills
	snapshot http.Handler
	log      *slog.Logger
	mux      *http.ServeMux

	mu      sync.Mutex // protects refused
	refused time.Time  // when a refusal was last logged
}

// Paths are the patterns a Handler serves, for the caller's mux.
var Paths = []string{"GET /api/setup", "GET /api/display", "POST /api/log", "GET /trmnl/{key}/{size}/{name}"}

// NewHandler returns the API of reg's devices.
func NewHandler(reg *Registry, o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{reg: reg, stills: o.Stills, snapshot: o.Snapshot, log: o.Log, mux: http.NewServeMux()}
	h.mux.HandleFunc(Paths[0], h.serveSetup)
	h.mux.HandleFunc(Paths[1], h.serveDisplay)
	h.mux.HandleFunc(Paths[2], h.serveLog)
	h.mux.HandleFunc(Paths[3], h.servePicture)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// ServeDevices answers GET /api/devices: the devices listed and what they
// last said, without their tokens. It belongs behind the server's
// password.
func (h *Handler) ServeDevices(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"devices": h.reg.Status()})
}

// waitFor bounds how long a device waits for its channel's first slide.
const waitFor = 20 * time.Second

// maxHeader bounds each header value a device sends that is kept.
const maxHeader = 32

// serveSetup gives a listed MAC its token, while the device's setup is
// open (until it first shows a picture, or the file is read again).
func (h *Handler) serveSetup(w http.ResponseWriter, r *http.Request) {
	mac := r.Header.Get("ID")
	e := h.reg.byMACOf(mac)
	refuse := func(why string) {
		h.refusal("setup refused", "id", clip(mac), "remote", r.RemoteAddr, "reason", why)
		writeJSON(w, http.StatusNotFound, map[string]any{"status": 404, "api_key": nil, "friendly_id": nil, "image_url": nil, "message": why})
	}
	if e == nil {
		refuse("no device with this MAC is listed in the devices file")
		return
	}
	e.mu.Lock()
	open := e.setupOpen
	e.mu.Unlock()
	if !open {
		refuse("this device has shown pictures since the devices file was read: set it up again after a reload (SIGHUP, or a change to the file)")
		return
	}
	h.log.Info("device set up", "device", e.Name, "id", clip(mac), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{
		"status": 200, "api_key": e.Token, "friendly_id": e.fid,
		"image_url": h.pictureURL(r, e, panelOf(r, e), "setup"),
		"message":   "Registered with slidestream as " + e.Name,
	})
}

// serveDisplay tells a device which picture to fetch, under which name
// (the same name for the same picture, so that the device draws nothing
// new until it changes) and how long to sleep: until the next slide.
func (h *Handler) serveDisplay(w http.ResponseWriter, r *http.Request) {
	e := h.device(w, r)
	if e == nil {
		return
	}
	if err := e.hold(h.stills.Hold); err != nil {
		h.fail(w, e, err)
		return
	}
	panel := panelOf(r, e)
	ctx, cancel := context.WithTimeout(r.Context(), waitFor)
	defer cancel()
	info, err := h.stills.StillInfo(ctx, e.Query(panel), "device "+e.Name)
	if err != nil {
		h.fail(w, e, err)
		return
	}
	name := info.Tag + "." + info.Format
	// One second past the change: a device that wakes on the dot would
	// find the slide before it.
	refresh := info.Seconds + 1
	e.mu.Lock()
	e.setupOpen = false
	e.seen = Seen{At: time.Now(), Battery: clip(r.Header.Get("Battery-Voltage")), Charge: clip(r.Header.Get("Percent-Charged")),
		RSSI: clip(r.Header.Get("RSSI")), Firmware: clip(r.Header.Get("FW-Version")), Model: clip(r.Header.Get("Model")),
		Panel: panel, Filename: name, Refresh: refresh}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"status":          0,
		"image_url":       h.pictureURL(r, e, panel, name),
		"filename":        name,
		"refresh_rate":    refresh,
		"update_firmware": false,
		"firmware_url":    nil,
		"reset_firmware":  false,
	})
}

// fail answers a device whose picture cannot be found now (an album gone
// from the folder, too many channels): 503, and the reason logged.
func (h *Handler) fail(w http.ResponseWriter, e *entry, err error) {
	h.log.Warn("cannot answer a device", "device", e.Name, "err", err)
	w.Header().Set("Retry-After", "60")
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": 503, "message": err.Error()})
}

// maxLogBody bounds a log a device posts, and maxLogEntries the entries
// of it that are logged.
const (
	maxLogBody    = 64 << 10
	maxLogEntries = 20
	maxLogEntry   = 512
)

// serveLog logs what a device reports of itself (its firmware's errors:
// failed downloads, low battery), a line per entry.
func (h *Handler) serveLog(w http.ResponseWriter, r *http.Request) {
	e := h.device(w, r)
	if e == nil {
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLogBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"status": 413, "message": fmt.Sprintf("a log is at most %d bytes", maxLogBody)})
		return
	}
	if err != nil {
		return
	}
	entries, err := logEntries(b)
	if err != nil {
		h.refusal("device log refused", "device", e.Name, "reason", err.Error())
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "message": err.Error()})
		return
	}
	for i, entry := range entries {
		if i == maxLogEntries {
			h.log.Info("device log", "device", e.Name, "entries_left_out", len(entries)-i)
			break
		}
		if len(entry) > maxLogEntry {
			entry = entry[:maxLogEntry]
		}
		h.log.Info("device log", "device", e.Name, "entry", string(entry))
	}
	w.WriteHeader(http.StatusNoContent)
}

// logEntries are the entries of a device's log: TRMNL's firmware posts
// {"log": {"logs_array": [...]}}; a lone object or array is taken too.
func logEntries(b []byte) ([]json.RawMessage, error) {
	var v struct {
		Log struct {
			Entries []json.RawMessage `json:"logs_array"`
		} `json:"log"`
		Logs []json.RawMessage `json:"logs"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		var list []json.RawMessage
		if json.Unmarshal(b, &list) == nil {
			return list, nil
		}
		return nil, fmt.Errorf("not a JSON log: %v", err)
	}
	switch {
	case v.Log.Entries != nil:
		return v.Log.Entries, nil
	case v.Logs != nil:
		return v.Logs, nil
	}
	return []json.RawMessage{bytes.TrimSpace(b)}, nil
}

// servePicture serves a device's picture: its channel's slide as a still,
// as GET /snapshot does (with an ETag, 304 on a match, and max-age until
// the next slide). The name only tells one picture from the next.
func (h *Handler) servePicture(w http.ResponseWriter, r *http.Request) {
	e := h.reg.byKeyOf(r.PathValue("key"))
	if e == nil {
		http.Error(w, "no device has this picture key (it changes with the device's token)", http.StatusNotFound)
		return
	}
	panel, ok := parseSize(r.PathValue("size"))
	if !ok {
		http.Error(w, "want a picture size WxH in the path", http.StatusBadRequest)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: "/snapshot", RawQuery: e.Query(panel).Encode()}
	r2.RequestURI = r2.URL.RequestURI()
	h.snapshot.ServeHTTP(w, r2)
}

// device finds the device whose Access-Token a request carries, or
// refuses the request (401) and returns nil.
func (h *Handler) device(w http.ResponseWriter, r *http.Request) *entry {
	e := h.reg.byTokenOf(r.Header.Get("Access-Token"))
	if e == nil {
		h.refusal("device refused", "path", r.URL.Path, "id", clip(r.Header.Get("ID")), "remote", r.RemoteAddr, "reason", "unknown Access-Token")
		writeJSON(w, http.StatusUnauthorized, map[string]any{"status": 401, "message": "unknown Access-Token: list the device and its token in the devices file"})
	}
	return e
}

// refusal logs a refused request, at most one every refuseEvery: a
// stranger sending requests cannot fill the log.
func (h *Handler) refusal(msg string, args ...any) {
	h.mu.Lock()
	now := time.Now()
	quiet := now.Sub(h.refused) < refuseEvery
	if !quiet {
		h.refused = now
	}
	h.mu.Unlock()
	if !quiet {
		h.log.Warn(msg, args...)
	}
}

const refuseEvery = 10 * time.Second

// panelOf is e's panel size: its own, else what the device reports in
// its Width and Height headers, else DefaultPanel.
func panelOf(r *http.Request, e *entry) image.Point {
	if e.Size != "" {
		if p, ok := parseSize(e.Size); ok {
			return p
		}
	}
	w, err1 := strconv.Atoi(r.Header.Get("Width"))
	h, err2 := strconv.Atoi(r.Header.Get("Height"))
	if err1 != nil || err2 != nil || w < 16 || h < 16 || w > 4096 || h > 4096 {
		return DefaultPanel
	}
	return image.Pt(w, h)
}

func parseSize(s string) (image.Point, bool) {
	a, b, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return image.Point{}, false
	}
	return image.Pt(w, h), true
}

// pictureURL is the absolute URL of e's picture named name, on the host
// and scheme the device reached this server by.
func (h *Handler) pictureURL(r *http.Request, e *entry, panel image.Point, name string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: fmt.Sprintf("/trmnl/%s/%dx%d/%s", e.key, panel.X, panel.Y, name)}
	return u.String()
}

// clip bounds a header value kept or logged.
func clip(s string) string {
	if len(s) > maxHeader {
		return s[:maxHeader]
	}
	return s
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
