package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file adds subtitle renditions to an adaptive (HLS) package that the
// adaptive operation wrote: for each language a directory of WebVTT
// segments cut in step with the media segments and a media playlist over
// them, an EXT-X-MEDIA TYPE=SUBTITLES entry in master.m3u8, and a
// SUBTITLES attribute on every variant. The cues come from WebVTT files
// (the subtitles operation's, listed in its Result.Subtitles); the task
// runner joins the two operations when a task has both.

// SubtitleTrack is one language of subtitles an operation wrote: what the
// subtitles operation lists in Result.Subtitles so that a later step (the
// HLS rendition of an adaptive package) can pick its files up.
type SubtitleTrack struct {
	// Language is a BCP 47 tag ("en", "pt-BR").
	Language string `json:"language"`
	// VTT is the WebVTT file, a name within the operation's output dir.
	VTT string `json:"vtt"`
}

// SubtitlesGroup is the GROUP-ID of the subtitle renditions added to a
// multivariant playlist, and SubtitlesDir the package directory they go in.
const (
	SubtitlesGroup = "subs"
	SubtitlesDir   = "subtitles"
)

// AddSubtitles adds one WebVTT subtitle rendition per track to the HLS
// package in pkgDir (written by the adaptive operation, described by pkg),
// reading each track's file from srcDir. The first track is the default.
// On error nothing in the package has changed: the renditions are written
// before master.m3u8 is replaced in one rename, and removed on failure.
func AddSubtitles(ctx context.Context, pkgDir string, pkg *Result, srcDir string, tracks []SubtitleTrack) (err error) {
	if len(tracks) == 0 {
		return errors.New("hls subtitles: no subtitle track to add")
	}
	masterPath := filepath.Join(pkgDir, MasterPlaylist)
	master, err := os.ReadFile(masterPath)
	if err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	variant, err := firstVariant(master)
	if err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	durs, err := segmentDurations(filepath.Join(pkgDir, filepath.FromSlash(variant)))
	if err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	start, err := mediaStart(ctx, filepath.Join(pkgDir, filepath.FromSlash(variant)))
	if err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	cues, err := readTracks(srcDir, tracks)
	if err != nil {
		return err
	}
	subsRoot := filepath.Join(pkgDir, SubtitlesDir)
	if err := os.Mkdir(subsRoot, 0o755); err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(subsRoot)
		}
	}()
	var media []string
	names := map[string]bool{}
	for i, t := range tracks {
		name := renditionName(t.Language, names)
		if err := writeRendition(filepath.Join(subsRoot, name), cues[i], durs, start); err != nil {
			return fmt.Errorf("hls subtitles %s: %w", t.Language, err)
		}
		media = append(media, fmt.Sprintf(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="%s",LANGUAGE="%s",NAME="%s",DEFAULT=%s,AUTOSELECT=YES,URI="%s/%s/index.m3u8"`,
			SubtitlesGroup, t.Language, name, yesNo(i == 0), SubtitlesDir, name))
	}
	out, err := withSubtitles(master, media)
	if err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	added, err := collect(ctx, subsRoot, func(string) bool { return false })
	if err != nil {
		return err
	}
	if err := replaceFile(masterPath, out); err != nil {
		return fmt.Errorf("hls subtitles: %w", err)
	}
	for i := range pkg.Files {
		if pkg.Files[i].Name == MasterPlaylist {
			pkg.Files[i].Size = int64(len(out))
		}
	}
	for _, f := range added {
		f.Name = SubtitlesDir + "/" + f.Name
		pkg.Files = append(pkg.Files, f)
	}
	return nil
}

// readTracks parses the tracks' WebVTT files.
func readTracks(srcDir string, tracks []SubtitleTrack) ([][]vttCue, error) {
	cues := make([][]vttCue, len(tracks))
	for i, t := range tracks {
		if !langTagRE.MatchString(t.Language) {
			return nil, fmt.Errorf("hls subtitles: %q is not a language tag", t.Language)
		}
		b, err := os.ReadFile(filepath.Join(srcDir, filepath.FromSlash(t.VTT)))
		if err != nil {
			return nil, fmt.Errorf("hls subtitles %s: %w", t.Language, err)
		}
		if cues[i], err = parseWebVTT(b); err != nil {
			return nil, fmt.Errorf("hls subtitles %s: %s: %w", t.Language, filepath.Base(t.VTT), err)
		}
	}
	return cues, nil
}

// replaceFile writes b to path in one rename, so a reader sees the old
// file or the new one, never half of it.
func replaceFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

var langTagRE = regexp.MustCompile(`^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$`)

var renditionRE = regexp.MustCompile(`[^A-Za-z0-9-]`)

// renditionName is the track's directory and NAME: its language tag,
// numbered when a language comes twice.
func renditionName(lang string, seen map[string]bool) string {
	base := renditionRE.ReplaceAllString(lang, "_")
	if base == "" {
		base = "und"
	}
	name := base
	for n := 2; seen[name]; n++ {
		name = base + "-" + strconv.Itoa(n)
	}
	seen[name] = true
	return name
}

// firstVariant returns the URI of the first variant stream in a
// multivariant playlist, and refuses one that has subtitles already.
func firstVariant(master []byte) (string, error) {
	if !bytes.HasPrefix(master, []byte("#EXTM3U")) {
		return "", errors.New("master.m3u8 is not an HLS playlist")
	}
	if bytes.Contains(master, []byte("TYPE=SUBTITLES")) {
		return "", errors.New("the package has subtitle renditions already")
	}
	lines := strings.Split(string(master), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "#EXT-X-STREAM-INF:") {
			continue
		}
		for _, u := range lines[i+1:] {
			u = strings.TrimSpace(u)
			if u != "" && !strings.HasPrefix(u, "#") {
				if strings.Contains(u, "://") || strings.HasPrefix(u, "/") || strings.Contains(u, "..") {
					return "", fmt.Errorf("variant %q is not inside the package", u)
				}
				return u, nil
			}
		}
	}
	return "", errors.New("master.m3u8 has no variant stream")
}

// withSubtitles inserts the EXT-X-MEDIA lines before the first variant and
// names the group on every EXT-X-STREAM-INF.
func withSubtitles(master []byte, media []string) ([]byte, error) {
	var b strings.Builder
	inserted := false
	for _, l := range strings.SplitAfter(string(master), "\n") {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") {
			if !inserted {
				b.WriteString(strings.Join(media, "\n") + "\n")
				inserted = true
			}
			nl := strings.HasSuffix(l, "\n")
			l = strings.TrimRight(l, "\r\n") + `,SUBTITLES="` + SubtitlesGroup + `"`
			if nl {
				l += "\n"
			}
		}
		b.WriteString(l)
	}
	if !inserted {
		return nil, errors.New("master.m3u8 has no variant stream")
	}
	return []byte(b.String()), nil
}

// segmentDurations reads the EXTINF durations of a media playlist.
func segmentDurations(playlist string) ([]float64, error) {
	b, err := os.ReadFile(playlist)
	if err != nil {
		return nil, err
	}
	var durs []float64
	for _, l := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(l), "#EXTINF:")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, ",")
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
			return nil, fmt.Errorf("%s: bad EXTINF %q", filepath.Base(playlist), v)
		}
		durs = append(durs, d)
	}
	if len(durs) == 0 {
		return nil, fmt.Errorf("%s: no segments", filepath.Base(playlist))
	}
	return durs, nil
}

// mediaStart is the first video timestamp of a variant, in 90 kHz units:
// where the input's time zero (the transcript's zero) landed in the
// segments — 1.4 s and up in MPEG-TS, near zero in fMP4, plus the
// encoder's B-frame delay. X-TIMESTAMP-MAP ties the cues to it.
func mediaStart(ctx context.Context, playlist string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-show_entries", "stream=codec_type,start_time", "-of", "csv=p=0", "--", playlist)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limitedBuffer{max: 4096, buf: &stderr}
	detach(cmd)
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("probe %s: %w: %s", filepath.Base(playlist), err, lastLine(stderr.String()))
	}
	start := math.Inf(1)
	for _, l := range strings.Split(stdout.String(), "\n") {
		typ, v, _ := strings.Cut(strings.TrimSpace(l), ",")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		if typ == "video" {
			return int64(math.Round(f * 90000)), nil
		}
		start = math.Min(start, f)
	}
	if math.IsInf(start, 1) {
		return 0, fmt.Errorf("probe %s: no start time", filepath.Base(playlist))
	}
	return int64(math.Round(start * 90000)), nil
}

// writeRendition writes one language: a WebVTT segment per media segment
// holding the cues that overlap it, and the media playlist over them.
func writeRendition(dir string, cues []vttCue, durs []float64, mpegts int64) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	var pl strings.Builder
	target := 1
	for _, d := range durs {
		target = max(target, int(math.Round(d)))
	}
	fmt.Fprintf(&pl, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n", target)
	from := 0.0
	for i, d := range durs {
		to := from + d
		if i == len(durs)-1 {
			to = math.Inf(1) // the last segment takes any cue running past the end
		}
		var seg strings.Builder
		fmt.Fprintf(&seg, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:%d,LOCAL:00:00:00.000\n", mpegts)
		for _, c := range cues {
			if c.start < to && c.end > from {
				fmt.Fprintf(&seg, "\n%s --> %s\n%s\n", vttTime(c.start), vttTime(c.end), c.text)
			}
		}
		name := fmt.Sprintf("seg_%04d.vtt", i)
		if err := writeFile(filepath.Join(dir, name), []byte(seg.String())); err != nil {
			return err
		}
		fmt.Fprintf(&pl, "#EXTINF:%.6f,\n%s\n", d, name)
		from += d
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	return writeFile(filepath.Join(dir, "index.m3u8"), []byte(pl.String()))
}

// vttCue is one cue of a WebVTT file; text keeps its lines.
type vttCue struct {
	start, end float64
	text       string
}

var vttStampStartRE = regexp.MustCompile(`^\s*\d+:\d`)

var vttTimingRE = regexp.MustCompile(`^((?:\d+:)?\d{2}:\d{2}\.\d{3})[ \t]+-->[ \t]+((?:\d+:)?\d{2}:\d{2}\.\d{3})(?:[ \t].*)?$`)

// parseWebVTT reads the cues of a WebVTT file, refusing one that is not
// WebVTT or has a malformed cue timing.
func parseWebVTT(b []byte) ([]vttCue, error) {
	s := strings.TrimPrefix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\ufeff")
	if s != "WEBVTT" && !strings.HasPrefix(s, "WEBVTT\n") && !strings.HasPrefix(s, "WEBVTT ") && !strings.HasPrefix(s, "WEBVTT\t") {
		return nil, errors.New("not a WebVTT file (no WEBVTT header)")
	}
	var cues []vttCue
	blocks := strings.Split(s, "\n\n")
	line := strings.Count(blocks[0], "\n") + 3 // the first cue block's first line
	for _, blk := range blocks[1:] {
		at := line + len(blk) - len(strings.TrimLeft(blk, "\n"))
		line += strings.Count(blk, "\n") + 2
		lines := strings.Split(strings.Trim(blk, "\n"), "\n")
		if len(lines) == 0 || lines[0] == "" || strings.HasPrefix(lines[0], "NOTE") ||
			strings.HasPrefix(lines[0], "STYLE") || strings.HasPrefix(lines[0], "REGION") {
			continue
		}
		switch {
		case strings.Contains(lines[0], "-->"):
		case len(lines) > 1 && strings.Contains(lines[1], "-->"):
			lines = lines[1:] // the cue identifier
			at++
		case len(lines) > 1 && !vttStampStartRE.MatchString(lines[0]):
			return nil, fmt.Errorf("line %d: bad cue timing %q", at+1, lines[1])
		default:
			return nil, fmt.Errorf("line %d: bad cue timing %q", at, lines[0])
		}
		m := vttTimingRE.FindStringSubmatch(strings.TrimSpace(lines[0]))
		if m == nil {
			return nil, fmt.Errorf("line %d: bad cue timing %q", at, lines[0])
		}
		start, err1 := parseVTTTime(m[1])
		end, err2 := parseVTTTime(m[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("line %d: %w", at, err)
		}
		if end < start {
			return nil, fmt.Errorf("line %d: cue ends before it starts", at)
		}
		text := strings.Join(lines[1:], "\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		cues = append(cues, vttCue{start: start, end: end, text: text})
	}
	return cues, nil
}

// parseVTTTime reads [hh:]mm:ss.ttt.
func parseVTTTime(s string) (float64, error) {
	parts := strings.Split(s, ":")
	var sec float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || i < len(parts)-1 && strings.Contains(p, ".") {
			return 0, fmt.Errorf("bad time %q", s)
		}
		if i > 0 && f >= 60 {
			return 0, fmt.Errorf("bad time %q", s)
		}
		sec = sec*60 + f
	}
	return sec, nil
}
