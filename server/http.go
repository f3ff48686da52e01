package server

import (
	"net/http"
	"slices"

	"mps/ai/livehl"
	"mps/ai/transcripts"
	"mps/internal/httpjson"
	"mps/internal/pathmgr"
	"mps/protocols/webrtc"
	"mps/recorder"
	"mps/transcode"
	"mps/web"
)

// routes builds the HTTP handler shared by the API, metrics, HLS, WebRTC
// signalling and the console, and records the API operations it serves
// (s.apiOps) for the OpenAPI contract test. Every route but /healthz is
// guarded: the authorizer decides by the route's door. WebRTC and live HLS
// ask it through the path manager.
func (s *Server) routes() (http.Handler, error) {
	rt := newRouteTable()
	rt.handleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"status": "ok", "version": Version})
	})
	rt.handle("GET /metrics", s.guard(metricsDoor, s.metricsHandler()))
	if s.wrtc != nil {
		rt.mux.Handle(webrtc.URLPrefix, s.wrtc.Handler())
	}
	if s.hls != nil {
		rt.mux.Handle("/hls/", s.hls.Handler())
	}
	if s.tc != nil {
		rt.mux.Handle("/snapshots/", s.guard(snapshotsDoor, s.tc.SnapshotHandler()))
	}
	if s.jobs != nil {
		rt.mux.Handle("/outputs/", s.guard(apiDoor, s.jobs.Handler()))
	}
	rt.mux.Handle("/", s.guard(apiDoor, web.Handler()))
	if s.Config().API.Enabled {
		if err := s.apiRoutes(rt); err != nil {
			return nil, err
		}
	}
	s.apiOps = rt.operations()
	return s.cors(rt.mux), nil
}

// apiRoutes registers the REST API under /api/v1, each route behind the
// authorizer's api door (read or write by method) unless it serves media
// of a path (recordings: playback; snapshots: read).
func (s *Server) apiRoutes(rt *routeTable) error {
	yamlDoc, jsonDoc, err := openapiHandlers()
	if err != nil {
		return err
	}
	api := func(pattern string, h http.Handler) { rt.handle(pattern, s.guard(apiDoor, h)) }
	api("GET /api/v1/openapi.yaml", yamlDoc)
	api("GET /api/v1/openapi.json", jsonDoc)
	api("GET /api/v1/streams", http.HandlerFunc(s.apiListStreams))
	// A stream's live subtitle feed is served below its path; the mux
	// cannot put a suffix after {path...}, so one handler tells them apart.
	api("GET /api/v1/streams/{path...}", http.HandlerFunc(s.apiStreamOrSubtitles))
	rt.describe("GET /api/v1/streams/{path}/subtitles")
	api("DELETE /api/v1/streams/{path...}", http.HandlerFunc(s.apiKickStream))
	api("GET /api/v1/config", http.HandlerFunc(s.apiGetConfig))
	api("GET /api/v1/config/origins", http.HandlerFunc(s.apiConfigOrigins))
	api("GET /api/v1/events", http.HandlerFunc(s.apiEvents))
	api("GET /api/v1/events/stream", http.HandlerFunc(s.apiEventStream))
	api("GET /api/v1/listeners", http.HandlerFunc(s.apiListeners))
	api("GET /api/v1/capabilities", http.HandlerFunc(s.apiCapabilities))
	api("GET /api/v1/sources", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list := s.paths.Sources()
		if list == nil {
			list = []pathmgr.SourceState{} // an empty list, not null
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"sources": list})
	}))
	if s.rec != nil {
		rec := s.guard(recordingsDoor, s.recordingQuota(s.rec.Handler()))
		rt.mount(rec, recorder.APIRoutes(), recorder.APIPrefix, recorder.APIPrefix+"/")
		rt.mux.Handle(recorder.HLSPrefix, s.guard(recordingsHLSDoor, s.rec.HLSHandler()))
	}
	if s.hl != nil {
		rt.mount(s.guard(highlightsDoor, s.hl.Handler()), livehl.APIRoutes(), livehl.APIPrefix)
	}
	if s.tc != nil {
		api("GET /api/v1/transcoders", http.HandlerFunc(s.apiTranscoders))
		rt.mount(s.guard(snapshotsDoor, s.tc.SnapshotHandler()), transcode.SnapshotAPIRoutes(), "/api/v1/snapshots/")
	}
	if s.transcripts != nil {
		api(transcripts.SearchRoute, s.transcripts.Handler())
	}
	if s.jobs != nil {
		rt.mount(s.guard(apiDoor, s.uploadQuota(s.jobs.Handler())), s.jobs.APIRoutes(), "/api/v1/tasks", "/api/v1/tasks/",
			"/api/v1/uploads", "/api/v1/schemes", "/api/v1/schemes/", "/api/v1/templates", "/api/v1/outputs/")
	}
	return nil
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
