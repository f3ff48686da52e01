package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mps/internal/httpjson"
	"mps/internal/stream"
)

// SnapshotInfo describes one stored picture in the list API.
type SnapshotInfo struct {
	Name string    `json:"name"`
	Time time.Time `json:"time"`
	Size int64     `json:"size"`
	URL  string    `json:"url"`
}

// SnapshotHandler serves the snapshot files and API:
//
//	GET  /snapshots/PATH/latest.jpg     the newest picture
//	GET  /snapshots/PATH/NAME.jpg       a stored picture
//	GET  /api/v1/snapshots/PATH         list of stored pictures, newest first
//	POST /api/v1/snapshots/PATH         a JPEG of the newest keyframe, now
//	                                    (?width=N&quality=Q optional)
//
// Mount it on both prefixes. Paths are checked with stream.ValidPath and
// file names against the snapshotter's own pattern, so no request reaches
// outside Dir/snapshots. POST reads the stream through the hub with the
// request's basic-auth credentials, so the path's read rules apply.
func (m *Manager) SnapshotHandler() http.Handler {
	return http.HandlerFunc(m.serveSnapshots)
}

const apiPrefix = "/api/v1/snapshots/"

func (m *Manager) serveSnapshots(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/snapshots/"):
		m.serveSnapshotFile(w, r, strings.TrimPrefix(p, "/snapshots/"))
	case strings.HasPrefix(p, apiPrefix):
		sp := strings.TrimSuffix(strings.TrimPrefix(p, apiPrefix), "/")
		if err := stream.ValidPath(sp); err != nil {
			httpjson.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			m.listSnapshots(w, sp)
		case http.MethodPost:
			m.snapshotNow(w, r, sp)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			httpjson.WriteError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	default:
		http.NotFound(w, r)
	}
}

func (m *Manager) serveSnapshotFile(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpjson.WriteError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	sp, name := path.Split(rest)
	sp = strings.TrimSuffix(sp, "/")
	if stream.ValidPath(sp) != nil || (name != latestName && !snapshotNameRE.MatchString(name)) || m.cfg.Dir == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(m.snapshotDir(sp), name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	if name == latestName {
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}

func (m *Manager) listSnapshots(w http.ResponseWriter, sp string) {
	out := []SnapshotInfo{}
	if m.cfg.Dir != "" {
		dir := m.snapshotDir(sp)
		names := listSnapshotNames(dir)
		for i := len(names) - 1; i >= 0; i-- {
			st, err := os.Stat(filepath.Join(dir, names[i]))
			if err != nil {
				continue
			}
			t, _ := time.Parse(snapshotTimeLayout, strings.TrimSuffix(names[i], ".jpg"))
			out = append(out, SnapshotInfo{Name: names[i], Time: t, Size: st.Size(), URL: "/snapshots/" + sp + "/" + names[i]})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (m *Manager) snapshotNow(w http.ResponseWriter, r *http.Request, sp string) {
	width, _ := strconv.Atoi(r.URL.Query().Get("width"))
	quality, _ := strconv.Atoi(r.URL.Query().Get("quality"))
	if width < 0 || width > 8192 {
		httpjson.WriteError(w, http.StatusBadRequest, "width out of range")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	user, pass, _ := r.BasicAuth()
	s, err := m.hub.Read(ctx, stream.Request{Path: sp, Protocol: "snapshot", Query: r.URL.RawQuery, User: user, Pass: pass, RemoteAddr: r.RemoteAddr})
	switch {
	case errors.Is(err, stream.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, stream.ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Basic realm="mps"`)
		httpjson.WriteError(w, http.StatusUnauthorized, err.Error())
		return
	case err != nil:
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	pic, err := m.Snapshot(ctx, s, width, quality)
	if err != nil {
		m.log.Warn("on-demand snapshot failed", "path", sp, "error", err)
		httpjson.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(pic)))
	_, _ = w.Write(pic)
}
