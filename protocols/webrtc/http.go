package webrtc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"mps/internal/auth"
	"mps/internal/stream"
)

const (
	mimeSDP     = "application/sdp"
	mimeSDPFrag = "application/trickle-ice-sdpfrag"
)

// httpError is an error with the status it is answered with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func errStatus(status int, format string, a ...any) error {
	return &httpError{status: status, err: fmt.Errorf(format, a...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", s.cfg.AllowOrigin)
	h.Set("Access-Control-Allow-Methods", "OPTIONS, POST, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch")

	rt, err := parseRoute(r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if rt.session == "" {
		switch r.Method {
		case http.MethodOptions:
			h.Set("Accept-Post", mimeSDP)
			s.setLinks(h)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPost:
			s.servePost(w, r, rt)
		default:
			h.Set("Allow", "OPTIONS, POST")
			http.Error(w, r.Method+" not allowed on a WHIP/WHEP endpoint: POST an SDP offer", http.StatusMethodNotAllowed)
		}
		return
	}
	switch r.Method {
	case http.MethodOptions:
		h.Set("Accept-Patch", mimeSDPFrag)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		ss := s.lookup(rt)
		if ss == nil {
			http.Error(w, "no such session", http.StatusNotFound)
			return
		}
		ss.close()
		w.WriteHeader(http.StatusOK)
	case http.MethodPatch:
		s.servePatch(w, r, rt)
	default:
		h.Set("Allow", "OPTIONS, PATCH, DELETE")
		http.Error(w, r.Method+" not allowed on a session: DELETE ends it, PATCH trickles candidates", http.StatusMethodNotAllowed)
	}
}

// setLinks announces the configured STUN servers (RFC 9725 section 4.6) so
// clients can gather server-reflexive candidates too.
func (s *Server) setLinks(h http.Header) {
	for _, u := range s.cfg.STUNServers {
		h.Add("Link", "<"+u+`>; rel="ice-server"`)
	}
}

// readBody reads a request body of the given media type, bounded by
// MaxSDPSize.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, want string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.EqualFold(mt, want) {
		return nil, errStatus(http.StatusUnsupportedMediaType, "Content-Type %q: want %s", ct, want)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxSDPSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errStatus(http.StatusRequestEntityTooLarge, "body larger than %d bytes", s.cfg.MaxSDPSize)
		}
		return nil, errStatus(http.StatusBadRequest, "reading body: %v", err)
	}
	return body, nil
}

func (s *Server) servePost(w http.ResponseWriter, r *http.Request, rt route) {
	body, err := s.readBody(w, r, mimeSDP)
	if err != nil {
		s.fail(w, rt, err)
		return
	}
	offer, err := parseOffer(body)
	if err != nil {
		s.fail(w, rt, errStatus(http.StatusBadRequest, "%v", err))
		return
	}
	req := s.request(r, rt)
	var id, answer string
	if rt.kind == kindWHIP {
		id, answer, err = s.startPublisher(r.Context(), rt, req, string(body), offer)
	} else {
		id, answer, err = s.startPlayer(r.Context(), rt, req, string(body), offer)
	}
	if err != nil {
		s.fail(w, rt, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mimeSDP)
	h.Set("Location", rt.location(id))
	h.Set("ETag", `"`+id+`"`)
	h.Set("Accept-Patch", mimeSDPFrag)
	s.setLinks(h)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (s *Server) servePatch(w http.ResponseWriter, r *http.Request, rt route) {
	ss := s.lookup(rt)
	if ss == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	body, err := s.readBody(w, r, mimeSDPFrag)
	if err != nil {
		s.fail(w, rt, err)
		return
	}
	ufrag, cands, err := parseSDPFrag(body)
	if err != nil {
		s.fail(w, rt, errStatus(http.StatusBadRequest, "trickle-ice-sdpfrag: %v", err))
		return
	}
	if err := ss.addCandidates(ufrag, cands); err != nil {
		s.fail(w, rt, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// request builds the hub request from the HTTP one: a Bearer token is the
// password (WHIP's convention), Basic auth gives both.
func (s *Server) request(r *http.Request, rt route) stream.Request {
	req := stream.Request{Path: rt.path, Protocol: "webrtc", Query: r.URL.RawQuery, RemoteAddr: r.RemoteAddr}
	req.User, req.Pass = credentials(r.Header.Get("Authorization"))
	_, _, req.Token = auth.FromHTTP(r)
	return req
}

func credentials(auth string) (user, pass string) {
	scheme, val, ok := strings.Cut(auth, " ")
	if !ok {
		return "", ""
	}
	val = strings.TrimSpace(val)
	switch strings.ToLower(scheme) {
	case "bearer":
		return "", val
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return "", ""
		}
		user, pass, _ = strings.Cut(string(raw), ":")
		return user, pass
	}
	return "", ""
}

// fail answers a refused request with a status that says why and a plain
// text body for humans.
func (s *Server) fail(w http.ResponseWriter, rt route, err error) {
	status := http.StatusBadRequest
	var he *httpError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.Is(err, stream.ErrUnauthorized):
		status = auth.HTTPStatus(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", auth.Challenge)
		}
	case errors.Is(err, stream.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, stream.ErrPathBusy):
		status = http.StatusConflict
	case errors.Is(err, errShuttingDown), errors.Is(err, errNotStarted):
		status = http.StatusServiceUnavailable
	}
	s.log.Info("webrtc request refused", "path", rt.path, "kind", rt.kind, "status", status, "error", err.Error())
	http.Error(w, err.Error(), status)
}
