package hls

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// File names inside /hls/PATH/.
const (
	multivariantName = "index.m3u8"
	mediaName        = "stream.m3u8"
)

func (m *muxer) initName() string { return "init_" + m.prefix + ".mp4" }

func (m *muxer) segmentName(msn uint64) string {
	ext := ".mp4"
	if m.cfg.Variant == VariantMPEGTS {
		ext = ".ts"
	}
	return "seg_" + m.prefix + "_" + strconv.FormatUint(msn, 10) + ext
}

func (m *muxer) partName(msn uint64, idx int) string {
	return "part_" + m.prefix + "_" + strconv.FormatUint(msn, 10) + "_" + strconv.Itoa(idx) + ".mp4"
}

// mediaFile is a parsed segment, part or init file name.
type mediaFile struct {
	kind   byte // 'i'nit, 's'egment, 'p'art
	prefix string
	msn    uint64
	part   int
}

// parseMediaFile parses names made by initName, segmentName and partName;
// anything else is not ours.
func parseMediaFile(name string) (mediaFile, bool) {
	var f mediaFile
	base, ok := strings.CutSuffix(name, ".mp4")
	if !ok {
		if base, ok = strings.CutSuffix(name, ".ts"); !ok {
			return f, false
		}
	}
	el := strings.Split(base, "_")
	num := func(s string) (uint64, bool) {
		v, err := strconv.ParseUint(s, 10, 63)
		return v, err == nil
	}
	switch {
	case len(el) == 2 && el[0] == "init" && base+".mp4" == name:
		f.kind = 'i'
	case len(el) == 3 && el[0] == "seg":
		f.kind = 's'
		if f.msn, ok = num(el[2]); !ok {
			return f, false
		}
	case len(el) == 4 && el[0] == "part" && base+".mp4" == name:
		f.kind = 'p'
		var p uint64
		if f.msn, ok = num(el[2]); !ok {
			return f, false
		}
		if p, ok = num(el[3]); !ok || p > 1<<20 {
			return f, false
		}
		f.part = int(p)
	default:
		return f, false
	}
	f.prefix = el[1]
	if f.prefix == "" || strings.Trim(f.prefix, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
		return f, false // muxer prefixes are base-36
	}
	return f, true
}

// cleanQuery drops the LL-HLS delivery directives from a query that is
// passed on to the URIs in a playlist (so auth tokens follow the player).
func cleanQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	for k := range q {
		if strings.HasPrefix(k, "_HLS_") {
			delete(q, k)
		}
	}
	return q.Encode()
}

func withQuery(uri, q string) string {
	if q == "" {
		return uri
	}
	return uri + "?" + q
}

func (m *muxer) lowLatency() bool { return m.cfg.Variant == VariantLowLatency }

func (m *muxer) version() int {
	switch m.cfg.Variant {
	case VariantLowLatency:
		return 9
	case VariantFMP4:
		return 7
	}
	return 3
}

// renditionReport describes where this muxer's playlist is, for the
// EXT-X-RENDITION-REPORT of its siblings. uri is relative to the sibling.
func (m *muxer) renditionReport(uri string) (*playlist.MediaRenditionReport, bool) {
	m.tl.mu.Lock()
	defer m.tl.mu.Unlock()
	tl := m.tl
	if !m.lowLatency() || len(tl.segments) == 0 || tl.closed {
		return nil, false
	}
	r := &playlist.MediaRenditionReport{URI: uri}
	if tl.cur != nil && len(tl.cur.parts) > 0 {
		r.LastMSN = int(tl.cur.msn)
		r.LastPart = ptr(len(tl.cur.parts) - 1)
	} else {
		last := tl.segments[len(tl.segments)-1]
		r.LastMSN = int(last.msn)
		r.LastPart = ptr(len(last.parts) - 1)
	}
	return r, true
}

func ptr[T any](v T) *T { return &v }

// mediaPlaylist renders the media playlist. tl.mu must be held.
func (m *muxer) mediaPlaylist(query string, reports []*playlist.MediaRenditionReport) ([]byte, error) {
	tl := m.tl
	if len(reports) == 0 && tl.version == m.cacheVersion && query == m.cacheQuery && m.cacheBody != nil {
		return m.cacheBody, nil
	}
	// A file's finished playlist is plain VOD. A live stream that ended
	// keeps its parts listed, without a preload hint: players at the live
	// edge have been loading parts and finish the stream from them.
	ll := m.lowLatency() && !(tl.ended && m.lossless)
	target := max(tl.targetDur, int(math.Ceil(m.cfg.SegmentDuration.Seconds())), 1)
	pl := playlist.Media{
		Version:             m.version(),
		IndependentSegments: true,
		TargetDuration:      target,
		Endlist:             tl.ended,
	}
	if len(tl.segments) > 0 {
		pl.MediaSequence = int(tl.segments[0].msn)
	}
	if tl.discSeq > 0 {
		// The tag on the first segment counts for it (RFC 8216 6.2.2).
		seq := tl.discSeq
		if len(tl.segments) > 0 && tl.segments[0].discontinuity {
			seq--
		}
		pl.DiscontinuitySequence = &seq
	}
	if m.lossless {
		t := playlist.MediaPlaylistTypeEvent
		if tl.ended {
			t = playlist.MediaPlaylistTypeVOD
		}
		pl.PlaylistType = &t
	}
	if m.cfg.Variant != VariantMPEGTS {
		pl.Map = &playlist.MediaMap{URI: withQuery(m.initName(), query)}
	}
	if ll {
		// Twice the part target: the RFC's minimum (it recommends three).
		// Players sit PART-HOLD-BACK behind the live edge, so this is most
		// of LL-HLS latency: 2x measured 0.64 s glass to glass with hls.js
		// and 200 ms parts on loopback, 3x 0.85 s.
		pt := tl.partTargetNow()
		phb := 2 * pt
		pl.ServerControl = &playlist.MediaServerControl{CanBlockReload: true, PartHoldBack: &phb}
		pl.PartInf = &playlist.MediaPartInf{PartTarget: pt}
	}
	for i, s := range tl.segments {
		pdt := tl.origin.Add(s.rel)
		ps := &playlist.MediaSegment{Duration: s.dur, URI: withQuery(m.segmentName(s.msn), query), DateTime: &pdt, Discontinuity: s.discontinuity}
		if ll && i >= len(tl.segments)-tl.partKeep {
			ps.Parts = m.playlistParts(s, query)
		}
		pl.Segments = append(pl.Segments, ps)
	}
	if ll && !tl.ended {
		next := tl.nextMSN
		idx := 0
		if tl.cur != nil {
			pl.Parts = m.playlistParts(tl.cur, query)
			next, idx = tl.cur.msn, len(tl.cur.parts)
		}
		pl.PreloadHint = &playlist.MediaPreloadHint{URI: withQuery(m.partName(next, idx), query)}
		pl.RenditionReport = reports
	}
	b, err := pl.Marshal()
	if err != nil {
		return nil, err
	}
	if len(reports) == 0 {
		m.cacheVersion, m.cacheQuery, m.cacheBody = tl.version, query, b
	}
	return b, nil
}

func (m *muxer) playlistParts(s *segment, query string) []*playlist.MediaPart {
	out := make([]*playlist.MediaPart, len(s.parts))
	for i, p := range s.parts {
		out[i] = &playlist.MediaPart{Duration: p.dur, URI: withQuery(m.partName(s.msn, i), query), Independent: p.independent}
	}
	return out
}

// variantInfo is what a multivariant playlist says about one rendition.
type variantInfo struct {
	bandwidth, average int
	codecs             []string
	width, height      int
	fps                float64
	version            int
}

// info measures the rendition from the segments it holds.
func (m *muxer) info() variantInfo {
	v := variantInfo{version: m.version()}
	for _, t := range m.tracks {
		if c := t.codecString(); c != "" {
			v.codecs = append(v.codecs, c)
		}
		if t.isVideo() {
			v.width, v.height = t.resolution()
		}
	}
	m.tl.mu.Lock()
	defer m.tl.mu.Unlock()
	var bytes int64
	var dur time.Duration
	frames := 0
	for _, s := range m.tl.segments {
		if s.dur <= 0 {
			continue
		}
		bytes += s.size
		dur += s.dur
		frames += s.frames
		if bw := int(float64(s.size*8) / s.dur.Seconds()); bw > v.bandwidth {
			v.bandwidth = bw
		}
	}
	if dur > 0 {
		v.average = int(float64(bytes*8) / dur.Seconds())
		if m.hasVideo() && frames > 0 {
			v.fps = math.Round(float64(frames)/dur.Seconds()*1000) / 1000
		}
	}
	if v.bandwidth == 0 {
		v.bandwidth = 1
	}
	if v.average == 0 {
		v.average = v.bandwidth
	}
	return v
}

// relPath returns the URL path of dir "to" relative to dir "from", both
// stream paths like live/cam1 and live/cam1/720p.
func relPath(from, to string) string {
	if from == to {
		return ""
	}
	f := strings.Split(from, "/")
	t := strings.Split(to, "/")
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var b strings.Builder
	for range f[i:] {
		b.WriteString("../")
	}
	b.WriteString(strings.Join(t[i:], "/"))
	return b.String()
}

// relURI is the URI of file in stream path to, seen from stream path from.
func relURI(from, to, file string) string {
	r := relPath(from, to)
	if r == "" {
		return file
	}
	return strings.TrimSuffix(r, "/") + "/" + file
}
