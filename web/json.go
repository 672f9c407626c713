package web

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers with v as indented JSON, never cached. Names are
// written as they are ("<" stays "<"): the body is JSON, not HTML.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
