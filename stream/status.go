package stream

import (
	"encoding/json"
	"html/template"
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
// the stream itself never asks them.
type Inspector interface {
	// Inspect reads a file's header and applies the limits that can be
	// checked without decoding: its format and size, or why it cannot be
	// shown.
	Inspect(s source.Slide) (FileInfo, error)
	// Cached reports whether the slide's frame at width is in memory.
	Cached(s source.Slide, width int) bool
	// Kind names the kind of a failure in one word, such as "corrupt".
	Kind(err error) string
}

// FileInfo is what a file's header says.
type FileInfo struct {
	Format        string
	Width, Height int
	Taken         time.Time // when the photo was taken; zero when unknown
	// Pending is set while the file's header has not been read yet.
	Pending bool
}

// ImageStatus is one file of the folder as /api/images reports it.
type ImageStatus struct {
	Name     string    `json:"name"`
	Format   string    `json:"format,omitempty"`
	Width    int       `json:"width,omitempty"`
	Height   int       `json:"height,omitempty"`
	Bytes    int64     `json:"bytes"`
	Modified time.Time `json:"modified"`
	// Status is "ok" or "skipped".
	Status string `json:"status"`
	// Reason says why a skipped file cannot be shown, and Kind names the
	// kind of problem in one word ("corrupt", "too-many-pixels", ...).
	Reason string `json:"reason,omitempty"`
	Kind   string `json:"kind,omitempty"`
	// Checked is "decoded" once the file has been decoded in full, or
	// "header" when only its header has been read so far.
	Checked string `json:"checked"`
	// Cached: the frame at the default width is in memory.
	Cached    bool   `json:"cached"`
	Showing   bool   `json:"showing"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

// ImagesReport is the body of /api/images.
type ImagesReport struct {
	Showing string        `json:"showing,omitempty"`
	Width   int           `json:"width"`
	OK      int           `json:"ok"`
	Skipped int           `json:"skipped"`
	Images  []ImageStatus `json:"images"`
}

// report gathers the status of every file in the folder.
func (h *Handler) report() ImagesReport {
	st, _ := h.tl.State()
	rep := ImagesReport{Width: h.width, Images: []ImageStatus{}}
	if st.Slide != nil {
		rep.Showing = st.Slide.Slide.Name
	}
	for _, s := range h.tl.Slides() {
		is := ImageStatus{Name: s.Name, Bytes: s.Size, Modified: s.ModTime, Status: "ok", Checked: "header",
			Showing: s.Name == rep.Showing}
		info, err := h.inspect.Inspect(s)
		is.Format, is.Width, is.Height = info.Format, info.Width, info.Height
		if failed := h.tl.failure(s); failed != nil {
			err = failed
			is.Checked = "decoded"
		}
		if err != nil {
			is.Status, is.Kind = "skipped", h.inspect.Kind(err)
			is.Reason = strings.TrimPrefix(err.Error(), s.Name+": ")
			rep.Skipped++
		} else {
			rep.OK++
			is.Cached = h.inspect.Cached(s, h.width)
			if is.Cached || is.Showing {
				is.Checked = "decoded"
			}
			is.Thumbnail = "/images/thumb?" + url.Values{"name": {s.Name}, "v": {version(s)}}.Encode()
		}
		rep.Images = append(rep.Images, is)
	}
	return rep
}

func (h *Handler) serveImagesJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(h.report())
}

var imagesPage = template.Must(template.New("images").Funcs(template.FuncMap{
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
</style>
</head>
<body>
<h1>{{.OK}} of {{len .Images}} images can be shown{{if .Showing}}; now showing {{.Showing}}{{end}}</h1>
<ul>
{{- range .Images}}
<li class="{{.Status}}{{if .Showing}} showing{{end}}">
<div class="thumb">{{if .Thumbnail}}<img src="{{slice .Thumbnail 1}}" alt="{{.Name}}" loading="lazy">{{else}}<span class="meta">skipped</span>{{end}}</div>
<div class="info">
<div class="name">{{.Name}}</div>
<div class="meta">{{if .Format}}{{.Format}}{{if .Width}} {{.Width}}×{{.Height}}{{end}}, {{end}}{{size .Bytes}}{{if .Cached}}, cached{{end}}</div>
{{- if .Reason}}
<div class="reason">{{.Reason}}</div>
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
	imagesPage.Execute(w, h.report())
}

// serveThumb serves one slide at ThumbWidth, from the cache when it can.
// ?v= names the file version the page saw, so the browser may keep it.
func (h *Handler) serveThumb(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	var slide *source.Slide
	for _, s := range h.tl.Slides() {
		if s.Name == name {
			slide = &s
			break
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
		h.tl.fail(*slide, err) // so the status shows why, and the show skips it
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
