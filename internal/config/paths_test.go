package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const rulesYAML = `
record:
  segment_duration: 30m
hls:
  segment_count: 5
paths:
  - pattern: "live/*"
    publish_user: pub
    publish_pass: secret
  - name: live/cam1
    override_publisher: true
    record:
      enabled: true
      format: mpegts
  - pattern: "~^cam[0-9]+$"
    source: rtsp://user:pw@10.0.0.1:554/stream
    source_on_demand: true
    source_retry: 3s
    hls:
      part_duration: 100ms
      ladder: [cam1/720p, cam1/480p]
  - pattern: "live/a*"
    read_user: never
  - pattern: "~^live/.+/.+$"
    forward: [rtmp://cdn.example/app/key, srt://cdn.example:9000?streamid=x]
    srt_passphrase: "0123456789"
    transcode: abr
`

func mustParse(t *testing.T, data string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRuleMatching(t *testing.T) {
	cfg := mustParse(t, rulesYAML)
	for _, tc := range []struct{ path, match string }{
		{"live/cam1", "live/cam1"},       // exact name beats the earlier pattern
		{"live/cam2", "live/*"},          // glob
		{"live/abc", "live/*"},           // first matching pattern wins over live/a*
		{"cam12", "~^cam[0-9]+$"},        // regex
		{"cam1x", ""},                    // regex is anchored by the user
		{"live/x/720p", "~^live/.+/.+$"}, // glob * does not cross /
		{"other", ""},                    // default rule
		{"live", ""},
	} {
		if got := cfg.Rule(tc.path).Match; got != tc.match {
			t.Errorf("Rule(%q).Match = %q, want %q", tc.path, got, tc.match)
		}
	}
	if i := cfg.MatchRule("live/cam1"); i != 1 {
		t.Errorf("MatchRule(live/cam1) = %d", i)
	}
	if i := cfg.MatchRule("nothing"); i != -1 {
		t.Errorf("MatchRule(nothing) = %d", i)
	}
}

func TestRuleMerging(t *testing.T) {
	cfg := mustParse(t, rulesYAML)

	def := cfg.Rule("other")
	want := ResolvedRule{
		SourceOnDemandCloseAfter: Duration(10 * time.Second),
		SourceRetry:              Duration(time.Second),
		TranscodeCloseAfter:      Duration(30 * time.Second),
		Record:                   cfg.Record,
		HLS:                      cfg.HLS,
		Snapshots:                cfg.Snapshots,
	}
	if !reflect.DeepEqual(def, want) {
		t.Fatalf("default rule = %+v\nwant %+v", def, want)
	}
	if def.Record.SegmentDuration.D() != 30*time.Minute || def.HLS.SegmentCount != 5 {
		t.Fatal("globals from the file not used")
	}

	cam1 := cfg.Rule("live/cam1")
	if !cam1.OverridePublisher || cam1.PublishUser != "" {
		t.Errorf("cam1 = %+v (must not mix in the live/* rule)", cam1)
	}
	// Partial record override: set keys replace, the rest is inherited.
	wantRec := cfg.Record
	wantRec.Enabled, wantRec.Format = true, RecordFormatMPEGTS
	if !reflect.DeepEqual(cam1.Record, wantRec) {
		t.Errorf("cam1.Record = %+v\nwant %+v", cam1.Record, wantRec)
	}
	if cam1.HLS != cfg.HLS {
		t.Errorf("cam1.HLS = %+v", cam1.HLS)
	}

	cam := cfg.Rule("cam7")
	wantHLS := cfg.HLS
	wantHLS.PartDuration = Duration(100 * time.Millisecond)
	if cam.HLS != wantHLS || cam.HLS.SegmentCount != 5 {
		t.Errorf("cam7.HLS = %+v\nwant %+v", cam.HLS, wantHLS)
	}
	if !slices.Equal(cam.Ladder, []string{"cam1/720p", "cam1/480p"}) {
		t.Errorf("ladder = %q", cam.Ladder)
	}
	if !reflect.DeepEqual(cam.Record, cfg.Record) || !cam.SourceOnDemand || cam.SourceRetry.D() != 3*time.Second ||
		cam.SourceOnDemandCloseAfter.D() != 10*time.Second || cam.Source == "" {
		t.Errorf("cam7 = %+v", cam)
	}

	fw := cfg.Rule("live/a/b")
	if len(fw.Forward) != 2 || fw.SRTPassphrase != "0123456789" || fw.Transcode != "abr" {
		t.Errorf("forward rule = %+v", fw)
	}
	// The result is a copy.
	fw.Forward[0] = "changed"
	if cfg.Rule("live/a/b").Forward[0] == "changed" {
		t.Error("Rule shares memory with the config")
	}
}

func TestRuleEqualAcrossReload(t *testing.T) {
	old := mustParse(t, rulesYAML)
	changed := mustParse(t, strings.Replace(rulesYAML, "format: mpegts", "format: fmp4", 1))
	if old.Equal(changed) {
		t.Fatal("configs should differ")
	}
	if !old.Equal(mustParse(t, rulesYAML)) {
		t.Fatal("same file should give equal configs")
	}
	if old.Rule("live/cam1").Equal(changed.Rule("live/cam1")) {
		t.Error("live/cam1 changed but Equal says no")
	}
	for _, p := range []string{"live/cam2", "cam3", "other", "live/x/y"} {
		if !old.Rule(p).Equal(changed.Rule(p)) {
			t.Errorf("%s did not change but Equal says it did", p)
		}
	}
	// A different rule with the same effective settings is not a change.
	a := mustParse(t, "paths:\n  - pattern: 'x/*'\n")
	b := mustParse(t, "paths:\n  - pattern: '~^x/'\n")
	if !a.Rule("x/1").Equal(b.Rule("x/1")) {
		t.Error("Equal must ignore Match")
	}
}

func TestRuleOnCodeBuiltConfig(t *testing.T) {
	cfg := Defaults()
	cfg.Paths = []PathRule{{Pattern: "~^a/"}, {Name: "b"}}
	if cfg.Rule("a/1").Match != "~^a/" || cfg.Rule("b").Match != "b" {
		t.Fatal("matching without Validate failed")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Paths[0].re == nil || cfg.Rule("a/1").Match != "~^a/" {
		t.Fatal("Validate did not compile the pattern")
	}
	cfg.Paths = append(cfg.Paths, PathRule{Name: "c", Pattern: "d"})
	if err := cfg.Validate(); err == nil || err.Error() != "paths[2].pattern: set either name or pattern, not both" {
		t.Fatalf("err = %v", err)
	}
}

// TestOverrideTypesMirrorSections guards mergeOverride, which copies by
// field name: every section field needs an override field of the same name
// and type, and vice versa.
func TestOverrideTypesMirrorSections(t *testing.T) {
	for _, pair := range []struct {
		section, override reflect.Type
		extra             []string
	}{
		{reflect.TypeFor[Record](), reflect.TypeFor[RecordOverride](), nil},
		{reflect.TypeFor[HLS](), reflect.TypeFor[HLSOverride](), []string{"Ladder"}},
		{reflect.TypeFor[Snapshots](), reflect.TypeFor[SnapshotsOverride](), nil},
	} {
		if got, want := pair.override.NumField()-len(pair.extra), pair.section.NumField(); got != want {
			t.Errorf("%s has %d fields, %s %d", pair.override, got, pair.section, want)
		}
		for i := 0; i < pair.section.NumField(); i++ {
			sf := pair.section.Field(i)
			of, ok := pair.override.FieldByName(sf.Name)
			if !ok || of.Type != reflect.PointerTo(sf.Type) || of.Tag.Get("yaml") != sf.Tag.Get("yaml") {
				t.Errorf("%s.%s: want %s.%s of type *%s with the same yaml tag", pair.section, sf.Name, pair.override, sf.Name, sf.Type)
			}
		}
	}
}

func TestRedacted(t *testing.T) {
	cfg := mustParse(t, rulesYAML)
	r := cfg.Redacted()
	if r.Paths[0].PublishPass != "***" || r.Paths[4].SRTPassphrase != "***" || r.Paths[0].PublishUser != "pub" {
		t.Errorf("redacted = %+v", r.Paths)
	}
	if strings.Contains(r.Paths[2].Source, "pw") || !strings.Contains(r.Paths[2].Source, "user:") {
		t.Errorf("source = %q", r.Paths[2].Source)
	}
	if cfg.Paths[0].PublishPass != "secret" || !strings.Contains(cfg.Paths[2].Source, ":pw@") {
		t.Error("Redacted modified the original")
	}
}

func TestSegmentPath(t *testing.T) {
	r := Defaults().Record
	start := time.Date(2024, 3, 5, 7, 8, 9, 123456789, time.UTC)
	if got := r.SegmentPath("live/cam1", start); got != "live/cam1/2024-03-05_07-08-09-123456" {
		t.Errorf("got %q", got)
	}
	r.Path = "%%%s_%path"
	if got := r.SegmentPath("a", start); got != "%1709622489_a" {
		t.Errorf("got %q", got)
	}
}

func TestValidatePathName(t *testing.T) {
	for _, ok := range []string{"live", "live/cam1", "a-b_c.d~e/720p"} {
		if err := ValidatePathName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", "a/../b", ".", "a b", "a?b", strings.Repeat("a", 600)} {
		if ValidatePathName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDataPath(t *testing.T) {
	cfg := Defaults()
	if got := cfg.DataPath("hls"); got != "data/hls" {
		t.Errorf("got %q", got)
	}
	if got := cfg.DataPath("/abs/x/"); got != "/abs/x" {
		t.Errorf("got %q", got)
	}
}
