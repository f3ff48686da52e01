package tasks

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mps/internal/httpjson"
)

// Handler serves the task API and the outputs. Mount it (or route these
// prefixes to it) on the server's HTTP mux:
//
//	/api/v1/tasks, /api/v1/tasks/     POST, GET (list: ?limit=&after=&status=&scheme=;
//	                                  the answer's next_cursor is the next page's after),
//	                                  GET/DELETE {id}
//	/api/v1/tasks/health              GET: the task store's state (200 ok, 503 degraded)
//	/api/v1/uploads                   POST (raw body or multipart)
//	/api/v1/schemes, /api/v1/schemes/ GET, GET {name}, POST {name}/enable|disable
//	/api/v1/templates                 GET
//	/api/v1/outputs/, /outputs/       GET files (no listings)
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.h)
	}
	mux.Handle("GET /outputs/", s.outputs("/outputs/"))
	return mux
}

// route is one API operation of the service.
type route struct {
	pattern string // method and path as net/http matches it
	h       http.Handler
}

// routes is the service's API: Handler serves it and APIRoutes reports
// it, from this one table, so the OpenAPI record cannot drift from what
// is served.
func (s *Service) routes() []route {
	return []route{
		{"POST /api/v1/tasks", http.HandlerFunc(s.handleSubmit)},
		{"GET /api/v1/tasks", http.HandlerFunc(s.handleList)},
		{"GET /api/v1/tasks/health", http.HandlerFunc(s.handleHealth)},
		{"GET /api/v1/tasks/{id}", http.HandlerFunc(s.handleGet)},
		{"DELETE /api/v1/tasks/{id}", http.HandlerFunc(s.handleCancel)},
		{"POST /api/v1/uploads", http.HandlerFunc(s.handleUpload)},
		{"GET /api/v1/schemes", http.HandlerFunc(s.handleSchemes)},
		{"GET /api/v1/schemes/{name}", http.HandlerFunc(s.handleScheme)},
		{"POST /api/v1/schemes/{name}/bucket-events", http.HandlerFunc(s.handleBucketEvents)},
		{"POST /api/v1/schemes/{name}/{action}", http.HandlerFunc(s.handleSchemeSwitch)},
		{"GET /api/v1/templates", http.HandlerFunc(s.handleTemplates)},
		{"GET /api/v1/outputs/{file...}", s.outputs("/api/v1/outputs/")},
	}
}

// writeError answers with the API's error body, asking clients to retry a
// 503 (the task store recovering) after a few seconds.
func writeError(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	httpjson.WriteError(w, code, msg)
}

// statusOf maps service errors to HTTP codes.
func statusOf(err error) int {
	var bad *BadRequestError
	switch {
	case errors.As(err, &bad):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrSchemeDisabled), errors.Is(err, ErrFinished):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrStoreUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Service) handleSubmit(w http.ResponseWriter, r *http.Request) {
	var req Request
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad task request: "+err.Error())
		return
	}
	if req.SessionID == "" {
		req.SessionID = r.Header.Get("X-Session-Id")
	}
	t, created, err := s.Submit(r.Context(), req)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/tasks/"+t.ID)
	httpjson.Write(w, code, t.public())
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := ListOptions{Status: Status(strings.ToUpper(q.Get("status"))), Scheme: q.Get("scheme"), Cursor: q.Get("after")}
	if o.Cursor == "" {
		o.Cursor = q.Get("cursor") // the earlier name of "after"
	}
	if o.Cursor != "" && !validID(o.Cursor) {
		writeError(w, http.StatusBadRequest, "bad after: want a task id")
		return
	}
	var err error
	if v := q.Get("limit"); v != "" {
		if o.Limit, err = strconv.Atoi(v); err != nil || o.Limit < 0 {
			writeError(w, http.StatusBadRequest, "bad limit")
			return
		}
	}
	if v := q.Get("offset"); v != "" {
		if o.Offset, err = strconv.Atoi(v); err != nil || o.Offset < 0 {
			writeError(w, http.StatusBadRequest, "bad offset")
			return
		}
	}
	tasks, next, err := s.List(r.Context(), o)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if tasks == nil {
		tasks = []Task{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"tasks": tasks, "next_cursor": next})
}

func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := s.Health()
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	httpjson.Write(w, code, h)
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, t.public())
}

func (s *Service) handleCancel(w http.ResponseWriter, r *http.Request) {
	t, err := s.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, t.public())
}

func (s *Service) handleSchemes(w http.ResponseWriter, r *http.Request) {
	httpjson.Write(w, http.StatusOK, map[string]any{"schemes": s.Schemes(r.Context())})
}

func (s *Service) handleScheme(w http.ResponseWriter, r *http.Request) {
	for _, sc := range s.Schemes(r.Context()) {
		if sc.Name == r.PathValue("name") {
			httpjson.Write(w, http.StatusOK, sc)
			return
		}
	}
	writeError(w, http.StatusNotFound, "unknown scheme")
}

func (s *Service) handleSchemeSwitch(w http.ResponseWriter, r *http.Request) {
	var on bool
	switch r.PathValue("action") {
	case "enable":
		on = true
	case "disable":
	default:
		writeError(w, http.StatusNotFound, "want enable or disable")
		return
	}
	if err := s.SetSchemeEnabled(r.Context(), r.PathValue("name"), on); err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	s.handleScheme(w, r)
}

func (s *Service) handleTemplates(w http.ResponseWriter, r *http.Request) {
	httpjson.Write(w, http.StatusOK, map[string]any{"templates": s.cfg.Templates})
}

// outputs serves files under DataDir/outputs through an os.Root, which
// refuses any path (or symlink) that leaves it; directories are not listed.
func (s *Service) outputs(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, prefix)
		if rel == "" || strings.HasSuffix(rel, "/") || strings.Contains(rel, "\\") {
			http.NotFound(w, r)
			return
		}
		for _, seg := range strings.Split(rel, "/") {
			if seg == ".." || seg == "" || seg == "." {
				http.NotFound(w, r)
				return
			}
		}
		root, err := os.OpenRoot(s.cfg.Tasks.OutputDir)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer root.Close()
		f, err := root.Open(filepath.FromSlash(rel))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(filepath.Ext(rel)); ct != "" {
			w.Header().Set("Content-Type", ct)
		} else if strings.HasSuffix(rel, ".m3u8") {
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		}
		http.ServeContent(w, r, fi.Name(), fi.ModTime().Truncate(time.Second), f)
	})
}
