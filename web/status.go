package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"slidestream/source"
)

// ThumbWidth is the width of the thumbnails on the /images page.
const ThumbWidth = 320

// Inspector answers the questions of the image status page about files;
// the stream itself never asks them. It answers from what it knows, never
// by reading files, so the page is quick at any folder size.
type Inspector interface {
	// Slides lists every file of the folder, in name order.
	Slides() ([]source.Slide, <-chan struct{})
	// Inspect says what a file's header says and applies the limits that
	// can be checked without decoding: its format and size, or why it
	// cannot be shown; read is false while the header has not been read
	// yet.
	Inspect(s source.Slide) (info source.Info, read bool, err error)
	// Cached reports whether the slide's frame at width is in memory.
	Cached(s source.Slide, width int) bool
	// Kind names the kind of a failure in one word, such as "corrupt".
	Kind(err error) string
}

// ImageStatus is one file of the folder as /api/images reports it.
type ImageStatus struct {
	Name     string     `json:"name"`
	Format   string     `json:"format,omitempty"`
	Width    int        `json:"width,omitempty"`
	Height   int        `json:"height,omitempty"`
	Bytes    int64      `json:"bytes"`
	Modified time.Time  `json:"modified"`
	Taken    *time.Time `json:"taken,omitempty"`
	// Profile names the colour profile converted from to sRGB;
	// ProfileNote says why the file's profile is not applied (the photo
	// is shown as it is).
	Profile     string `json:"profile,omitempty"`
	ProfileNote string `json:"profile_note,omitempty"`
	// Motion says how the file moves (animation, clip, Live Photo,
	// Motion Photo) and Seconds for how long; MotionNote why it shows
	// as a still where it cannot play.
	Motion     string  `json:"motion,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	MotionNote string  `json:"motion_note,omitempty"`
	// Status is "ok", "skipped", or "pending" while the file's header
	// has not been read yet.
	Status string `json:"status"`
	// Reason says why a skipped file cannot be shown, and Kind names the
	// kind of problem in one word ("corrupt", "too-many-pixels", ...).
	Reason string `json:"reason,omitempty"`
	Kind   string `json:"kind,omitempty"`
	// Checked is "decoded" once the file has been decoded in full,
	// "header" when only its header has been read so far, "none" before.
	Checked string `json:"checked"`
	// Cached: the frame at the default width is in memory.
	Cached    bool   `json:"cached"`
	Showing   bool   `json:"showing"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

// ImagesReport is the body of /api/images: the totals of the folder (or
// the album asked for) and one page of its files.
type ImagesReport struct {
	Showing string `json:"showing,omitempty"`
	Width   int    `json:"width"`
	Album   string `json:"album,omitempty"`
	// Total counts the files (of the album); OK, Skipped and Pending
	// split them, and Kinds counts the skipped by kind.
	Total   int            `json:"total"`
	OK      int            `json:"ok"`
	Skipped int            `json:"skipped"`
	Pending int            `json:"pending"`
	Kinds   map[string]int `json:"kinds"`
	// Status is the filter asked for ("skipped", or "" for all), Matching
	// the files that pass it, and Images those from Offset, at most Limit.
	Status   string        `json:"status,omitempty"`
	Matching int           `json:"matching"`
	Offset   int           `json:"offset"`
	Limit    int           `json:"limit"`
	Images   []ImageStatus `json:"images"`
	// Next and Prev are the URLs of the neighbouring pages, if any.
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// Page sizes of /images and /api/images.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// reportQuery is what /images and /api/images were asked for.
type reportQuery struct {
	album, status string
	offset, limit int
}

func parseReportQuery(q url.Values) (reportQuery, error) {
	rq := reportQuery{album: strings.Trim(q.Get("album"), "/"), status: q.Get("status")}
	if rq.album != "" && !source.ValidName(rq.album) {
		return rq, fmt.Errorf("album %q: want a subfolder's path such as 2024/Italy", q.Get("album"))
	}
	if rq.status != "" && rq.status != "skipped" && rq.status != "ok" && rq.status != "pending" {
		return rq, fmt.Errorf("status %q: want skipped, ok or pending", rq.status)
	}
	var err error
	rq.offset, rq.limit, err = ParsePage(q)
	return rq, err
}

// ParsePage reads ?offset= (from 0) and ?limit= (from 1 to MaxPageSize,
// DefaultPageSize when not given) of a paged list, or says what is wrong.
func ParsePage(q url.Values) (offset, limit int, err error) {
	limit = DefaultPageSize
	for _, p := range []struct {
		name     string
		into     *int
		min, max int
	}{{"offset", &offset, 0, 1 << 30}, {"limit", &limit, 1, MaxPageSize}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return 0, 0, fmt.Errorf("%s %q: want a whole number from %d to %d", p.name, v, p.min, p.max)
			}
			*p.into = n
		}
	}
	return offset, limit, nil
}

func (rq reportQuery) url(path string, offset int) string {
	q := url.Values{}
	if rq.album != "" {
		q.Set("album", rq.album)
	}
	if rq.status != "" {
		q.Set("status", rq.status)
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if rq.limit != DefaultPageSize {
		q.Set("limit", strconv.Itoa(rq.limit))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// report gathers the totals of the files asked for and the status of one
// page of them. Everything comes from memory: the index's headers, the
// timeline's failures, the cache.
func (h *Handler) report(rq reportQuery, path string) ImagesReport {
	st, _ := h.tl.State()
	rep := ImagesReport{Width: h.width, Album: rq.album, Status: rq.status, Offset: rq.offset, Limit: rq.limit,
		Kinds: map[string]int{}, Images: []ImageStatus{}}
	if st.Slide != nil {
		rep.Showing = st.Slide.Slide.Name
	}
	// One copy of the memo for the whole report, not a lock per file:
	// a library may have 100,000.
	failed := h.tl.Failures().All()
	all, _ := h.inspect.Slides()
	for _, s := range all {
		if !source.InAlbum(s.Name, rq.album) {
			continue
		}
		rep.Total++
		is := ImageStatus{Name: s.Name, Bytes: s.Size, Modified: s.ModTime, Status: "ok", Checked: "header",
			Showing: s.Name == rep.Showing}
		info, read, err := h.inspect.Inspect(s)
		is.Format, is.Width, is.Height = info.Format, info.Width, info.Height
		is.Profile, is.ProfileNote = info.Profile, info.ProfileNote
		is.Motion, is.MotionNote = info.Motion, info.MotionNote
		is.Seconds = math.Round(info.Length.Seconds()*10) / 10
		if !info.Taken.IsZero() {
			is.Taken = &info.Taken
		}
		if f, ok := failed[s.Name]; ok && f.Slide.Same(s) {
			err = f.Err
			is.Checked = "decoded"
		}
		switch {
		case err != nil:
			is.Status, is.Kind = "skipped", h.inspect.Kind(err)
			is.Reason = strings.TrimPrefix(err.Error(), s.Name+": ")
			rep.Skipped++
			rep.Kinds[is.Kind]++
		case !read:
			is.Status, is.Checked = "pending", "none"
			rep.Pending++
		default:
			rep.OK++
		}
		if rq.status != "" && is.Status != rq.status {
			continue
		}
		rep.Matching++
		if rep.Matching <= rq.offset || len(rep.Images) >= rq.limit {
			continue
		}
		// Only the files on the page are looked up in the cache.
		if is.Status == "ok" {
			is.Cached = h.inspect.Cached(s, h.width)
			if is.Cached || is.Showing {
				is.Checked = "decoded"
			}
		}
		if is.Status != "skipped" {
			is.Thumbnail = "/images/thumb?" + url.Values{"name": {s.Name}, "v": {version(s)}}.Encode()
		}
		rep.Images = append(rep.Images, is)
	}
	if end := rq.offset + rq.limit; end < rep.Matching {
		rep.Next = rq.url(path, end)
	}
	if rq.offset > 0 {
		rep.Prev = rq.url(path, max(rq.offset-rq.limit, 0))
	}
	return rep
}

func (h *Handler) serveImagesJSON(w http.ResponseWriter, r *http.Request) {
	rq, err := parseReportQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, h.report(rq, "/api/images"))
}

var imagesPage = template.Must(template.New("images").Funcs(template.FuncMap{
	"clean": printable,
	"size": func(n int64) string {
		switch {
		case n >= 1<<20:
			return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
		case n >= 1<<10:
			return strconv.FormatInt(n>>10, 10) + " KiB"
		}
		return strconv.FormatInt(n, 10) + " B"
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>slidestream: images</title>
<style>
body { margin: 0; padding: 16px; background: #1b1b1b; color: #ddd; font: 14px/1.4 system-ui, sans-serif; }
h1 { font-size: 18px; font-weight: 600; margin: 0 0 12px; }
ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px;
     grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); }
li { background: #262626; border-radius: 6px; overflow: hidden; }
li.showing { outline: 3px solid #4a9eff; }
.thumb { aspect-ratio: 16 / 10; background: #111; display: flex; align-items: center; justify-content: center; }
.thumb img { max-width: 100%; max-height: 100%; display: block; }
.info { padding: 6px 8px 8px; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.meta { color: #999; font-size: 12px; }
.reason { color: #ff8a80; margin-top: 4px; }
p.meta { margin: 0 0 12px; }
a { color: #4a9eff; }
</style>
</head>
<body>
<h1>{{.OK}} of {{.Total}} images {{if .Album}}in {{clean .Album}} {{end}}can be shown{{if .Skipped}}, {{.Skipped}} skipped{{end}}{{if .Pending}}, {{.Pending}} not checked yet{{end}}{{if .Showing}}; now showing {{clean .Showing}}{{end}}</h1>
<p class="meta">{{range $k, $n := .Kinds}}{{$k}}: {{$n}} &nbsp; {{end}}{{if .Skipped}}<a href="{{.SkippedURL}}">only the skipped</a> &nbsp; {{end}}
{{- if .Matching}}{{.From}}–{{.To}} of {{.Matching}}{{end}}{{if .Prev}} &nbsp; <a href="{{.Prev}}">previous</a>{{end}}{{if .Next}} &nbsp; <a href="{{.Next}}">next</a>{{end}}</p>
<ul>
{{- range .Images}}
<li class="{{.Status}}{{if .Showing}} showing{{end}}">
<div class="thumb">{{if .Thumbnail}}<img src="{{slice .Thumbnail 1}}" alt="{{clean .Name}}" loading="lazy">{{else}}<span class="meta">skipped</span>{{end}}</div>
<div class="info">
<div class="name">{{clean .Name}}</div>
<div class="meta">{{if .Format}}{{.Format}}{{if .Width}} {{.Width}}×{{.Height}}{{end}}, {{end}}{{size .Bytes}}{{if .Taken}}, taken {{.Taken.Format "2 Jan 2006 15:04"}}{{end}}{{if .Profile}}, colour profile {{.Profile}}{{end}}{{if .Motion}}, {{.Motion}}{{if .Seconds}} {{.Seconds}} s{{end}}{{if .MotionNote}} ({{.MotionNote}}){{end}}{{end}}{{if .Cached}}, cached{{end}}</div>
{{- if .ProfileNote}}
<div class="meta">{{clean .ProfileNote}}</div>
{{- end}}
{{- if .Reason}}
<div class="reason">{{clean .Reason}}</div>
{{- end}}
</div>
</li>
{{- end}}
</ul>
</body>
</html>
`))

// serveImagesPage answers "why isn't my photo showing?": every file with its
// thumbnail, or the reason it is skipped.
func (h *Handler) serveImagesPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	rq, err := parseReportQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep := h.report(rq, "/images")
	skipped := rq
	skipped.status, skipped.offset = "skipped", 0
	imagesPage.Execute(w, struct {
		ImagesReport
		From, To   int
		SkippedURL string
	}{rep, rep.Offset + 1, rep.Offset + len(rep.Images), skipped.url("/images", 0)})
}

// serveThumb serves one slide at ThumbWidth, from the cache when it can.
// ?v= names the file version the page saw, so the browser may keep it.
func (h *Handler) serveThumb(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	var slide *source.Slide
	if list, _ := h.tl.Playlist(); list != nil {
		if i, ok := list.Find(name); ok {
			s := list.At(i)
			slide = &s
		}
	}
	if slide == nil {
		http.Error(w, "no image named "+strconv.Quote(name)+" in the folder", http.StatusNotFound)
		return
	}
	b, err := h.tl.Thumbnail(r.Context(), *slide, ThumbWidth)
	if r.Context().Err() != nil {
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	if err != nil {
		// Still a picture, so the page shows the reason in the grid.
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write(h.placeholders.frame("cannot show: "+h.inspect.Kind(err), ThumbWidth))
		return
	}
	if r.URL.Query().Get("v") == version(*slide) {
		w.Header().Set("Cache-Control", "private, max-age=86400")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// version names a version of a file in URLs: its size and modification
// time.
func version(s source.Slide) string {
	return strconv.FormatInt(s.Size, 36) + "-" + strconv.FormatInt(s.ModTime.UnixNano(), 36)
}
