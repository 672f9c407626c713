package main

import (
	"encoding/json"
	"net/http"
	"net/url"

	"slidestream/source"
)

// albumEntry is one album as /api/albums lists it, with the URLs that
// play it.
type albumEntry struct {
	source.Album
	Page      string `json:"page"`
	Slideshow string `json:"slideshow"`
	Snapshot  string `json:"snapshot"`
}

// serveAlbums lists every subfolder with its photo counts: what a user
// pastes after ?album= to give a screen its own channel.
func (s *server) serveAlbums(w http.ResponseWriter, r *http.Request) {
	albums := s.folder.Albums()
	out := struct {
		Photos int          `json:"photos"`
		Albums []albumEntry `json:"albums"`
	}{Albums: make([]albumEntry, 0, len(albums))}
	slides, _ := s.folder.Slides()
	out.Photos = len(slides)
	for _, a := range albums {
		q := "?" + url.Values{"album": {a.Path}}.Encode()
		out.Albums = append(out.Albums, albumEntry{Album: a, Page: "/" + q, Slideshow: "/slideshow" + q, Snapshot: "/snapshot" + q})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}
