package hls

import (
	"fmt"
	"time"
)

// Variant selects the kind of HLS a path is served as.
type Variant string

// Variants accepted in PathConfig.Variant (the hls.variant config key).
const (
	// VariantLowLatency is LL-HLS: fMP4/CMAF segments split into parts,
	// with blocking playlist reload and preload hints.
	VariantLowLatency Variant = "lowLatency"
	// VariantFMP4 is plain HLS with fMP4 segments.
	VariantFMP4 Variant = "fmp4"
	// VariantMPEGTS is plain HLS with MPEG-TS segments, for old players.
	VariantMPEGTS Variant = "mpegts"
)

// Defaults for PathConfig fields left zero.
const (
	DefaultSegmentDuration = time.Second
	DefaultPartDuration    = 100 * time.Millisecond
	DefaultSegmentCount    = 7
	DefaultCloseAfter      = 60 * time.Second
	DefaultRequestTimeout  = 10 * time.Second
	DefaultEndedKeep       = time.Minute
)

// PathConfig is the HLS rule of one path. The server builds it from the
// path's config rule on every lookup, so a reload applies to the next
// muxer without touching running ones.
type PathConfig struct {
	// Variant is lowLatency (default), fmp4 or mpegts.
	Variant Variant
	// SegmentDuration is the minimum segment length; segments are cut on
	// the first keyframe after it.
	SegmentDuration time.Duration
	// PartDuration is the LL-HLS part target (lowLatency only).
	PartDuration time.Duration
	// SegmentCount is how many segments a live playlist lists.
	SegmentCount int
	// AlwaysOn starts the muxer when the stream is published instead of at
	// the first request.
	AlwaysOn bool
	// CloseAfter stops an on-demand muxer with no request for this long; 0
	// keeps it until the stream ends.
	CloseAfter time.Duration
	// EndedKeep is how long the playlist of a live stream that ended is
	// still served, final (EXT-X-ENDLIST) with all its segments, so
	// players finish what they have instead of failing on a 404; 0 drops
	// it at once.
	EndedKeep time.Duration
	// DVRWindow, when set, keeps this much past media listed in the
	// playlist, stored on disk under Directory, so players can seek back.
	DVRWindow time.Duration
	// Directory is where DVR segments are written (already resolved under
	// the data dir by the caller). Without it, a DVR window is kept in
	// memory.
	Directory string
	// Ladder names the paths whose streams are the renditions of this
	// path's multivariant playlist (e.g. live/cam1/720p, live/cam1/360p).
	// Empty means the path alone.
	Ladder []string
	// CORSOrigins are the origins allowed to fetch the path's playlists
	// and segments; "*" allows any. Empty allows any.
	CORSOrigins []string
}

// DefaultPathConfig is the rule used when Config.Rule is nil.
func DefaultPathConfig() PathConfig {
	return PathConfig{
		Variant:         VariantLowLatency,
		SegmentDuration: DefaultSegmentDuration,
		PartDuration:    DefaultPartDuration,
		SegmentCount:    DefaultSegmentCount,
		CloseAfter:      DefaultCloseAfter,
		EndedKeep:       DefaultEndedKeep,
		CORSOrigins:     []string{"*"},
	}
}

// withDefaults fills zero fields and checks the rest.
func (c PathConfig) withDefaults() (PathConfig, error) {
	switch c.Variant {
	case "":
		c.Variant = VariantLowLatency
	case VariantLowLatency, VariantFMP4, VariantMPEGTS:
	default:
		return c, fmt.Errorf("hls variant %q: want lowLatency, fmp4 or mpegts", c.Variant)
	}
	if c.SegmentDuration <= 0 {
		c.SegmentDuration = DefaultSegmentDuration
	}
	if c.PartDuration <= 0 {
		c.PartDuration = DefaultPartDuration
	}
	if c.PartDuration > c.SegmentDuration {
		c.PartDuration = c.SegmentDuration
	}
	if c.SegmentCount <= 0 {
		c.SegmentCount = DefaultSegmentCount
	}
	if c.SegmentCount < 3 {
		c.SegmentCount = 3
	}
	if c.CloseAfter < 0 {
		c.CloseAfter = 0
	}
	if c.EndedKeep < 0 {
		c.EndedKeep = 0
	}
	return c, nil
}

// windowSegments is how many complete segments a live playlist keeps.
func (c PathConfig) windowSegments() int {
	n := c.SegmentCount
	if c.DVRWindow > 0 {
		if d := int((c.DVRWindow + c.SegmentDuration - 1) / c.SegmentDuration); d > n {
			n = d
		}
	}
	return n
}

// Config is the packager's configuration.
type Config struct {
	// Rule returns the HLS rule of a path; nil uses DefaultPathConfig for
	// every path.
	Rule func(path string) PathConfig
	// RequestTimeout bounds how long a request waits for a muxer's first
	// segment or for a part that does not exist yet (default 10 s).
	// Blocking playlist reloads wait at most three target durations.
	RequestTimeout time.Duration
	// Prefix is the URL path the handler is mounted at (default "/hls/").
	Prefix string
	// Subtitles returns a path's live subtitle cues, nil when it has none;
	// a path with cues gets a WebVTT rendition (subtitles.go).
	Subtitles func(path string) SubtitleSource
}

func (c Config) rule(path string) (PathConfig, error) {
	pc := DefaultPathConfig()
	if c.Rule != nil {
		pc = c.Rule(path)
	}
	return pc.withDefaults()
}
