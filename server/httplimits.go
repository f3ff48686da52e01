package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"mps/internal/config"
	"mps/internal/httpjson"
)

// limitBodies caps and paces every request body. Uploads may be as large
// as tasks.upload_limit allows; every other body (API JSON, WHIP/WHEP
// offers) is capped at http.max_body_size and answered 413 past it. Any
// body must keep arriving: a pause longer than http.read_timeout, or an
// average under http.body_min_rate once read_timeout has passed, ends the
// request and the connection, so a client trickling a body cannot hold a
// connection and a handler for ever.
func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		lim := s.Config().HTTP.HTTPLimits
		if !isUpload(r) {
			if r.ContentLength > int64(lim.MaxBodySize) {
				httpjson.WriteError(w, http.StatusRequestEntityTooLarge,
					fmt.Sprintf("request body of %d bytes is over http.max_body_size (%d)", r.ContentLength, int64(lim.MaxBodySize)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, int64(lim.MaxBodySize))
		}
		r.Body = &pacedBody{
			ReadCloser: r.Body, rc: http.NewResponseController(w),
			pause: lim.ReadTimeout.D(), minRate: float64(lim.BodyMinRate), start: time.Now(),
		}
		next.ServeHTTP(w, r)
	})
}

// isUpload reports whether r is a file upload, whose size tasks.upload_limit
// caps instead of http.max_body_size.
func isUpload(r *http.Request) bool {
	return r.URL.Path == "/api/v1/uploads" || strings.HasPrefix(r.URL.Path, "/api/v1/uploads/")
}

// errSlowBody ends a request whose body arrives too slowly.
var errSlowBody = errors.New("request body too slow")

// pacedBody gives each read of a request body a deadline and checks the
// body's average speed.
type pacedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	pause   time.Duration
	minRate float64 // bytes/s
	start   time.Time
	n       int64
}

func (b *pacedBody) Read(p []byte) (int, error) {
	now := time.Now()
	if el := now.Sub(b.start); el > b.pause && float64(b.n)/el.Seconds() < b.minRate {
		_ = b.rc.SetReadDeadline(now) // the connection ends with the request
		return 0, fmt.Errorf("%w: %d bytes in %s", errSlowBody, b.n, el.Round(time.Millisecond))
	}
	_ = b.rc.SetReadDeadline(now.Add(b.pause))
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// httpServer builds the HTTP server with the listener's time-outs. There is
// no total read or write time-out, which would cut long uploads and
// downloads: bodies are paced by limitBodies and writes by the listener's
// per-write time-out.
func (s *Server) httpServer(cfg config.HTTP, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           s.limitBodies(h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.D(),
		IdleTimeout:       cfg.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
	}
}
