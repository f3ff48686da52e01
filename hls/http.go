package hls

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"mps/internal/auth"
	"mps/internal/stream"
)

// Content types of what the handler serves.
const (
	typePlaylist = "application/vnd.apple.mpegurl"
	typeTS       = "video/mp2t"
	cacheForever = "public, max-age=31536000, immutable"
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.Prefix)
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 {
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	path, file := rest[:i], rest[i+1:]
	// The path only ever names a stream (and a DVR directory made from a
	// validated name); the file only ever names an entry in memory.
	if err := validPath(path); err != nil {
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	pc, err := s.cfg.rule(path)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	setCORS(w, r, pc.CORSOrigins)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Range, Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		httpError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch file {
	case multivariantName:
		s.serveMultivariant(w, r, path, pc)
	case mediaName:
		s.serveMedia(w, r, path, pc)
	case subsPlaylistName:
		s.serveSubs(w, r, path, pc, file)
	case dashName:
		s.serveDASH(w, r, path, pc)
	default:
		if _, ok := parseSubsSegment(file); ok {
			s.serveSubs(w, r, path, pc, file)
			return
		}
		f, ok := parseMediaFile(file)
		if !ok {
			httpError(w, http.StatusNotFound, "not found")
			return
		}
		s.serveFile(w, r, path, pc, f)
	}
}

// acquire authorizes the request against the hub and returns the path's
// muxer, starting it on demand, held until the caller calls release. A
// finished file's muxer is served without a stream.
func (s *Server) acquire(r *http.Request, path string, pc PathConfig) (*muxer, int, error) {
	req := stream.Request{Path: path, Protocol: "hls", Query: r.URL.RawQuery, RemoteAddr: r.RemoteAddr}
	req.User, req.Pass, req.Token = auth.FromHTTP(r)
	st, err := s.hub.Read(r.Context(), req)
	if err != nil {
		switch {
		case errors.Is(err, stream.ErrUnauthorized):
			return nil, auth.HTTPStatus(err), err
		case errors.Is(err, stream.ErrNotFound):
			if m := s.finished(path); m != nil || s.fileMuxer(path) != nil {
				if m == nil {
					m = s.fileMuxer(path)
				}
				m.hold()
				return m, 0, nil
			}
			if m := s.ending(r.Context(), path); m != nil {
				m.hold()
				return m, 0, nil
			}
			return nil, http.StatusNotFound, fmt.Errorf("no stream on path %s", path)
		}
		return nil, http.StatusServiceUnavailable, err
	}
	m, err := s.muxerFor(st, pc)
	if err != nil {
		if errors.Is(err, errClosed) {
			return nil, http.StatusServiceUnavailable, err
		}
		return nil, http.StatusUnsupportedMediaType, err
	}
	m.hold()
	return m, 0, nil
}

func (s *Server) refuse(w http.ResponseWriter, code int, err error) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", auth.Challenge)
	}
	httpError(w, code, err.Error())
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, path string, pc PathConfig) {
	m, code, err := s.acquire(r, path, pc)
	if err != nil {
		s.refuse(w, code, err)
		return
	}
	defer m.release()
	if !m.waitFirst(r.Context(), s.cfg.RequestTimeout) {
		s.notReady(w, r, m)
		return
	}
	tl := m.tl
	if m.lowLatency() && !blockReload(w, r, m) {
		return
	}
	var reports []*playlist.MediaRenditionReport
	if m.lowLatency() {
		for _, sib := range s.siblings(path) {
			if sm := s.running(sib); sm != nil && sm != m {
				if rep, ok := sm.renditionReport(relURI(path, sib, mediaName)); ok {
					reports = append(reports, rep)
				}
			}
		}
	}
	tl.mu.Lock()
	body, err := m.mediaPlaylist(cleanQuery(r.URL.RawQuery), reports)
	tl.mu.Unlock()
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.writePlaylist(w, r, body)
}

// blockReload holds a blocking playlist reload (_HLS_msn, _HLS_part;
// RFC 8216bis 6.2.5.2) until the segment or part it names exists. It
// reports false when it has answered the request itself (bad parameters,
// time-out, stream gone).
func blockReload(w http.ResponseWriter, r *http.Request, m *muxer) bool {
	tl := m.tl
	q := r.URL.Query()
	msnS, partS := q.Get("_HLS_msn"), q.Get("_HLS_part")
	if partS != "" && msnS == "" {
		httpError(w, http.StatusBadRequest, "_HLS_part needs _HLS_msn")
		return false
	}
	if msnS == "" {
		return true
	}
	msn, err1 := strconv.ParseUint(msnS, 10, 63)
	part := -1
	if partS != "" {
		p, err2 := strconv.ParseUint(partS, 10, 31)
		if err2 != nil {
			err1 = err2
		}
		part = int(p)
	}
	if err1 != nil {
		httpError(w, http.StatusBadRequest, "bad _HLS_msn or _HLS_part")
		return false
	}
	tl.mu.Lock()
	last := tl.nextMSN - 1
	target := max(tl.targetDur, 1)
	tl.mu.Unlock()
	// RFC 8216bis 6.2.5.2: more than two segments ahead is a client
	// error, not something to wait for.
	if msn > last+2 {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("_HLS_msn %d is beyond the live edge (%d)", msn, last))
		return false
	}
	timeout := 3 * time.Duration(target) * time.Second
	if tl.wait(r.Context().Done(), timeout, func() bool { return tl.satisfies(msn, part) }) {
		return true
	}
	switch {
	case r.Context().Err() != nil:
	case m.stopped():
		httpError(w, http.StatusNotFound, "stream ended")
	default:
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("segment %d part %d did not appear within %s", msn, part, timeout))
	}
	return false
}

// notReady answers a request that came before the first segment.
func (s *Server) notReady(w http.ResponseWriter, r *http.Request, m *muxer) {
	if r.Context().Err() != nil {
		return
	}
	if m.stopped() {
		httpError(w, http.StatusNotFound, "stream ended before its first segment")
		return
	}
	w.Header().Set("Retry-After", "1")
	httpError(w, http.StatusServiceUnavailable, "no segment yet: the stream has not sent a keyframe")
}

// satisfies reports whether a blocking reload for segment msn (and part
// index part, -1 for the whole segment) can be answered. mu must be held.
func (t *timeline) satisfies(msn uint64, part int) bool {
	if t.ended || t.closed {
		return true
	}
	for {
		if len(t.segments) > 0 && msn < t.segments[0].msn {
			return true
		}
		if seg := t.find(msn); seg != nil {
			if part < len(seg.parts) {
				return true
			}
			// A part index past the last part of a finished segment means
			// part 0 of the next one (RFC 8216bis 6.2.5.2).
			msn, part = msn+1, 0
			continue
		}
		if t.cur != nil && t.cur.msn == msn {
			return part >= 0 && part < len(t.cur.parts)
		}
		return false
	}
}

func (s *Server) serveMultivariant(w http.ResponseWriter, r *http.Request, path string, pc PathConfig) {
	rungs := pc.Ladder
	if len(rungs) == 0 {
		rungs = []string{path}
	}
	type rung struct {
		path string
		m    *muxer
	}
	var got []rung
	code, firstErr := 0, error(nil)
	for _, p := range rungs {
		if validPath(p) != nil {
			continue
		}
		rpc := pc
		if p != path {
			var err error
			if rpc, err = s.cfg.rule(p); err != nil {
				continue
			}
		}
		m, c, err := s.acquire(r, p, rpc)
		if err != nil {
			if firstErr == nil || c == http.StatusUnauthorized {
				code, firstErr = c, err
			}
			continue
		}
		defer m.release()
		got = append(got, rung{p, m})
	}
	if code == http.StatusUnauthorized || len(got) == 0 {
		if firstErr == nil {
			code, firstErr = http.StatusNotFound, fmt.Errorf("no rendition of %s is live", path)
		}
		s.refuse(w, code, firstErr)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var ready []rung
	for _, g := range got {
		if g.m.waitFirst(ctx, s.cfg.RequestTimeout) {
			ready = append(ready, g)
		}
	}
	if len(ready) == 0 {
		s.notReady(w, r, got[0].m)
		return
	}
	paths := make([]string, len(ready))
	for i, g := range ready {
		paths[i] = g.path
	}
	s.noteLadder(paths)
	query := cleanQuery(r.URL.RawQuery)
	mv := playlist.Multivariant{Version: 3, IndependentSegments: true}
	subs := s.subtitles(path) != nil
	if subs {
		mv.Renditions = append(mv.Renditions, subsRendition(path, query))
	}
	for _, g := range ready {
		info := g.m.info()
		v := &playlist.MultivariantVariant{
			Bandwidth:        info.bandwidth,
			AverageBandwidth: ptr(info.average),
			Codecs:           info.codecs,
			URI:              withQuery(relURI(path, g.path, mediaName), query),
		}
		if subs {
			v.Subtitles = subsGroup
		}
		if info.width > 0 && info.height > 0 {
			v.Resolution = strconv.Itoa(info.width) + "x" + strconv.Itoa(info.height)
		}
		if info.fps > 0 {
			v.FrameRate = ptr(info.fps)
		}
		mv.Version = max(mv.Version, info.version)
		mv.Variants = append(mv.Variants, v)
	}
	body, err := mv.Marshal()
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.writePlaylist(w, r, body)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, path string, pc PathConfig, f mediaFile) {
	m, code, err := s.acquire(r, path, pc)
	if err != nil {
		s.refuse(w, code, err)
		return
	}
	defer m.release()
	if f.prefix != m.prefix {
		// A name from an earlier muxer of this path: the player must
		// reload the playlist.
		httpError(w, http.StatusNotFound, "segment no longer available")
		return
	}
	tl := m.tl
	ctype := "video/mp4"
	if !m.hasVideo() {
		ctype = "audio/mp4"
	}
	var data []byte
	var parts [][]byte // a segment served as its parts
	var file string
	switch f.kind {
	case 'i':
		if m.cfg.Variant == VariantMPEGTS {
			httpError(w, http.StatusNotFound, "not found")
			return
		}
		tl.wait(r.Context().Done(), s.cfg.RequestTimeout, func() bool { return tl.init != nil })
		tl.mu.Lock()
		data = tl.init
		tl.mu.Unlock()
	case 's':
		if m.cfg.Variant == VariantMPEGTS {
			ctype = typeTS
		}
		tl.mu.Lock()
		if seg := tl.find(f.msn); seg != nil {
			data, file = seg.data, seg.file
			parts = inMemory(seg.parts)
		}
		tl.mu.Unlock()
	case 'p':
		if !m.lowLatency() {
			httpError(w, http.StatusNotFound, "not found")
			return
		}
		tl.mu.Lock()
		target := max(tl.targetDur, 1)
		tl.mu.Unlock()
		timeout := min(s.cfg.RequestTimeout, 3*time.Duration(target)*time.Second)
		var p *part
		// A preload-hinted part is held until it exists (RFC 8216bis
		// 6.2.5.3).
		tl.wait(r.Context().Done(), timeout, func() bool {
			var pending bool
			p, pending = tl.lookupPart(f.msn, f.part)
			return p != nil || !pending
		})
		if p != nil {
			tl.mu.Lock()
			data = p.data
			tl.mu.Unlock()
		}
	}
	if data == nil && parts == nil && file == "" {
		if r.Context().Err() == nil {
			httpError(w, http.StatusNotFound, "not found")
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheForever)
	switch {
	case data != nil:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		return
	case parts != nil:
		http.ServeContent(w, r, "", time.Time{}, newPartsReader(parts))
		return
	}
	fh, err := os.Open(file)
	if err != nil {
		h.Del("Cache-Control")
		httpError(w, http.StatusNotFound, "segment no longer available")
		return
	}
	defer fh.Close()
	http.ServeContent(w, r, "", time.Time{}, fh)
}

// inMemory returns the bodies of a segment's parts, or nil when it has
// none or they were dropped from memory (DVR: served from its file). mu
// must be held; the bodies never change once a part exists.
func inMemory(parts []*part) [][]byte {
	if len(parts) == 0 {
		return nil
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		if p.data == nil {
			return nil
		}
		out[i] = p.data
	}
	return out
}

// lookupPart returns part idx of segment msn, or nil and whether it may
// still come (it is the next part of the segment being built). mu must
// be held.
func (t *timeline) lookupPart(msn uint64, idx int) (*part, bool) {
	if seg := t.find(msn); seg != nil {
		if idx < len(seg.parts) && seg.parts[idx].data != nil {
			return seg.parts[idx], false
		}
		return nil, false
	}
	if t.ended || t.closed {
		return nil, false
	}
	if t.cur != nil && t.cur.msn == msn {
		if idx < len(t.cur.parts) {
			return t.cur.parts[idx], false
		}
		return nil, idx == len(t.cur.parts)
	}
	// Between two segments the hint names part 0 of the next one.
	return nil, msn == t.nextMSN && idx == 0 || t.cur != nil && msn == t.cur.msn+1 && idx == 0
}

func httpError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// writePlaylist sends a playlist uncached, gzipped when the client takes it.
// The compressors come from a pool: a new one allocates about a megabyte of
// tables, and a blocking LL-HLS player asks for a playlist every part.
func (s *Server) writePlaylist(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", typePlaylist)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		zw, _ := s.gzips.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		} else {
			zw.Reset(w)
		}
		_, _ = zw.Write(body)
		_ = zw.Close()
		zw.Reset(io.Discard) // drop the reference to w before pooling
		s.gzips.Put(zw)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip parses Accept-Encoding for gzip with a non-zero weight.
func acceptsGzip(ae string) bool {
	for _, tok := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(tok), ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// setCORS allows the configured origins ("*" or none configured: any).
func setCORS(w http.ResponseWriter, r *http.Request, origins []string) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	switch {
	case len(origins) == 0 || slices.Contains(origins, "*"):
		h.Set("Access-Control-Allow-Origin", "*")
	case origin != "" && slices.Contains(origins, origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	default:
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		return
	}
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Date")
}

// validPath accepts the same stream names as the path manager: letters,
// digits and -_.~/ with no empty, "." or ".." element.
func validPath(name string) error {
	if name == "" || len(name) > 256 {
		return errors.New("bad path length")
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.~/", c)
		if !ok {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return errors.New("empty, '.' or '..' element")
		}
	}
	return nil
}
