package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"mps/internal/auth"
	"mps/internal/httpjson"
	"mps/recorder"
)

// door says what an HTTP route is for the authorizer: which action, and
// on which path, a request to it takes.
type door func(r *http.Request) (action auth.Action, path string)

// apiDoor: the REST API, task outputs and the console; write by method.
func apiDoor(*http.Request) (auth.Action, string) { return auth.ActionAPI, "" }

func metricsDoor(*http.Request) (auth.Action, string) { return auth.ActionMetrics, "" }

// recordingsDoor: a path's segment list, segments and exports are
// playback of that path; listing, state, start/stop and delete are API.
func recordingsDoor(r *http.Request) (auth.Action, string) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, recorder.APIPrefix), "/")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if i := strings.LastIndex(rest, "/segments/"); i >= 0 {
			return auth.ActionPlayback, rest[:i]
		}
		for _, a := range []string{"/segments", "/get"} {
			if p, ok := strings.CutSuffix(rest, a); ok {
				return auth.ActionPlayback, p
			}
		}
	}
	return auth.ActionAPI, ""
}

// recordingsHLSDoor: /hls/recordings/PATH/FILE is playback of PATH.
func recordingsHLSDoor(r *http.Request) (auth.Action, string) {
	rest := strings.TrimPrefix(r.URL.Path, recorder.HLSPrefix)
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	return auth.ActionPlayback, rest
}

// snapshotsDoor: /snapshots/PATH/FILE and GET /api/v1/snapshots/PATH read
// PATH; taking a snapshot now (POST) is an API write.
func snapshotsDoor(r *http.Request) (auth.Action, string) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/snapshots/"); ok {
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			rest = rest[:i]
		}
		return auth.ActionRead, rest
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return auth.ActionRead, strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v1/snapshots/"), "/")
	}
	return auth.ActionAPI, ""
}

// callerKey is the context key of the caller's identity.
type callerKey struct{}

// caller returns who the guard let in: a user name, "jwt:SUBJECT", or
// "ip:ADDRESS" for an anonymous client.
func caller(r *http.Request) string {
	c, _ := r.Context().Value(callerKey{}).(string)
	return c
}

// guard asks the authorizer before h serves a request: 401 with a
// challenge, 403 or 429 when it says no.
func (s *Server) guard(d door, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			h.ServeHTTP(w, r) // CORS preflight carries no credentials
			return
		}
		action, path := d(r)
		ar := auth.Request{Action: action, Path: path, Protocol: "http", IP: r.RemoteAddr, Query: r.URL.RawQuery, ID: "http:" + r.RemoteAddr,
			Write: r.Method != http.MethodGet && r.Method != http.MethodHead}
		ar.User, ar.Pass, ar.Token = auth.FromHTTP(r)
		if path != "" && (action == auth.ActionRead || action == auth.ActionPlayback) {
			rule := s.Config().Rule(path)
			ar.PathUser, ar.PathPass = rule.ReadUser, rule.ReadPass
		}
		who, err := s.authorizer().Authorize(r.Context(), ar)
		if err != nil {
			code := auth.HTTPStatus(err)
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", auth.Challenge)
			}
			httpjson.WriteError(w, code, err.Error())
			return
		}
		if who == "" {
			who = "ip:" + hostOf(r.RemoteAddr)
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, who)))
	})
}

// natsAuthorize is the door of the embedded NATS server when it listens:
// a client can queue tasks and read every event, so it needs what an API
// write needs (by default: connect from this machine).
func (s *Server) natsAuthorize(ctx context.Context, user, pass, token, addr string) error {
	_, err := s.authorizer().Authorize(ctx, auth.Request{Action: auth.ActionAPI, Write: true, Protocol: "nats",
		IP: addr, User: user, Pass: pass, Token: token, ID: "nats:" + addr})
	return err
}

// authorizer returns the authorizer in force.
func (s *Server) authorizer() *auth.Authorizer { return s.authz.Load() }

// installAuthorizer makes a the authorizer of every door (the HTTP routes
// here; RTMP, RTSP, SRT, WHIP/WHEP and HLS through the path manager) and
// closes the one it replaces.
func (s *Server) installAuthorizer(a *auth.Authorizer) {
	old := s.authz.Swap(a)
	s.paths.SetAuthorizer(a)
	if old != nil {
		old.Close()
	}
}

// hostOf strips the port from a remote address.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// newAuthorizer builds the authorizer of the config in force. Its JWKS
// and callback requests use a client with a time-out; the URLs come from
// the operator's config, not from clients.
func (s *Server) newAuthorizer() (*auth.Authorizer, error) {
	c := s.Config().Auth.AuthConfig()
	c.Client = &http.Client{Timeout: 10 * time.Second}
	return auth.New(c, s.component(compAuth))
}
