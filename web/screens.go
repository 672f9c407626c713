package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Screens: a screen is a name for a channel with its own presentation.
// /s/NAME/slideshow is /slideshow?screen=NAME, and so for the page
// (/s/NAME), the snapshot, the control page and the API; ?screen=NAME
// works on every route. The screen's channel replaces any the request
// names; its width and still parameters are defaults the request may
// change.

// Screens resolves screen names; without it there are none.
type Screens interface {
	// Screen is the query screen name stands for (its album, order,
	// interval, width and still parameters) and its look
	// (play.Channel.Look); ok is false when there is no such screen.
	Screen(name string) (q url.Values, look string, ok bool)
	// List describes the screens, in order.
	List() []ScreenInfo
}

// ScreenInfo describes a screen for GET /api/screens.
type ScreenInfo struct {
	Name string `json:"name"`
	// Settings are the screen's own, as its file gives them.
	Settings map[string]any `json:"settings,omitempty"`
}

// screenRef is the screen a request was resolved for, kept in its
// context for the pages that link to the screen again.
type screenRef struct {
	name string
	// base is how the page's URL reaches the screen's routes: "NAME/"
	// for /s/NAME (no trailing slash), "" where relative links already
	// land there.
	base string
	// asked is the request's own query, before the screen was applied:
	// a stream applies the screen again when the screens change.
	asked url.Values
}

type screenKey struct{}

func screenOf(r *http.Request) (screenRef, bool) {
	s, ok := r.Context().Value(screenKey{}).(screenRef)
	return s, ok
}

// resolve turns a request for a screen into the request for its channel
// and presentation, or answers it (404 for a name no screen has) and
// returns nil.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) *http.Request {
	path, name, viaPath := r.URL.Path, "", false
	if rest, ok := strings.CutPrefix(path, "/s/"); ok {
		var sub string
		name, sub, _ = strings.Cut(rest, "/")
		switch {
		case sub == "" || sub == "slideshow" || sub == "snapshot" || sub == "control" || strings.HasPrefix(sub, "api/"):
		default:
			http.NotFound(w, r)
			return nil
		}
		path, viaPath = "/"+sub, true
	}
	// Most requests name no screen: they are passed on without parsing
	// their query here (a streaming client asks once, a snapshot poller
	// often).
	raw := r.URL.RawQuery
	if !viaPath && !strings.Contains(raw, "screen") && !strings.Contains(raw, lookParam) {
		return r
	}
	q := r.URL.Query()
	if !viaPath && !q.Has("screen") && !q.Has(lookParam) {
		return r
	}
	q.Del(lookParam)
	asked := url.Values{}
	for k, v := range q {
		asked[k] = v
	}
	if !viaPath {
		name = q.Get("screen")
	}
	var ref screenRef
	if name != "" || viaPath {
		if err := h.applyScreen(q, name); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return nil
		}
		ref.name, ref.asked = name, asked
		if viaPath && !strings.Contains(strings.TrimPrefix(r.URL.Path, "/s/"), "/") {
			ref.base = url.PathEscape(name) + "/"
		}
	}
	r2 := r.WithContext(context.WithValue(r.Context(), screenKey{}, ref))
	u := *r.URL
	u.Path, u.RawPath, u.RawQuery = path, "", q.Encode()
	r2.URL = &u
	return r2
}

// applyScreen makes q ask for screen name: its channel in place of any q
// names, its width and still parameters where q gives none, and its look.
func (h *Handler) applyScreen(q url.Values, name string) error {
	if h.screens == nil {
		return fmt.Errorf("no screen %q: this server has no screens (--screens FILE)", name)
	}
	sq, look, ok := h.screens.Screen(name)
	if !ok {
		return fmt.Errorf("no screen %q (GET /api/screens lists them)", name)
	}
	for _, p := range channelParams {
		q.Del(p)
	}
	for k, v := range sq {
		if !q.Has(k) {
			q[k] = v
		}
	}
	if a := h.settingOf(name).album; a != nil {
		q.Set("album", *a)
	}
	q.Set("screen", name)
	if look != "" {
		q.Set(lookParam, look)
	}
	return nil
}

// ScreenNames are the screens' names, in order; none without screens.
func (h *Handler) ScreenNames() []string {
	if h.screens == nil {
		return nil
	}
	var names []string
	for _, s := range h.screens.List() {
		names = append(names, s.Name)
	}
	return names
}

// serveScreens answers GET /api/screens: every screen, its settings and
// the URLs to give its device.
func (h *Handler) serveScreens(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ScreenInfo
		Page      string `json:"page"`
		Slideshow string `json:"slideshow"`
		Snapshot  string `json:"snapshot"`
		Control   string `json:"control"`
	}
	list := []entry{}
	for _, s := range h.screens.List() {
		base := "/s/" + url.PathEscape(s.Name)
		list = append(list, entry{ScreenInfo: s, Page: base, Slideshow: base + "/slideshow", Snapshot: base + "/snapshot", Control: base + "/control"})
	}
	writeJSON(w, map[string]any{"screens": list})
}
