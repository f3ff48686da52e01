package recorder

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mps/internal/httpjson"
	"mps/internal/storage"
	"mps/internal/stream"
)

// APIPrefix is where the server mounts Handler.
const APIPrefix = "/api/v1/recordings"

// HLSPrefix is where the server mounts HLSHandler.
const HLSPrefix = "/hls/recordings/"

// Handler serves the recordings API; mount it at APIPrefix and
// APIPrefix+"/" without stripping the prefix:
//
//	GET    /api/v1/recordings                              paths and their state
//	GET    /api/v1/recordings/{path}                       one path's state
//	POST   /api/v1/recordings/{path}/start | /stop         runtime override
//	GET    /api/v1/recordings/{path}/segments?start=&end=  segment list
//	GET    /api/v1/recordings/{path}/segments/{name}       download a segment (?redirect=true: a presigned URL for one kept only in a bucket)
//	DELETE /api/v1/recordings/{path}/segments/{name}       delete a segment
//	GET    /api/v1/recordings/{path}/get?start=&duration=&format=mp4|fmp4&precise=true|false
//
// Path names are checked like stream paths, and only files the index knows
// are ever opened, so no request reaches outside the recordings root.
func (m *Manager) Handler() http.Handler { return http.HandlerFunc(m.serveAPI) }

func (m *Manager) serveAPI(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, APIPrefix)
	if !ok {
		httpjson.WriteError(w, http.StatusNotFound, "not found")
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		// partial: the index is still being rebuilt after a start.
		httpjson.Write(w, http.StatusOK, map[string]any{"items": m.List(), "partial": !m.ix.complete()})
		return
	}
	path, action, name := splitAPIPath(rest)
	if err := stream.ValidPath(path); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, "invalid path: "+err.Error())
		return
	}
	switch action {
	case "":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		httpjson.Write(w, http.StatusOK, m.Stats(path))
	case "start", "stop":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		if action == "start" {
			_ = m.Start(path)
		} else {
			_ = m.Stop(path)
		}
		httpjson.Write(w, http.StatusOK, m.Stats(path))
	case "segments":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		m.serveSegmentList(w, r, path)
	case "segment":
		m.serveSegment(w, r, path, name)
	case "get":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		m.servePlayback(w, r, path)
	default:
		httpjson.WriteError(w, http.StatusNotFound, "not found")
	}
}

// splitAPIPath splits "live/cam1/segments/NAME" into the stream path, the
// action and the segment name. Stream paths may contain slashes and even
// elements called "segments", so the action is read from the end.
func splitAPIPath(rest string) (path, action, name string) {
	rest = strings.TrimSuffix(rest, "/")
	if i := strings.LastIndex(rest, "/segments/"); i >= 0 {
		if n := rest[i+len("/segments/"):]; n != "" && !strings.Contains(n, "/") {
			return rest[:i], "segment", n
		}
	}
	for _, a := range []string{"start", "stop", "segments", "get"} {
		if p, ok := strings.CutSuffix(rest, "/"+a); ok {
			return p, a, ""
		}
	}
	return rest, "", ""
}

// segmentJSON is a segment as the API shows it.
type segmentJSON struct {
	Name      string    `json:"name"`
	Start     time.Time `json:"start"`
	Duration  float64   `json:"duration"`
	Size      int64     `json:"size"`
	Format    string    `json:"format"`
	Recording bool      `json:"recording"`
	URL       string    `json:"url"`
	// Target is the storage target holding a copy; Local is false once
	// the bucket copy is the only one.
	Target string `json:"target,omitempty"`
	Local  bool   `json:"local"`
}

func (m *Manager) serveSegmentList(w http.ResponseWriter, r *http.Request, path string) {
	start, err := parseTimeParam(r, "start")
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	end, err := parseTimeParam(r, "end")
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	segs := m.ix.list(path, start, end)
	out := make([]segmentJSON, len(segs))
	for i, s := range segs {
		out[i] = segmentJSON{
			Name: s.Name, Start: s.Start, Duration: s.Duration.Seconds(), Size: s.Size,
			Format: s.Format, Recording: s.Recording,
			URL:    APIPrefix + "/" + path + "/segments/" + s.Name,
			Target: s.Target, Local: !s.remoteOnly,
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"path": path, "items": out, "partial": !m.ix.complete()})
}

// serveSegment downloads (GET, with ranges) or deletes one segment.
func (m *Manager) serveSegment(w http.ResponseWriter, r *http.Request, path, name string) {
	if _, _, ok := m.tpl.parseFile(name); !ok {
		httpjson.WriteError(w, http.StatusBadRequest, "invalid segment name")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m.serveSegmentFile(w, r, path, name, 0)
	case http.MethodDelete:
		switch err := m.DeleteSegment(path, name); {
		case errors.Is(err, ErrSegmentNotFound):
			httpjson.WriteError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrSegmentBusy):
			httpjson.WriteError(w, http.StatusConflict, err.Error())
		case err != nil:
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		methodNotAllowed(w, "GET, HEAD, DELETE")
	}
}

// serveSegmentFile serves a segment with ranges; shift > 0 moves an fMP4
// segment's decode times forward by that much (HLS VOD).
func (m *Manager) serveSegmentFile(w http.ResponseWriter, r *http.Request, path, name string, shift time.Duration) {
	seg, ok := m.ix.find(path, name)
	if !ok {
		httpjson.WriteError(w, http.StatusNotFound, ErrSegmentNotFound.Error())
		return
	}
	m.ix.mu.RLock()
	s := *seg
	m.ix.mu.RUnlock()
	if s.remoteOnly && shift == 0 && r.URL.Query().Get("redirect") == "true" {
		m.redirectToStore(w, r, s)
		return
	}
	f, err := m.openData(r.Context(), s)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrNotFound) {
		httpjson.WriteError(w, http.StatusNotFound, ErrSegmentNotFound.Error())
		return
	}
	if err != nil {
		m.log.Warn("recording segment unreadable", "path", path, "segment", name, "error", err)
		httpjson.WriteError(w, http.StatusBadGateway, "segment unreadable: "+err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentType(s.Format))
	if shift > 0 && s.Format == FormatFMP4 {
		sec := io.NewSectionReader(f, 0, s.Size)
		patches, err := tfdtShifts(sec, func(scale uint32) uint64 { return uint64(ticks(shift, int64(scale))) })
		if err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
			return
		}
		http.ServeContent(w, r, "", s.Start, &patchedReader{r: sec, patches: patches})
		return
	}
	// A segment being written is served as far as it has been flushed.
	http.ServeContent(w, r, "", s.Start, &sizedReader{f: f, size: s.Size})
}

// redirectToStore answers with a presigned URL of a segment kept only in
// a bucket, so the player reads it from the store directly.
func (m *Manager) redirectToStore(w http.ResponseWriter, r *http.Request, s Segment) {
	tg, err := m.target(s.Target)
	if err != nil {
		httpjson.WriteError(w, http.StatusBadGateway, err.Error())
		return
	}
	u, err := tg.URL(r.Context(), m.key(s.file))
	if err != nil {
		httpjson.WriteError(w, http.StatusBadGateway, err.Error())
		return
	}
	http.Redirect(w, r, u, http.StatusTemporaryRedirect)
}

func contentType(format string) string {
	if format == FormatMPEGTS {
		return "video/mp2t"
	}
	return "video/mp4"
}

// indexWait bounds how long a playlist or an export waits for the index
// being rebuilt after a start.
const indexWait = 5 * time.Second

// waitIndex waits briefly for a complete index, which playlists and
// exports need (segment durations); it answers 503 and reports false when
// the rebuild takes longer.
func (m *Manager) waitIndex(w http.ResponseWriter, r *http.Request) bool {
	if m.ix.wait(r.Context(), indexWait) {
		return true
	}
	w.Header().Set("Retry-After", "5")
	httpjson.WriteError(w, http.StatusServiceUnavailable, "the recordings index is being rebuilt; try again shortly")
	return false
}

// parseTimeParam reads an RFC 3339 time (or Unix seconds) query parameter;
// absent gives the zero time.
func parseTimeParam(r *http.Request, key string) (time.Time, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(f*1e9)), nil
	}
	return time.Time{}, errors.New(key + ": want an RFC 3339 time or Unix seconds")
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	httpjson.WriteError(w, http.StatusMethodNotAllowed, "method not allowed")
}
