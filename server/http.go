package server

import (
	"encoding/json"
	"net/http"
	"slices"

	"mps/protocols/webrtc"
	"mps/recorder"
	"mps/web"
)

// routes builds the HTTP handler shared by the API, metrics, HLS, WebRTC
// signalling and the console.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": Version})
	})
	mux.Handle("GET /metrics", s.metricsHandler())
	if s.wrtc != nil {
		mux.Handle(webrtc.URLPrefix, s.wrtc.Handler())
	}
	if s.hls != nil {
		mux.Handle("/hls/", s.hls.Handler())
	}
	if s.tc != nil {
		mux.Handle("/snapshots/", s.tc.SnapshotHandler())
	}
	if s.jobs != nil {
		mux.Handle("/outputs/", s.jobs.Handler())
	}
	mux.Handle("/", web.Handler())
	if s.Config().API.Enabled {
		mux.HandleFunc("GET /api/v1/streams", s.apiListStreams)
		mux.HandleFunc("GET /api/v1/streams/{path...}", s.apiGetStream)
		mux.HandleFunc("DELETE /api/v1/streams/{path...}", s.apiKickStream)
		mux.HandleFunc("GET /api/v1/config", s.apiGetConfig)
		mux.HandleFunc("GET /api/v1/capabilities", s.apiCapabilities)
		if s.rec != nil {
			mux.Handle(recorder.APIPrefix, s.rec.Handler())
			mux.Handle(recorder.APIPrefix+"/", s.rec.Handler())
			mux.Handle(recorder.HLSPrefix, s.rec.HLSHandler())
		}
		if s.tc != nil {
			mux.HandleFunc("GET /api/v1/transcoders", s.apiTranscoders)
			mux.Handle("/api/v1/snapshots/", s.tc.SnapshotHandler())
		}
		if s.jobs != nil {
			h := s.jobs.Handler()
			for _, p := range []string{"/api/v1/tasks", "/api/v1/tasks/", "/api/v1/uploads", "/api/v1/schemes",
				"/api/v1/schemes/", "/api/v1/templates", "/api/v1/outputs/"} {
				mux.Handle(p, h)
			}
		}
		mux.HandleFunc("GET /api/v1/sources", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"sources": s.paths.Sources()})
		})
	}
	return s.cors(mux)
}

// cors adds CORS headers for the configured origins and answers preflight
// requests, so browser players and consoles on other origins can call in.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			allowed := s.Config().HTTP.CORSOrigins
			switch {
			case slices.Contains(allowed, "*"):
				w.Header().Set("Access-Control-Allow-Origin", "*")
			case slices.Contains(allowed, origin):
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Add("Vary", "Origin")
			}
			w.Header().Set("Access-Control-Expose-Headers", "Location, ETag, Link")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v as an indented JSON body with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiError is the body of every API error response.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}
