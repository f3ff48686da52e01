package hls

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// This file serves a path's live subtitles as a WebVTT rendition: a
// SUBTITLES group in the multivariant playlist, a subtitle playlist whose
// segments mirror the media segments one for one (same sequence numbers,
// durations and program date-times, so players fetch them in step), and
// one WebVTT file per segment holding the cues that overlap it. The cues
// come from Config.Subtitles; this package only lays them out in time.

// SubtitleCue is one live subtitle on the stream's clock (unit PTS).
type SubtitleCue struct {
	Start, End time.Duration
	Text       string
}

// SubtitleSource gives the live cues of one path that overlap a stretch of
// the stream's clock.
type SubtitleSource interface {
	Cues(from, to time.Duration) []SubtitleCue
}

const (
	subsPlaylistName = "subs.m3u8"
	subsGroup        = "subs"
)

func subsSegmentName(msn uint64) string { return "subs_" + strconv.FormatUint(msn, 10) + ".vtt" }

func parseSubsSegment(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, "subs_")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".vtt")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 63)
	return n, err == nil
}

// subtitles returns path's cue source, nil when it has none.
func (s *Server) subtitles(path string) SubtitleSource {
	if s.cfg.Subtitles == nil {
		return nil
	}
	return s.cfg.Subtitles(path)
}

// subsRendition is the multivariant playlist's entry for path's subtitles.
func subsRendition(path, query string) *playlist.MultivariantRendition {
	return &playlist.MultivariantRendition{
		Type: playlist.MultivariantRenditionTypeSubtitles, GroupID: subsGroup, Name: "Live subtitles",
		Default: true, Autoselect: true, URI: ptr(withQuery(relURI(path, path, subsPlaylistName), query)),
	}
}

// serveSubs answers subs.m3u8 and subs_N.vtt of path.
func (s *Server) serveSubs(w http.ResponseWriter, r *http.Request, path string, pc PathConfig, file string) {
	src := s.subtitles(path)
	if src == nil {
		httpError(w, http.StatusNotFound, "no live subtitles on this path")
		return
	}
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
	if file == subsPlaylistName {
		// Blocking reloads answer the moment a segment (and so its
		// subtitle segment) completes, which is when a low-latency
		// player's position lies inside it: hls.js looks for the subtitle
		// segment at the playing position, which otherwise is past the
		// subtitle playlist's last (complete) segment most of the time at
		// sub-second latency, and then it never loads one.
		if m.lowLatency() && !blockReload(w, r, m) {
			return
		}
		m.tl.mu.Lock()
		body, err := m.subsPlaylist(cleanQuery(r.URL.RawQuery))
		m.tl.mu.Unlock()
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		s.writePlaylist(w, r, body)
		return
	}
	msn, _ := parseSubsSegment(file)
	m.tl.mu.Lock()
	var seg *segment
	for _, sg := range m.tl.segments {
		if sg.msn == msn {
			seg = sg
		}
	}
	t0, rel := m.tl.t0, time.Duration(0)
	var dur time.Duration
	if seg != nil {
		rel, dur = seg.rel, seg.dur
	}
	m.tl.mu.Unlock()
	if seg == nil {
		httpError(w, http.StatusNotFound, "no such segment")
		return
	}
	w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=60")
	_, _ = w.Write(m.subsSegment(src.Cues(t0+rel, t0+rel+dur), t0))
}

// subsPlaylist mirrors the media playlist's segments. Call with tl.mu held.
func (m *muxer) subsPlaylist(query string) ([]byte, error) {
	tl := m.tl
	pl := playlist.Media{
		Version:        3,
		TargetDuration: max(tl.targetDur, int(m.cfg.SegmentDuration.Seconds()+0.999), 1),
		Endlist:        tl.ended,
	}
	if m.lowLatency() {
		pl.Version = m.version()
		pl.ServerControl = &playlist.MediaServerControl{CanBlockReload: true}
	}
	if len(tl.segments) > 0 {
		pl.MediaSequence = int(tl.segments[0].msn)
	}
	for _, s := range tl.segments {
		pdt := tl.origin.Add(s.rel)
		pl.Segments = append(pl.Segments, &playlist.MediaSegment{Duration: s.dur, URI: withQuery(subsSegmentName(s.msn), query), DateTime: &pdt})
	}
	return pl.Marshal()
}

// subsSegment writes cues as one WebVTT file. Cue times are media time
// (stream clock minus t0); X-TIMESTAMP-MAP ties media time zero to the
// media segments' own timestamps (MPEG-TS PTS start at tsOffset, fMP4
// decode times at 0), as players align subtitles with it.
func (m *muxer) subsSegment(cues []SubtitleCue, t0 time.Duration) []byte {
	mpegts := 0
	if m.cfg.Variant == VariantMPEGTS {
		mpegts = tsOffset
	}
	var b strings.Builder
	fmt.Fprintf(&b, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:%d,LOCAL:00:00:00.000\n", mpegts)
	for _, c := range cues {
		text := strings.ReplaceAll(strings.TrimSpace(c.Text), "-->", "->")
		if text == "" {
			continue
		}
		fmt.Fprintf(&b, "\n%s --> %s\n%s\n", vttStamp(c.Start-t0), vttStamp(c.End-t0), text)
	}
	return []byte(b.String())
}

func vttStamp(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// setT0 records the stream time of media time zero.
func (t *timeline) setT0(t0 time.Duration) {
	t.mu.Lock()
	t.t0 = t0
	t.mu.Unlock()
}
