package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mps/internal/httpjson"
	"mps/internal/stream"
)

// maxPlaybackDuration bounds one stitched range.
const maxPlaybackDuration = 24 * time.Hour

// servePlayback answers GET .../get?start=&duration=&format=&precise= with
// the time range as one playable file. The segments are read back in Go
// and stitched on the index's wall-clock starts into one continuous
// stream, so frames keep their pace across segment boundaries, and ffmpeg
// makes the file from it. precise (the default) cuts exactly at start:
// the video is re-encoded from the keyframe before it and trimmed, audio is
// copied from the first frame at or after start. precise=false copies
// everything from the keyframe at or before start, so the file starts up
// to a GOP early but shows that pre-roll (no edit list hides it).
// format=fmp4 streams a fragmented MP4 as it is made, mp4 (the default)
// builds a regular MP4 with its index up front. Codecs MPEG-TS cannot
// carry (AV1, VP9) fall back to ffmpeg's concat demuxer with stream copy.
func (m *Manager) servePlayback(w http.ResponseWriter, r *http.Request, path string) {
	req, err := parsePlayback(r)
	if err != nil {
		httpjson.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !m.waitIndex(w, r) {
		return
	}
	segs := m.ix.list(path, req.start, req.start.Add(req.dur))
	// One container format per answer: stop at the first segment of another.
	for i := 1; i < len(segs); i++ {
		if segs[i].Format != segs[0].Format {
			segs = segs[:i]
			break
		}
	}
	if len(segs) == 0 || segs[0].Size == 0 {
		httpjson.WriteError(w, http.StatusNotFound, "no recording in that range")
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
		httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.RemoveAll(tmp)
	out := pipeOut
	if req.format == "mp4" {
		out = filepath.Join(tmp, "out.mp4")
	}
	ctx := r.Context()
	open := func(s Segment) (segmentData, error) { return m.openData(ctx, s) }
	feed, err := newFeeder(segs, req.start, req.dur, open)
	var args []string
	var stdin func(io.Writer) error
	switch {
	case err == nil:
		args = feedArgs(req, feed, out)
		stdin = feed.run
	case errors.Is(err, errNotReadable):
		list := filepath.Join(tmp, "list.txt")
		body, remote, err := m.concatList(r.Context(), segs)
		if err == nil {
			err = os.WriteFile(list, body, 0o600)
		}
		if err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
			return
		}
		args = concatArgs(req, max(0, req.start.Sub(segs[0].Start)), list, out, remote)
	default:
		m.log.Warn("playback: recording unreadable", "path", path, "error", err)
		httpjson.WriteError(w, http.StatusInternalServerError, "recording unreadable: "+err.Error())
		return
	}
	m.runExport(w, r, path, args, stdin, out, req)
}

// pipeOut is ffmpeg's output name for a streamed answer.
const pipeOut = "pipe:1"

// playbackRequest is a parsed /get query.
type playbackRequest struct {
	start   time.Time
	dur     time.Duration
	format  string // mp4 or fmp4
	precise bool
}

func parsePlayback(r *http.Request) (playbackRequest, error) {
	q := r.URL.Query()
	req := playbackRequest{dur: 60 * time.Second, format: "mp4", precise: true}
	start, err := parseTimeParam(r, "start")
	if err != nil || start.IsZero() {
		return req, errors.New("start: want an RFC 3339 time")
	}
	req.start = start
	if v := q.Get("duration"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil {
				return req, errors.New("duration: want e.g. 60s")
			}
			d = time.Duration(f * float64(time.Second))
		}
		req.dur = d
	}
	if req.dur <= 0 || req.dur > maxPlaybackDuration {
		return req, errors.New("duration: out of range")
	}
	if v := q.Get("format"); v != "" {
		req.format = v
	}
	if req.format != "mp4" && req.format != "fmp4" {
		return req, errors.New("format: want mp4 or fmp4")
	}
	if v := q.Get("precise"); v != "" {
		p, err := strconv.ParseBool(v)
		if err != nil {
			return req, errors.New("precise: want true or false")
		}
		req.precise = p
	}
	return req, nil
}

// feedArgs has ffmpeg read the feeder's MPEG-TS on stdin and write out.
func feedArgs(req playbackRequest, f *feeder, out string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-f", "mpegts", "-i", "pipe:0", "-map", "0"}
	if req.precise {
		// From the keyframe, decode and drop up to the start, then keep
		// duration; only the video must be re-encoded to start there.
		args = append(args, "-ss", seconds(max(0, -f.key)), "-t", seconds(req.dur), "-c", "copy")
		for _, t := range f.tracks {
			switch t.Codec {
			case stream.CodecH264:
				args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18")
			case stream.CodecH265:
				args = append(args, "-c:v", "libx265", "-preset", "veryfast", "-crf", "20", "-tag:v", "hvc1")
			}
		}
	} else {
		args = append(args, "-c", "copy")
		for _, t := range f.tracks {
			if t.Codec == stream.CodecH265 {
				args = append(args, "-tag:v", "hvc1")
			}
		}
	}
	for i, t := range f.tracks {
		if t.Codec == stream.CodecAAC {
			// Copied from ADTS; a fragmented MP4 written to a pipe gets
			// no automatic conversion.
			args = append(args, "-bsf:"+strconv.Itoa(i), "aac_adtstoasc")
		}
	}
	return append(args, outArgs(out)...)
}

// concatArgs stitches with ffmpeg's concat demuxer (stream copy, from the
// keyframe at or before offset into the first segment).
func concatArgs(req playbackRequest, offset time.Duration, list, out string, remote bool) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if remote {
		// Segments kept only in a bucket are read through presigned URLs.
		args = append(args, "-protocol_whitelist", "file,http,https,tcp,tls,crypto")
	}
	args = append(args,
		"-f", "concat", "-safe", "0",
		"-ss", seconds(offset), "-i", list,
		"-t", seconds(req.dur),
		"-map", "0", "-c", "copy",
	)
	return append(args, outArgs(out)...)
}

func outArgs(out string) []string {
	if out == pipeOut {
		return []string{"-f", "mp4", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", out}
	}
	return []string{"-f", "mp4", "-movflags", "+faststart", out}
}

// runExport runs ffmpeg with args, stdin fed by feed when set, and answers
// with its output: streamed for fmp4, the finished file for mp4.
func (m *Manager) runExport(w http.ResponseWriter, r *http.Request, path string, args []string, feed func(io.Writer) error, out string, req playbackRequest) {
	cmd := exec.CommandContext(r.Context(), m.cfg.FFmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var in io.WriteCloser
	if feed != nil {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	var stdout io.ReadCloser
	if out == pipeOut {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if err := cmd.Start(); err != nil {
		httpjson.WriteError(w, http.StatusInternalServerError, "start ffmpeg: "+err.Error())
		return
	}
	feedDone := make(chan error, 1)
	if feed != nil {
		go func() {
			err := feed(in)
			in.Close()
			feedDone <- err
		}()
	} else {
		feedDone <- nil
	}
	if stdout != nil {
		w.Header().Set("Content-Type", "video/mp4")
		_, cerr := io.Copy(w, stdout)
		err := cmd.Wait()
		if ferr := <-feedDone; err != nil || cerr != nil {
			m.log.Warn("playback stitching failed", "path", path, "error", err, "copy_error", cerr, "feed_error", ferr, "ffmpeg", strings.TrimSpace(stderr.String()))
		}
		return
	}
	err := cmd.Wait()
	ferr := <-feedDone
	if err != nil {
		m.log.Warn("playback stitching failed", "path", path, "error", err, "feed_error", ferr, "ffmpeg", strings.TrimSpace(stderr.String()))
		httpjson.WriteError(w, http.StatusInternalServerError, "stitching failed")
		return
	}
	f, err := os.Open(out)
	if err != nil {
		httpjson.WriteError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "recording.mp4"))
	http.ServeContent(w, r, "", req.start, f)
}

// concatList writes an ffmpeg concat demuxer script; a segment kept only
// in a bucket is named by a presigned URL (remote reports one). Each file
// carries its duration from the index, so growing or crashed files line
// up too.
func (m *Manager) concatList(ctx context.Context, segs []Segment) (body []byte, remote bool, err error) {
	var b bytes.Buffer
	b.WriteString("ffconcat version 1.0\n")
	for _, s := range segs {
		name := s.file
		if s.remoteOnly {
			tg, err := m.target(s.Target)
			if err != nil {
				return nil, false, err
			}
			if name, err = tg.URL(ctx, m.key(s.file)); err != nil {
				return nil, false, err
			}
			remote = true
		}
		// The concat syntax quotes with '...' and escapes a quote as '\''.
		fmt.Fprintf(&b, "file '%s'\n", strings.ReplaceAll(name, "'", `'\''`))
		if s.Duration > 0 {
			fmt.Fprintf(&b, "duration %s\n", seconds(s.Duration))
		}
	}
	return b.Bytes(), remote, nil
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }
