package web

import (
	"net/http"
	"net/url"
	"strconv"

	"slidestream/source"
)

// Albums lists the subfolders of the folder, for /api/albums.
// *source.Folder is one.
type Albums interface {
	Albums() []source.Album
	// Slides lists every file of the folder.
	Slides() ([]source.Slide, <-chan struct{})
}

// albumEntry is one album as /api/albums lists it, with the URLs that
// play it.
type albumEntry struct {
	source.Album
	Page      string `json:"page"`
	Slideshow string `json:"slideshow"`
	Snapshot  string `json:"snapshot"`
}

// albumsPage is the body of /api/albums: the totals and one page of the
// albums, from Offset, at most Limit, as /api/images pages its files (a
// library of 10,000 albums made a 9 MB answer).
type albumsPage struct {
	Photos int          `json:"photos"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Limit  int          `json:"limit"`
	Albums []albumEntry `json:"albums"`
	// Next and Prev are the URLs of the neighbouring pages, if any.
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// serveAlbums lists the subfolders with their photo counts, a page at a
// time (?offset=, ?limit=): what a user pastes after ?album= to give a
// screen its own channel. The URLs encode the album's path byte for byte,
// so a folder whose name is not UTF-8 still plays.
func (h *Handler) serveAlbums(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := ParsePage(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	albums := h.albums.Albums()
	slides, _ := h.albums.Slides()
	out := albumsPage{Photos: len(slides), Total: len(albums), Offset: offset, Limit: limit, Albums: []albumEntry{}}
	for _, a := range albums[min(offset, len(albums)):min(offset+limit, len(albums))] {
		q := "?" + url.Values{"album": {a.Path}}.Encode()
		out.Albums = append(out.Albums, albumEntry{Album: a, Page: "/" + q, Slideshow: "/slideshow" + q, Snapshot: "/snapshot" + q})
	}
	page := func(at int) string {
		q := url.Values{}
		if at > 0 {
			q.Set("offset", strconv.Itoa(at))
		}
		if limit != DefaultPageSize {
			q.Set("limit", strconv.Itoa(limit))
		}
		if len(q) == 0 {
			return "/api/albums"
		}
		return "/api/albums?" + q.Encode()
	}
	if offset+limit < len(albums) {
		out.Next = page(offset + limit)
	}
	if offset > 0 {
		out.Prev = page(max(offset-limit, 0))
	}
	writeJSON(w, out)
}
