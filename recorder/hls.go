package recorder

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mps/internal/httpjson"
	"mps/internal/stream"
)

// HLSHandler serves recordings as HLS VOD; mount it at HLSPrefix without
// stripping the prefix:
//
//	GET /hls/recordings/{path}/index.m3u8?start=&end=   VOD playlist
//	GET /hls/recordings/{path}/{segment}                the segment file (ranges)
//
// Every recorded segment is a whole file with its own timeline (it opens
// in a player as a clip from 0). An fMP4 one carries its own init block,
// which the playlist names in EXT-X-MAP with a byte range, and its media as
// the range after it, served with its decode times moved by the segment's
// offset from the first segment of the playlist (t=µs in the URI), so the
// segments play on one timeline; only a gap between recording sessions is
// a discontinuity. MPEG-TS segments are served as they are: every boundary
// is a discontinuity (the session's segments share continuity counters, so
// they also read as one transport stream). Offsets and PROGRAM-DATE-TIME
// come from the index's wall-clock starts.
func (m *Manager) HLSHandler() http.Handler { return http.HandlerFunc(m.serveHLS) }

func (m *Manager) serveHLS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, HLSPrefix)
	i := strings.LastIndex(rest, "/")
	if !ok || i < 0 {
		httpjson.WriteError(w, http.StatusNotFound, "not found")
		return
	}
	path, file := rest[:i], rest[i+1:]
	if err := stream.ValidPath(path); err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, "invalid path: "+err.Error())
		return
	}
	if file == "index.m3u8" {
		m.servePlaylist(w, r, path)
		return
	}
	if _, _, ok := m.tpl.parseFile(file); !ok {
		httpjson.WriteError(w, http.StatusBadRequest, "invalid segment name")
		return
	}
	var shift time.Duration
	if v := r.URL.Query().Get("t"); v != "" {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil || us < 0 {
			httpjson.WriteError(w, http.StatusBadRequest, "t: want the segment's offset in microseconds")
			return
		}
		shift = time.Duration(us) * time.Microsecond
	}
	m.serveSegmentFile(w, r, path, file, shift)
}

func (m *Manager) servePlaylist(w http.ResponseWriter, r *http.Request, path string) {
	start, err := parseTimeParam(r, "start")
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	end, err := parseTimeParam(r, "end")
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !m.waitIndex(w, r) {
		return
	}
	var segs []Segment
	for _, s := range m.ix.list(path, start, end) {
		if s.Duration <= 0 || (s.Format == FormatFMP4 && s.initSize <= 0) {
			continue // nothing playable flushed yet
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		httpjson.WriteError(w, http.StatusNotFound, "no recording in that range")
		return
	}
	target := 1.0
	for _, s := range segs {
		target = math.Max(target, math.Ceil(s.Duration.Seconds()))
	}
	var b strings.Builder
	version := 3
	if segs[0].Format == FormatFMP4 {
		version = 7
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n", version, int(target))
	suffix := tokenSuffix(r) // players that cannot set headers keep their token
	b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for i, s := range segs {
		if i > 0 {
			gap := s.Start.Sub(segs[i-1].End())
			if s.Format == FormatMPEGTS || gap > 500*time.Millisecond || gap < -500*time.Millisecond {
				b.WriteString("#EXT-X-DISCONTINUITY\n")
			}
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.Start.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		if s.Format == FormatFMP4 {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q,BYTERANGE=\"%d@0\"\n", s.Name+suffix, s.initSize)
			var q []string
			if off := s.Start.Sub(segs[0].Start); off > 0 {
				q = append(q, "t="+strconv.FormatInt(off.Microseconds(), 10))
			}
			if suffix != "" {
				q = append(q, suffix[1:])
			}
			uri := s.Name
			if len(q) > 0 {
				uri += "?" + strings.Join(q, "&")
			}
			fmt.Fprintf(&b, "#EXTINF:%.6f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", s.Duration.Seconds(), s.Size-s.initSize, s.initSize, uri)
		} else {
			fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", s.Duration.Seconds(), s.Name+suffix)
		}
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "index.m3u8", time.Time{}, strings.NewReader(b.String()))
}

// tokenSuffix is "?jwt=…" when the playlist was asked for with a jwt (or
// token) query parameter, so segment requests carry it too.
func tokenSuffix(r *http.Request) string {
	q := r.URL.Query()
	for _, k := range []string{"jwt", "token"} {
		if v := q.Get(k); v != "" {
			return "?" + url.Values{k: {v}}.Encode()
		}
	}
	return ""
}
