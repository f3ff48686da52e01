package vod

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"mps/internal/dash"
)

// DASHManifest is the MPEG-DASH manifest's name in an adaptive output
// asked for with AdaptiveSpec.Dash; it sits next to master.m3u8 and names
// the same fMP4 segments.
const DASHManifest = "manifest.mpd"

// dashTimescale is the MPD's clock for VOD segment times: EXTINF values
// are written in microseconds, milliseconds are plenty to place segments.
const dashTimescale = 1000

// validateDASH checks the adaptive options DASH depends on.
func validateDASH(s *AdaptiveSpec) error {
	if s.Dash && s.SegmentType == "ts" {
		return errors.New("dash needs fmp4 segments (segment_type ts cannot be described by an MPD)")
	}
	return nil
}

// writeAdaptiveDASH writes manifest.mpd for the package ffmpeg wrote in
// dir, from its multivariant and media playlists: one representation per
// rung, each segment described where it already is (no second copy).
func writeAdaptiveDASH(dir string) error {
	master, err := os.ReadFile(filepath.Join(dir, MasterPlaylist))
	if err != nil {
		return fmt.Errorf("dash: %w", err)
	}
	body, err := adaptiveMPD(master, func(uri string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(uri)))
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, DASHManifest), body, 0o644); err != nil {
		return fmt.Errorf("dash: %w", err)
	}
	return nil
}

// adaptiveMPD builds a static MPD from a multivariant playlist and a
// reader of the media playlists it names.
func adaptiveMPD(master []byte, media func(uri string) ([]byte, error)) ([]byte, error) {
	pl, err := playlist.Unmarshal(master)
	if err != nil {
		return nil, fmt.Errorf("dash: multivariant playlist: %w", err)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok || len(mv.Variants) == 0 {
		return nil, errors.New("dash: no variant in the multivariant playlist")
	}
	p := &dash.Presentation{Video: true}
	for _, v := range mv.Variants {
		if v.Resolution == "" {
			continue // not a picture rung (an audio or text rendition)
		}
		r, dur, maxSeg, err := dashRendition(v, media)
		if err != nil {
			return nil, err
		}
		p.Duration = max(p.Duration, dur)
		p.MaxSegment = max(p.MaxSegment, maxSeg)
		p.MinBuffer = max(p.MinBuffer, maxSeg)
		p.Renditions = append(p.Renditions, r)
	}
	if len(p.Renditions) == 0 {
		return nil, errors.New("dash: no video variant in the multivariant playlist")
	}
	return p.Marshal()
}

// dashRendition describes one rung: its media playlist's segments, which
// must be the seg_NNNN.m4s files the adaptive operation writes.
func dashRendition(v *playlist.MultivariantVariant, media func(string) ([]byte, error)) (dash.Rendition, time.Duration, time.Duration, error) {
	var r dash.Rendition
	dir := path.Dir(v.URI)
	if !rungName.MatchString(dir) || path.Base(v.URI) != "index.m3u8" {
		return r, 0, 0, fmt.Errorf("dash: variant %q is not a rung's index.m3u8", v.URI)
	}
	b, err := media(v.URI)
	if err != nil {
		return r, 0, 0, fmt.Errorf("dash: rung %s: %w", dir, err)
	}
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		return r, 0, 0, fmt.Errorf("dash: rung %s playlist: %w", dir, err)
	}
	mp, ok := pl.(*playlist.Media)
	if !ok || mp.Map == nil || len(mp.Segments) == 0 || !rungName.MatchString(strings.TrimSuffix(mp.Map.URI, ".mp4")) {
		return r, 0, 0, fmt.Errorf("dash: rung %s is not an fMP4 media playlist", dir)
	}
	first, err := segNumber(mp.Segments[0].URI)
	if err != nil {
		return r, 0, 0, fmt.Errorf("dash: rung %s: %w", dir, err)
	}
	r = dash.Rendition{
		ID: dir, Bandwidth: v.Bandwidth, Codecs: v.Codecs, Timescale: dashTimescale,
		Init:  dash.Escape(dir + "/" + mp.Map.URI),
		Media: dash.Escape(dir+"/seg_") + "$Number%04d$.m4s", FirstNumber: first,
	}
	if v.FrameRate != nil {
		r.FrameRate = *v.FrameRate
	}
	if w, h, ok := strings.Cut(v.Resolution, "x"); ok {
		r.Width, _ = strconv.Atoi(w)
		r.Height, _ = strconv.Atoi(h)
	}
	var total, longest time.Duration
	var at uint64
	for i, s := range mp.Segments {
		if n, err := segNumber(s.URI); err != nil || n != first+uint64(i) {
			return r, 0, 0, fmt.Errorf("dash: rung %s: segment %d is %q, not numbered in sequence", dir, i, s.URI)
		}
		if s.Duration <= 0 {
			return r, 0, 0, fmt.Errorf("dash: rung %s: segment %q has no duration", dir, s.URI)
		}
		total += s.Duration
		longest = max(longest, s.Duration)
		// Segment times are rounded from the running total, so rounding
		// never accumulates.
		end := uint64(total.Milliseconds())
		r.Segments = append(r.Segments, dash.Segment{Start: at, Duration: end - at})
		at = end
	}
	return r, total, longest, nil
}

// segNumber parses seg_NNNN.m4s.
func segNumber(uri string) (uint64, error) {
	s, ok := strings.CutPrefix(uri, "seg_")
	if ok {
		s, ok = strings.CutSuffix(s, ".m4s")
	}
	if !ok || len(s) < 4 || len(s) > 9 {
		return 0, fmt.Errorf("segment %q is not seg_NNNN.m4s", uri)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || len(s) > 4 && s[0] == '0' {
		return 0, fmt.Errorf("segment %q is not seg_NNNN.m4s", uri)
	}
	return n, nil
}
