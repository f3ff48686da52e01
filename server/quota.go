package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"mps/internal/httpjson"
	"mps/recorder"
)

// quotas counts what each API caller has started, for auth.quotas. The
// counts live in memory: a restart forgets them (recordings started through
// the API do not survive a restart either).
type quotas struct {
	mu          sync.Mutex
	recordings  map[string]string // path -> caller that started it
	uploads     map[string]int    // caller -> files
	uploadBytes map[string]int64  // caller -> bytes
}

func newQuotas() *quotas {
	return &quotas{recordings: make(map[string]string), uploads: make(map[string]int), uploadBytes: make(map[string]int64)}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// recordingQuota refuses POST …/{path}/start with 429 when the caller
// already has auth.quotas.max_recordings recordings running that it started.
func (s *Server) recordingQuota(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.Trim(strings.TrimPrefix(r.URL.Path, recorder.APIPrefix), "/")
		path, isStart := strings.CutSuffix(rest, "/start")
		stopPath, isStop := strings.CutSuffix(rest, "/stop")
		if r.Method != http.MethodPost || (!isStart && !isStop) {
			next.ServeHTTP(w, r)
			return
		}
		who, max := caller(r), s.Config().Auth.Quotas.MaxRecordings
		q := s.quota
		if isStart && max > 0 {
			q.mu.Lock()
			n := 0
			for p, c := range q.recordings {
				if c == who && p != path {
					n++
				}
			}
			q.mu.Unlock()
			if n >= max {
				httpjson.WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("recording quota: %d recordings started by this caller are running (auth.quotas.max_recordings)", n))
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status >= 300 {
			return
		}
		q.mu.Lock()
		if isStart {
			if _, ok := q.recordings[path]; !ok {
				q.recordings[path] = who
			}
		} else {
			delete(q.recordings, stopPath)
		}
		q.mu.Unlock()
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

// uploadQuota refuses POST /api/v1/uploads with 429 once the caller has
// uploaded auth.quotas.max_uploads files or max_upload_bytes bytes.
func (s *Server) uploadQuota(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qc := s.Config().Auth.Quotas
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/uploads" || (qc.MaxUploads == 0 && qc.MaxUploadBytes == 0) {
			next.ServeHTTP(w, r)
			return
		}
		who, q := caller(r), s.quota
		q.mu.Lock()
		files, used := q.uploads[who], q.uploadBytes[who]
		q.mu.Unlock()
		if qc.MaxUploads > 0 && files >= qc.MaxUploads {
			httpjson.WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("upload quota: %d files uploaded by this caller (auth.quotas.max_uploads)", files))
			return
		}
		if limit := int64(qc.MaxUploadBytes); limit > 0 {
			left := limit - used
			if left <= 0 || r.ContentLength > left {
				httpjson.WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("upload quota: %d of %d bytes used by this caller (auth.quotas.max_upload_bytes)", used, limit))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, left)
		}
		body := &countingReader{ReadCloser: r.Body}
		r.Body = body
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status < 300 {
			q.mu.Lock()
			q.uploads[who]++
			q.uploadBytes[who] += body.n
			q.mu.Unlock()
		}
	})
}
