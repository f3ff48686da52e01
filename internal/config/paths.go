package config

import (
	"path"
	"reflect"
	"regexp"
	"strings"
)

// PathRule is one entry of the ordered `paths` list: the settings for the
// paths it matches. A rule matches by Name (one exact path) or by Pattern
// (a path.Match glob like "live/*", or a regular expression when it starts
// with "~"). Record, HLS and Snapshots are partial: only the keys a rule
// sets replace the global sections, the rest is inherited — use
// (*Config).Rule to get the merged result rather than reading these fields
// directly.
type PathRule struct {
	Name    string `yaml:"name" json:"name,omitempty"`
	Pattern string `yaml:"pattern" json:"pattern,omitempty"`

	// OverridePublisher lets a new publisher kick the current one instead of
	// being refused (encoder reconnects before the old TCP session dies).
	OverridePublisher bool `yaml:"override_publisher" json:"override_publisher"`

	// Credentials checked on publish and read; empty user means open.
	PublishUser string `yaml:"publish_user" json:"publish_user,omitempty"`
	PublishPass string `yaml:"publish_pass" json:"publish_pass,omitempty"`
	ReadUser    string `yaml:"read_user" json:"read_user,omitempty"`
	ReadPass    string `yaml:"read_pass" json:"read_pass,omitempty"`

	// Source is a URL to pull the stream from instead of waiting for a
	// publisher: rtsp(s)://, rtmp(s)://, srt://, http(s)://….m3u8.
	Source string `yaml:"source" json:"source,omitempty"`
	// SourceOnDemand starts the pull when the first reader arrives and stops
	// it SourceOnDemandCloseAfter after the last one leaves.
	SourceOnDemand           bool     `yaml:"source_on_demand" json:"source_on_demand"`
	SourceOnDemandCloseAfter Duration `yaml:"source_on_demand_close_after" json:"source_on_demand_close_after"`
	// SourceRetry is the first delay before reconnecting a failed source;
	// it backs off from there.
	SourceRetry Duration `yaml:"source_retry" json:"source_retry"`

	// Forward re-publishes the stream to these rtmp(s)://, rtsp(s):// or
	// srt:// URLs.
	Forward []string `yaml:"forward" json:"forward,omitempty"`

	// SRTPassphrase encrypts SRT sessions of this path (10 to 79 chars).
	SRTPassphrase string `yaml:"srt_passphrase" json:"srt_passphrase,omitempty"`

	Record *RecordOverride `yaml:"record" json:"record,omitempty"`
	HLS    *HLSOverride    `yaml:"hls" json:"hls,omitempty"`

	// Transcode names a ladder of transcode.ladders to run on this path's
	// streams; empty means none.
	Transcode string `yaml:"transcode" json:"transcode,omitempty"`
	// TranscodeOnDemand starts the ladder only when a reader asks for one
	// of its rungs, and stops it TranscodeCloseAfter after the rungs' last
	// reader left, so idle channels cost no CPU.
	TranscodeOnDemand   bool     `yaml:"transcode_on_demand" json:"transcode_on_demand,omitempty"`
	TranscodeCloseAfter Duration `yaml:"transcode_close_after" json:"transcode_close_after"`

	// Snapshots is a partial snapshots section, like Record.
	Snapshots *SnapshotsOverride `yaml:"snapshots" json:"snapshots,omitempty"`

	// Subtitles runs live speech recognition on the path's audio.
	Subtitles *LiveSubtitles `yaml:"subtitles" json:"subtitles,omitempty"`
	// QC watches the live stream's quality (see QC); nil is off.
	QC *QC `yaml:"qc" json:"qc,omitempty"`
	// Highlights keeps a rolling list of the best moments of the path's
	// live stream, each cut from its recording as a clip.
	Highlights *LiveHighlights `yaml:"highlights" json:"highlights,omitempty"`

	// re is Pattern compiled (for "~" patterns), set by validation.
	re *regexp.Regexp
}

// LiveHighlights is a rule's highlights section: live analysis of the
// path scores every second (motion, loudness, scene cuts, as the
// highlights operation does) and the best clips of the last Window are
// cut from the recording, which must be on for the path.
type LiveHighlights struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Window is how far back the rolling list reaches (default 10m).
	Window Duration `yaml:"window" json:"window"`
	// Top is how many clips the list holds at most (default 5).
	Top int `yaml:"top" json:"top"`
	// MinSeconds and MaxSeconds bound a clip's length (defaults 4, 12).
	MinSeconds float64 `yaml:"min_seconds" json:"min_seconds"`
	MaxSeconds float64 `yaml:"max_seconds" json:"max_seconds"`
}

// Defaults of [LiveHighlights].
const (
	DefaultHighlightsWindow = Duration(10 * 60e9)
	DefaultHighlightsTop    = 5
	DefaultHighlightsMin    = 4.0
	DefaultHighlightsMax    = 12.0
)

// withDefaults fills the zero fields.
func (h LiveHighlights) withDefaults() LiveHighlights {
	if h.Window == 0 {
		h.Window = DefaultHighlightsWindow
	}
	if h.Top == 0 {
		h.Top = DefaultHighlightsTop
	}
	if h.MinSeconds == 0 {
		h.MinSeconds = DefaultHighlightsMin
	}
	if h.MaxSeconds == 0 {
		h.MaxSeconds = max(DefaultHighlightsMax, h.MinSeconds)
	}
	return h
}

// RecordOverride is a partial record section: a nil field inherits the
// global value. It must have one pointer field per Record field (a test
// checks), which is what lets mergeOverride work by field name.
type RecordOverride struct {
	Enabled         *bool     `yaml:"enabled" json:"enabled,omitempty"`
	Format          *string   `yaml:"format" json:"format,omitempty"`
	SegmentDuration *Duration `yaml:"segment_duration" json:"segment_duration,omitempty"`
	PartDuration    *Duration `yaml:"part_duration" json:"part_duration,omitempty"`
	Directory       *string   `yaml:"directory" json:"directory,omitempty"`
	Path            *string   `yaml:"path" json:"path,omitempty"`
	DeleteAfter     *Duration `yaml:"delete_after" json:"delete_after,omitempty"`
	MaxBytes        *ByteSize `yaml:"max_bytes" json:"max_bytes,omitempty"`
	QueueBytes      *ByteSize `yaml:"queue_bytes" json:"queue_bytes,omitempty"`
	Tracks          *[]string `yaml:"tracks" json:"tracks,omitempty"`
	Target          *string   `yaml:"target" json:"target,omitempty"`
	KeepLocal       *bool     `yaml:"keep_local" json:"keep_local,omitempty"`
}

// HLSOverride is a partial hls section plus Ladder; a nil field inherits the
// global value.
type HLSOverride struct {
	Variant         *string   `yaml:"variant" json:"variant,omitempty"`
	SegmentDuration *Duration `yaml:"segment_duration" json:"segment_duration,omitempty"`
	PartDuration    *Duration `yaml:"part_duration" json:"part_duration,omitempty"`
	SegmentCount    *int      `yaml:"segment_count" json:"segment_count,omitempty"`
	AlwaysOn        *bool     `yaml:"always_on" json:"always_on,omitempty"`
	CloseAfter      *Duration `yaml:"close_after" json:"close_after,omitempty"`
	EndedKeep       *Duration `yaml:"ended_keep" json:"ended_keep,omitempty"`
	DVRWindow       *Duration `yaml:"dvr_window" json:"dvr_window,omitempty"`
	Directory       *string   `yaml:"directory" json:"directory,omitempty"`
	// Ladder names other paths (e.g. live/cam1/720p) served as renditions
	// of this one in a multivariant playlist.
	Ladder []string `yaml:"ladder" json:"ladder,omitempty"`
}

// ResolvedRule is the effective configuration of one path: the matching rule
// with the global record, hls and snapshots sections merged in. It is a plain value, so
// reflect.DeepEqual (or Equal) on the rules of the old and the new config
// tells whether a reload affects a path.
type ResolvedRule struct {
	// Match is the rule that matched: its name, its pattern, or "" when no
	// rule matched and the defaults apply.
	Match string `json:"match"`

	OverridePublisher        bool     `json:"override_publisher"`
	PublishUser              string   `json:"publish_user,omitempty"`
	PublishPass              string   `json:"publish_pass,omitempty"`
	ReadUser                 string   `json:"read_user,omitempty"`
	ReadPass                 string   `json:"read_pass,omitempty"`
	Source                   string   `json:"source,omitempty"`
	SourceOnDemand           bool     `json:"source_on_demand"`
	SourceOnDemandCloseAfter Duration `json:"source_on_demand_close_after"`
	SourceRetry              Duration `json:"source_retry"`
	Forward                  []string `json:"forward,omitempty"`
	SRTPassphrase            string   `json:"srt_passphrase,omitempty"`
	Transcode                string   `json:"transcode,omitempty"`
	TranscodeOnDemand        bool     `json:"transcode_on_demand,omitempty"`
	TranscodeCloseAfter      Duration `json:"transcode_close_after"`

	// Record, HLS and Snapshots are the effective sections for this path.
	Record    Record    `json:"record"`
	HLS       HLS       `json:"hls"`
	Snapshots Snapshots `json:"snapshots"`
	// Subtitles is the path's live subtitles setting (off by default).
	Subtitles LiveSubtitles `json:"subtitles"`
	// QC is the rule's live quality control (zero when off).
	QC QC `json:"qc"`
	// Highlights is the rule's live highlights section with its defaults
	// (Enabled false when the rule has none).
	Highlights LiveHighlights `json:"highlights"`
	// Ladder lists the rendition paths of this path's HLS multivariant
	// playlist (from the rule's hls.ladder).
	Ladder []string `json:"ladder,omitempty"`
}

// Equal reports whether two resolved rules configure a path identically,
// ignoring which rule matched, so the server restarts only paths whose
// settings really changed on reload.
func (r ResolvedRule) Equal(o ResolvedRule) bool {
	r.Match, o.Match = "", ""
	return reflect.DeepEqual(r, o)
}

// Rule per-path defaults applied to every rule (and to the default rule).
const (
	DefaultSourceOnDemandCloseAfter = Duration(10e9) // 10s
	DefaultTranscodeCloseAfter      = Duration(30e9) // 30s
	DefaultSourceRetry              = Duration(1e9)  // 1s
)

// defaultPathRule returns a rule with the per-rule defaults, the starting
// value every YAML rule is decoded onto.
func defaultPathRule() PathRule {
	return PathRule{
		SourceOnDemandCloseAfter: DefaultSourceOnDemandCloseAfter,
		SourceRetry:              DefaultSourceRetry,
		TranscodeCloseAfter:      DefaultTranscodeCloseAfter,
	}
}

// setDefaults gives a rule decoded from the file its per-rule defaults.
func (r *PathRule) setDefaults() { *r = defaultPathRule() }

// key is how errors and Match name this rule.
func (r *PathRule) key() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Pattern
}

// matches reports whether the rule's pattern (not its name) matches p.
func (r *PathRule) matches(p string) bool {
	if r.Pattern == "" {
		return false
	}
	if expr, ok := strings.CutPrefix(r.Pattern, "~"); ok {
		re := r.re
		if re == nil { // a Config built in code and never validated
			var err error
			if re, err = regexp.Compile(expr); err != nil {
				return false
			}
		}
		return re.MatchString(p)
	}
	ok, err := path.Match(r.Pattern, p)
	return err == nil && ok
}

// MatchRule returns the index in c.Paths of the rule that applies to the
// path name p, or -1 when the default rule applies. A rule with an exact
// name wins over every pattern, wherever it is listed; otherwise the first
// pattern in list order wins.
func (c *Config) MatchRule(p string) int {
	for i := range c.Paths {
		if c.Paths[i].Name != "" && c.Paths[i].Name == p {
			return i
		}
	}
	for i := range c.Paths {
		if c.Paths[i].matches(p) {
			return i
		}
	}
	return -1
}

// Rule returns the effective settings of the path name p: the matching rule
// (see MatchRule) merged over the global record, hls and snapshots
// sections, or the defaults when no rule matches. Callers never merge by
// hand.
func (c *Config) Rule(p string) ResolvedRule {
	i := c.MatchRule(p)
	if i < 0 {
		d := defaultPathRule()
		return c.resolve(&d)
	}
	return c.resolve(&c.Paths[i])
}

// resolve merges rule r over the global sections. The result shares no
// memory with c, so callers may keep or modify it.
func (c *Config) resolve(r *PathRule) ResolvedRule {
	res := ResolvedRule{
		Match:                    r.key(),
		OverridePublisher:        r.OverridePublisher,
		PublishUser:              r.PublishUser,
		PublishPass:              r.PublishPass,
		ReadUser:                 r.ReadUser,
		ReadPass:                 r.ReadPass,
		Source:                   r.Source,
		SourceOnDemand:           r.SourceOnDemand,
		SourceOnDemandCloseAfter: r.SourceOnDemandCloseAfter,
		SourceRetry:              r.SourceRetry,
		Forward:                  cloneStrings(r.Forward),
		SRTPassphrase:            r.SRTPassphrase,
		Transcode:                r.Transcode,
		TranscodeOnDemand:        r.TranscodeOnDemand,
		TranscodeCloseAfter:      r.TranscodeCloseAfter,
		Record:                   c.Record,
		HLS:                      c.HLS,
		Snapshots:                c.Snapshots,
	}
	if r.QC != nil {
		res.QC = *r.QC
	}
	if r.Snapshots != nil {
		mergeOverride(&res.Snapshots, r.Snapshots)
	}
	if r.Subtitles != nil {
		res.Subtitles = *r.Subtitles
	}
	if r.Highlights != nil {
		res.Highlights = r.Highlights.withDefaults()
	}
	if r.Record != nil {
		mergeOverride(&res.Record, r.Record)
	}
	if r.HLS != nil {
		mergeOverride(&res.HLS, r.HLS)
		res.Ladder = cloneStrings(r.HLS.Ladder)
	}
	return res
}

// mergeOverride copies every non-nil pointer field of the override struct
// *ov into the field of the same name in *dst. Matching by name keeps the
// override types and the sections in step without a hand-written merge per
// field; fields of ov that are not pointers (Ladder) are skipped.
func mergeOverride(dst, ov any) {
	d := reflect.ValueOf(dst).Elem()
	o := reflect.ValueOf(ov).Elem()
	for i := 0; i < o.NumField(); i++ {
		f := o.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		if t := d.FieldByName(o.Type().Field(i).Name); t.IsValid() {
			t.Set(f.Elem())
		}
	}
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
