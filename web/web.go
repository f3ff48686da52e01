// Package web is the browser console of MPS, embedded in the binary:
// live streams (grid, player, graphs, actions), publishing from the
// browser over WHIP, recordings (timeline, playback, range download),
// tasks (upload, progress, results) and settings (config, capabilities,
// events). It is plain ES modules on a vendored Preact and htm, loaded by
// the browser as they are: shipping it inside the binary keeps "one
// self-hosted binary" true, with no separate web server and no build step.
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
	vendor := http.FileServerFS(files)
	mux.Handle("GET /vendor/", cacheFor(vendor, "public, max-age=86400"))
	mux.Handle("GET /static/", cacheFor(http.StripPrefix("/static/", http.FileServerFS(static)), "no-cache"))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	return mux
}

// cacheFor sets Cache-Control on every answer of h: vendored libraries
// change only with the binary, the console's own modules are revalidated
// (cheaply, by modification time) so an upgrade shows at the next load.
func cacheFor(h http.Handler, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", value)
		h.ServeHTTP(w, r)
	})
}
