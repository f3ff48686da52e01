package livehl

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"mps/internal/httpjson"
	"mps/internal/stream"
)

// APIPrefix is where the server mounts Handler:
//
//	GET /api/v1/highlights/{path}               the path's rolling list, best first
//	GET /api/v1/highlights/{path}/clips/{name}  one clip (MP4)
const APIPrefix = "/api/v1/highlights/"

// APIRoutes lists the operations Handler serves, as the OpenAPI document
// names them.
func APIRoutes() []string {
	return []string{"GET " + APIPrefix + "{path}", "GET " + APIPrefix + "{path}/clips/{name}"}
}

// clipNameRE is what a clip file is named; nothing else is ever served.
var clipNameRE = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z\.mp4$`)

// SplitPath returns the stream path a request under APIPrefix is about,
// for the server's authorizer.
func SplitPath(urlPath string) string {
	rest := strings.Trim(strings.TrimPrefix(urlPath, APIPrefix), "/")
	if i := strings.LastIndex(rest, "/clips/"); i >= 0 {
		return rest[:i]
	}
	return rest
}

// Handler serves the lists and the clips.
func (m *Manager) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpjson.WriteError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		rest := strings.Trim(strings.TrimPrefix(r.URL.Path, APIPrefix), "/")
		path, name := rest, ""
		if i := strings.LastIndex(rest, "/clips/"); i >= 0 {
			path, name = rest[:i], rest[i+len("/clips/"):]
		}
		if err := stream.ValidPath(path); err != nil {
			httpjson.WriteError(w, http.StatusBadRequest, "invalid path: "+err.Error())
			return
		}
		if name == "" {
			items := m.List(path)
			if items == nil {
				items = []Highlight{}
			}
			httpjson.Write(w, http.StatusOK, map[string]any{"items": items})
			return
		}
		if !clipNameRE.MatchString(name) {
			httpjson.WriteError(w, http.StatusNotFound, "no such clip")
			return
		}
		f, err := os.Open(filepath.Join(m.cfg.Dir, filepath.FromSlash(path), name))
		if err != nil {
			httpjson.WriteError(w, http.StatusNotFound, "no such clip")
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
}
