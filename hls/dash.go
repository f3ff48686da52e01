package hls

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"mps/internal/dash"
)

// File name and content type of a path's MPEG-DASH manifest. It describes
// the fMP4 segments the HLS playlists list (the same names, served by the
// same handler from the same memory or DVR files), so DASH players get the
// stream without a second packaging.
const (
	dashName = "index.mpd"
	typeMPD  = "application/dash+xml"
)

// dashAnchor fixes, once per muxer, the wall-clock time of its media time
// zero that its DASH manifests use: a dynamic MPD's availabilityStartTime
// must not move between reloads, while the timeline's origin may still be
// refined by later units.
type dashAnchor struct {
	once   sync.Once
	origin time.Time
}

func (m *muxer) dashOrigin() time.Time {
	m.dash.once.Do(func() {
		m.tl.mu.Lock()
		m.dash.origin = m.tl.origin
		m.tl.mu.Unlock()
	})
	return m.dash.origin
}

// dashRung is one fMP4 muxer of a manifest with what was read of its
// timeline.
type dashRung struct {
	path   string
	m      *muxer
	origin time.Time
	segs   []segment // copies of the complete segments (times only)
	ended  bool
	target int
}

// serveDASH answers /PATH/index.mpd: a dynamic MPD with a SegmentTimeline
// over the live window, one AdaptationSet whose Representations are the
// path's ladder rungs (or the path alone); static once every rung ended.
// Each rung is authorized like its playlists.
func (s *Server) serveDASH(w http.ResponseWriter, r *http.Request, path string, pc PathConfig) {
	rungs, code, err := s.acquireDASH(r, path, pc)
	for _, g := range rungs {
		defer g.m.release()
	}
	if err != nil {
		s.refuse(w, code, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var ready []dashRung
	for _, g := range rungs {
		if g.m.waitFirst(ctx, s.cfg.RequestTimeout) {
			ready = append(ready, g.snapshot())
		}
	}
	if len(ready) == 0 {
		s.notReady(w, r, rungs[0].m)
		return
	}
	body, err := dashManifest(path, ready, cleanQuery(r.URL.RawQuery), time.Now())
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.writePlaylist(typedWriter{w, typeMPD}, r, body)
}

// acquireDASH acquires the muxers of the manifest's rungs, fMP4 only. A
// refusal of any rung refuses the manifest. The caller releases what it
// got, error or not.
func (s *Server) acquireDASH(r *http.Request, path string, pc PathConfig) ([]dashRung, int, error) {
	paths := pc.Ladder
	if len(paths) == 0 {
		paths = []string{path}
	}
	var got []dashRung
	code, firstErr := 0, error(nil)
	for _, p := range paths {
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
		if err == nil && m.cfg.Variant == VariantMPEGTS {
			m.release()
			c, err = http.StatusUnsupportedMediaType, fmt.Errorf("path %s is served as MPEG-TS HLS; DASH needs the fmp4 or lowLatency variant", p)
		}
		if err != nil {
			if firstErr == nil || c == http.StatusUnauthorized {
				code, firstErr = c, err
			}
			continue
		}
		got = append(got, dashRung{path: p, m: m})
	}
	if code == http.StatusUnauthorized {
		return got, code, firstErr
	}
	if len(got) == 0 {
		if firstErr == nil {
			code, firstErr = http.StatusNotFound, fmt.Errorf("no rendition of %s is live", path)
		}
		return got, code, firstErr
	}
	return got, 0, nil
}

// snapshot reads the rung's complete segments.
func (g dashRung) snapshot() dashRung {
	g.origin = g.m.dashOrigin()
	tl := g.m.tl
	tl.mu.Lock()
	defer tl.mu.Unlock()
	g.segs = make([]segment, len(tl.segments))
	for i, seg := range tl.segments {
		g.segs[i] = segment{msn: seg.msn, rel: seg.rel, dur: seg.dur}
	}
	g.ended = tl.ended || tl.closed
	g.target = max(tl.targetDur, 1)
	return g
}

// dashManifest writes the MPD of the rungs as seen from path. The
// rungs' media clocks are aligned on the wall clock: the manifest starts
// at the latest rung origin, and each rung's presentationTimeOffset is how
// much later that is than its own origin.
func dashManifest(path string, rungs []dashRung, query string, now time.Time) ([]byte, error) {
	p := &dash.Presentation{Dynamic: true, Now: now}
	ended := true
	var window time.Duration = -1
	var target int
	for _, g := range rungs {
		if g.origin.After(p.AvailabilityStart) {
			p.AvailabilityStart = g.origin
		}
		ended = ended && g.ended
		target = max(target, g.target)
		var d time.Duration
		for _, seg := range g.segs {
			d += seg.dur
		}
		if window < 0 || d < window {
			window = d
		}
	}
	start := p.AvailabilityStart
	if ended {
		// A finished presentation starts with its earliest listed media.
		start = earliestMedia(rungs)
		p.Dynamic = false
	}
	segDur := time.Duration(target) * time.Second
	p.UpdatePeriod, p.MinBuffer, p.MaxSegment = segDur, segDur, segDur
	p.TimeShift, p.Delay = window, min(3*segDur, window)
	for _, g := range rungs {
		rend := g.rendition(path, query, start)
		p.Video = p.Video || g.m.hasVideo()
		if n := len(rend.Segments); n > 0 {
			last := rend.Segments[n-1]
			end := fromTicks(int64(last.Start+last.Duration)-int64(rend.Offset), int(rend.Timescale))
			p.Duration = max(p.Duration, end)
		}
		p.Renditions = append(p.Renditions, rend)
	}
	return p.Marshal()
}

// earliestMedia is the wall-clock time of the first listed segment of any
// rung.
func earliestMedia(rungs []dashRung) time.Time {
	var t time.Time
	for _, g := range rungs {
		if len(g.segs) == 0 {
			continue
		}
		if at := g.origin.Add(g.segs[0].rel); t.IsZero() || at.Before(t) {
			t = at
		}
	}
	return t
}

// rendition describes the rung's segments with presentation time zero at
// wall-clock time start.
func (g dashRung) rendition(path, query string, start time.Time) dash.Rendition {
	_, _, lead := splitTracks(g.m.tracks)
	ts := lead.timeScale
	info := g.m.info()
	r := dash.Rendition{
		ID:        g.path,
		Bandwidth: info.bandwidth,
		Codecs:    info.codecs,
		Width:     info.width,
		Height:    info.height,
		FrameRate: info.fps,
		Timescale: uint64(ts),
		Init:      dash.Escape(withQuery(relURI(path, g.path, g.m.initName()), query)),
		Media:     dash.Escape(relURI(path, g.path, "seg_"+g.m.prefix+"_")) + "$Number$" + dash.Escape(withQuery(".mp4", query)),
	}
	if off := start.Sub(g.origin); off > 0 {
		r.Offset = uint64(toTicks(off, ts))
	}
	if len(g.segs) > 0 {
		r.FirstNumber = g.segs[0].msn
	}
	for _, seg := range g.segs {
		a, b := toTicks(seg.rel, ts), toTicks(seg.rel+seg.dur, ts)
		r.Segments = append(r.Segments, dash.Segment{Start: uint64(a), Duration: uint64(b - a)})
	}
	return r
}

// typedWriter sends a body written by writePlaylist with another content
// type.
type typedWriter struct {
	http.ResponseWriter
	ctype string
}

func (t typedWriter) WriteHeader(code int) {
	t.Header().Set("Content-Type", t.ctype)
	t.ResponseWriter.WriteHeader(code)
}
