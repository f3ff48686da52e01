package recorder

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxPlaybackDuration bounds one stitched range.
const maxPlaybackDuration = 24 * time.Hour

// servePlayback answers GET .../get?start=&duration=&format= with the time
// range as one playable file. ffmpeg's concat demuxer stitches the
// segments (stream copy, no re-encoding), seeking to the keyframe at or
// before start; format=fmp4 streams a fragmented MP4 as it is made, mp4
// (the default) builds a regular MP4 with its index up front.
func (m *Manager) servePlayback(w http.ResponseWriter, r *http.Request, path string) {
	start, err := parseTimeParam(r, "start")
	if err != nil || start.IsZero() {
		httpError(w, http.StatusBadRequest, "start: want an RFC 3339 time")
		return
	}
	dur := 60 * time.Second
	if v := r.URL.Query().Get("duration"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil {
				httpError(w, http.StatusBadRequest, "duration: want e.g. 60s")
				return
			}
			d = time.Duration(f * float64(time.Second))
		}
		dur = d
	}
	if dur <= 0 || dur > maxPlaybackDuration {
		httpError(w, http.StatusBadRequest, "duration: out of range")
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "mp4"
	}
	if format != "mp4" && format != "fmp4" {
		httpError(w, http.StatusBadRequest, "format: want mp4 or fmp4")
		return
	}
	segs := m.ix.list(path, start, start.Add(dur))
	// One container format per answer: stop at the first segment of another.
	for i := 1; i < len(segs); i++ {
		if segs[i].Format != segs[0].Format {
			segs = segs[:i]
			break
		}
	}
	if len(segs) == 0 || segs[0].Size == 0 {
		httpError(w, http.StatusNotFound, "no recording in that range")
		return
	}
	select {
	case m.play <- struct{}{}:
		defer func() { <-m.play }()
	case <-r.Context().Done():
		return
	}
	tmp, err := os.MkdirTemp("", "mps-playback-")
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.RemoveAll(tmp)
	list := filepath.Join(tmp, "list.txt")
	if err := os.WriteFile(list, concatList(segs), 0o600); err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	offset := max(0, start.Sub(segs[0].Start))
	args := []string{
		"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "concat", "-safe", "0",
		"-ss", seconds(offset), "-i", list,
		"-t", seconds(dur),
		"-map", "0", "-c", "copy", "-f", "mp4",
	}
	var stderr bytes.Buffer
	if format == "fmp4" {
		args = append(args, "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "pipe:1")
		cmd := exec.CommandContext(r.Context(), m.cfg.FFmpeg, args...)
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if err := cmd.Start(); err != nil {
			httpError(w, http.StatusInternalServerError, "start ffmpeg: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		_, cerr := io.Copy(w, out)
		if err := cmd.Wait(); err != nil || cerr != nil {
			m.log.Warn("playback stitching failed", "path", path, "error", err, "copy_error", cerr, "ffmpeg", strings.TrimSpace(stderr.String()))
		}
		return
	}
	outFile := filepath.Join(tmp, "out.mp4")
	args = append(args, "-movflags", "+faststart", outFile)
	cmd := exec.CommandContext(r.Context(), m.cfg.FFmpeg, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		m.log.Warn("playback stitching failed", "path", path, "error", err, "ffmpeg", strings.TrimSpace(stderr.String()))
		httpError(w, http.StatusInternalServerError, "stitching failed")
		return
	}
	f, err := os.Open(outFile)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "recording.mp4"))
	http.ServeContent(w, r, "", start, f)
}

// concatList writes an ffmpeg concat demuxer script. Each file carries its
// duration from the index, so growing or crashed files line up too.
func concatList(segs []Segment) []byte {
	var b bytes.Buffer
	b.WriteString("ffconcat version 1.0\n")
	for _, s := range segs {
		// The concat syntax quotes with '...' and escapes a quote as '\''.
		fmt.Fprintf(&b, "file '%s'\n", strings.ReplaceAll(s.file, "'", `'\''`))
		if s.Duration > 0 {
			fmt.Fprintf(&b, "duration %s\n", seconds(s.Duration))
		}
	}
	return b.Bytes()
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }
