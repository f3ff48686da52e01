// Package web is the browser console of MPS: a single page, embedded in the
// binary with go:embed, that lists live streams from the REST API, plays
// them over HLS (hls.js) or WebRTC (WHEP), and kicks publishers. Shipping it
// inside the binary keeps "one self-hosted binary" true: no separate web
// server or build step is needed to operate MPS from a browser.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static vendor
var files embed.FS

// Handler serves the console at the root of the HTTP port: "/" is the page,
// "/static/…" its script and style, "/vendor/…" third-party scripts.
func Handler() http.Handler {
	static, _ := fs.Sub(files, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /vendor/", http.FileServerFS(files))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	return mux
}
