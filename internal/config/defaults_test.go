package config

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"mps/internal/vod"
)

// mpsYAML is the documented config users copy; it must be the embedded
// default byte for byte.
const mpsYAML = "../../configs/mps.yaml"

func TestConfigsFileIsDefault(t *testing.T) {
	data, err := os.ReadFile(mpsYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, defaultYAML) {
		t.Fatal("configs/mps.yaml differs from internal/config/default.yaml: copy one onto the other (cp internal/config/default.yaml configs/mps.yaml)")
	}
}

func TestDefaultsEqualLoadedFile(t *testing.T) {
	clearEnv(t)
	cfg, err := Load(mpsYAML)
	if err != nil {
		t.Fatal(err)
	}
	if d := Defaults(); !d.Equal(cfg) {
		t.Fatalf("Defaults() = %+v\nLoad(configs/mps.yaml) = %+v", d, cfg)
	}
	// Each call is a fresh copy.
	a, b := Defaults(), Defaults()
	a.HTTP.CORSOrigins[0] = "changed"
	if b.HTTP.CORSOrigins[0] != "*" {
		t.Fatal("Defaults() copies share memory")
	}
}

func TestDefaultValues(t *testing.T) {
	c := Defaults()
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("log.level", c.Log.Level, "info")
	check("log.format", c.Log.Format, "text")
	media := IOTimeouts{ReadTimeout: Duration(10 * time.Second), WriteTimeout: Duration(10 * time.Second)}
	mediaLimits := ConnLimits{MaxConnections: 1024, MaxConnectionsPerIP: 64}
	check("http", c.HTTP, HTTP{Enabled: true, Address: ":8080", CORSOrigins: []string{"*"},
		HTTPLimits: HTTPLimits{ReadHeaderTimeout: Duration(10 * time.Second), ReadTimeout: Duration(30 * time.Second), BodyMinRate: KiB,
			WriteTimeout: Duration(30 * time.Second), IdleTimeout: Duration(time.Minute), MaxBodySize: MiB},
		ConnLimits: ConnLimits{MaxConnections: 4096, MaxConnectionsPerIP: 256}})
	check("rtmp", c.RTMP, RTMP{Enabled: true, Address: ":1935", IOTimeouts: media, ConnLimits: mediaLimits})
	check("rtsp", c.RTSP, RTSP{Enabled: true, Address: ":8554", UDPRTPAddress: ":8000", UDPRTCPAddress: ":8001", Transports: []string{"udp", "tcp"}, AuthMethods: []string{"basic"},
		IOTimeouts: media, ConnLimits: mediaLimits})
	check("srt", c.SRT, SRT{Enabled: true, Address: ":8890", Latency: Duration(120 * time.Millisecond), ConnLimits: mediaLimits})
	check("webrtc", c.WebRTC, WebRTC{Enabled: true, ICEUDPAddress: ":8189", ICETCPAddress: ":8189"})
	check("hls", c.HLS, HLS{Variant: HLSVariantLowLatency, SegmentDuration: Duration(time.Second), PartDuration: Duration(100 * time.Millisecond),
		SegmentCount: 7, CloseAfter: Duration(time.Minute), EndedKeep: Duration(time.Minute), Directory: "hls"})
	check("record", c.Record, Record{Format: RecordFormatFMP4, SegmentDuration: Duration(time.Hour), PartDuration: Duration(time.Second),
		Directory: "recordings", Path: "%path/%Y-%m-%d_%H-%M-%S-%f", QueueBytes: 256 * MiB, KeepLocal: true})
	check("storage", c.Storage, Storage{DataDir: "./data"})
	check("stream", c.Stream, Stream{RingSize: 1024})
	check("api", c.API, API{Enabled: true})
	check("snapshots", c.Snapshots, Snapshots{Interval: Duration(10 * time.Second), Quality: 5, Keep: 10})
	check("transcode", c.Transcode, Transcode{MaxTranscoders: 1, Ladders: map[string]Ladder{"abr": {
		GOP: Duration(2 * time.Second),
		Rungs: []Rung{
			{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2800 * Kbps, Codec: "h264", Preset: "veryfast", AudioCodec: "aac", AudioBitrate: 128 * Kbps},
			{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1400 * Kbps, Codec: "h264", Preset: "veryfast", AudioCodec: "aac", AudioBitrate: 128 * Kbps},
			{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800 * Kbps, Codec: "h264", Preset: "veryfast", AudioCodec: "aac", AudioBitrate: 128 * Kbps},
		},
	}}})
	check("watermarks", c.Watermarks, map[string]Watermark(nil))
	check("nats", c.NATS, NATS{StoreDir: "nats"})
	check("tasks", c.Tasks, Tasks{Concurrency: 1, UploadLimit: 2 * GiB, OutputDir: "outputs"})
	check("templates", c.Templates, map[string]vod.Operation{
		"mp4_720p": {Type: vod.TypeTranscode, Transcode: &vod.TranscodeSpec{
			Container: "mp4",
			Video:     vod.VideoSpec{Codec: "h264", Height: 720, RateControl: "crf", CRF: 23, Preset: "veryfast"},
			Audio:     vod.AudioSpec{Codec: "aac", Bitrate: "128k"},
		}},
		"thumbnails": {Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{
			Times:     []vod.Offset{"10%", "50%", "90%"},
			ImageSpec: vod.ImageSpec{Format: "jpg", Width: 320},
		}},
	})
	check("schemes", c.Schemes, []Scheme(nil))
	check("webhooks", c.Webhooks, []Webhook(nil))
	check("paths", len(c.Paths), 0)
}

// documentedKeys returns the dotted key paths written in YAML text (list
// items add no element: "transcode.ladders.abr.rungs.width"), and, when
// requireComments is set, reports keys below the top level that have no
// comment line right above them.
func documentedKeys(t *testing.T, name, text string, requireComments bool) map[string]bool {
	t.Helper()
	keyRE := regexp.MustCompile(`^(\s*)(- )?([a-z0-9_]+):`)
	type level struct {
		indent int
		name   string
	}
	var stack []level
	documented := map[string]bool{}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		m := keyRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		indent := len(m[1]) + len(m[2])
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, m[3]})
		var parts []string
		for _, lv := range stack {
			parts = append(parts, lv.name)
		}
		key := strings.Join(parts, ".")
		documented[key] = true
		if requireComments && indent > 0 && !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("%s:%d: %s has no comment above it", name, i+1, key)
		}
	}
	return documented
}

// exampleKeys limits the keys an example must show for types whose full
// key set is documented elsewhere: a scheme's inline operation has every
// template key, listed in the templates section's comment.
var exampleKeys = map[reflect.Type][]string{
	reflect.TypeFor[OpRef](): {"template", "type"},
	// The AI providers are null by default; their keys are listed in the
	// ai.providers comment (TestAIProviderKeysDocumented).
	reflect.TypeFor[AIProvider](): {},
	// Storage targets are an empty list by default; their keys are in the
	// commented example (TestStorageTargetsExample).
	reflect.TypeFor[StorageTarget](): {},
	// A bucket trigger needs a storage target the scheme example lacks; its
	// keys are in a comment of the example (TestBucketTriggerKeysDocumented).
	reflect.TypeFor[BucketTrigger](): {},
	reflect.TypeFor[SchemeTrigger](): {"watch", "recording"},
	// The audit lists are empty by default; their keys are listed in the
	// ai.audit.lists comment (TestAIProviderKeysDocumented).
	reflect.TypeFor[AuditList](): {},
	// A rung's roi is off in the example; its keys are in the comment above
	// it (TestRungROIKeysDocumented).
	reflect.TypeFor[RungROI](): {},
}

// TestRungROIKeysDocumented checks that the comment above the example
// rung's roi key names every key of the option.
func TestRungROIKeysDocumented(t *testing.T) {
	i := strings.Index(string(defaultYAML), "          roi: ~\n")
	if i < 0 {
		t.Fatal("no roi key in the example rung")
	}
	doc := string(defaultYAML[max(0, i-1200):i])
	doc = doc[strings.LastIndex(doc, "watermark: \"\"\n"):]
	for _, key := range fieldNames(reflect.TypeFor[RungROI]()) {
		if !regexp.MustCompile(`(?m)^\s+#.*\b` + key + `\b`).MatchString(doc) {
			t.Errorf("roi key %s missing from the comment above the example rung's roi", key)
		}
	}
}

// TestBucketTriggerKeysDocumented checks that the scheme example's comment
// names every key of a bucket trigger.
func TestBucketTriggerKeysDocumented(t *testing.T) {
	i := strings.Index(string(defaultYAML), "# bucket: {")
	if i < 0 {
		t.Fatal("no bucket trigger in the scheme example")
	}
	doc := string(defaultYAML[i : i+200])
	for _, key := range fieldNames(reflect.TypeFor[BucketTrigger]()) {
		if !strings.Contains(doc, key+":") {
			t.Errorf("bucket trigger key %s missing from the scheme example", key)
		}
	}
}

// TestStorageTargetsExample uncomments the storage.targets example, parses
// it, and checks that it shows every key of a target.
func TestStorageTargetsExample(t *testing.T) {
	s := string(defaultYAML)
	i := strings.Index(s, "  # targets:\n")
	if i < 0 {
		t.Fatal("no storage.targets example")
	}
	var b strings.Builder
	b.WriteString("storage:\n")
	for _, l := range strings.Split(s[i:], "\n") {
		rest, ok := strings.CutPrefix(l, "  # ")
		if !ok {
			break
		}
		b.WriteString("  " + rest + "\n")
	}
	ex := b.String()
	cfg, err := Parse("example.yaml", []byte(ex))
	if err != nil {
		t.Fatalf("storage.targets example: %v\n%s", err, ex)
	}
	if len(cfg.Storage.Targets) != 2 || cfg.Storage.Targets[0].Kind != StorageS3 || !cfg.Storage.Targets[0].PathStyle {
		t.Fatalf("storage.targets example = %+v", cfg.Storage.Targets)
	}
	checkDocumented(t, documentedKeys(t, "storage", ex, false), []string{"storage.targets"}, reflect.TypeFor[StorageTarget]())
}

// TestAIProviderKeysDocumented checks that the ai.providers comment lists
// every key of a provider.
func TestAIProviderKeysDocumented(t *testing.T) {
	for _, key := range fieldNames(reflect.TypeFor[AIProvider]()) {
		if !regexp.MustCompile(`(?m)^\s+#\s+` + key + `:`).Match(defaultYAML) {
			t.Errorf("ai provider key %s missing from the ai.providers comment", key)
		}
	}
	for _, key := range fieldNames(reflect.TypeFor[AuditList]()) {
		if !regexp.MustCompile(`(?m)^\s+#\s+` + key + `:`).Match(defaultYAML) {
			t.Errorf("audit list key %s missing from the ai.audit.lists comment", key)
		}
	}
}

// checkDocumented reports every YAML key of type typ missing under all of
// prefixes in documented. For a map it needs at least one example entry and
// checks the keys of the element type across all of them (one watermark
// example may show the image keys, another the text keys).
func checkDocumented(t *testing.T, documented map[string]bool, prefixes []string, typ reflect.Type) {
	t.Helper()
	switch typ.Kind() {
	case reflect.Pointer, reflect.Slice:
		checkDocumented(t, documented, prefixes, typ.Elem())
	case reflect.Struct:
		keys := fieldNames(typ)
		if only, ok := exampleKeys[typ]; ok {
			keys = only
		}
		for _, name := range keys {
			var found []string
			for _, p := range prefixes {
				if documented[p+"."+name] {
					found = append(found, p+"."+name)
				}
			}
			if len(found) == 0 {
				t.Errorf("key %s.%s is not documented", prefixes[0], name)
				continue
			}
			checkDocumented(t, documented, found, typ.FieldByIndex(yamlFields(typ)[name]).Type)
		}
	case reflect.Map:
		var entries []string
		for k := range documented {
			for _, p := range prefixes {
				if rest, ok := strings.CutPrefix(k, p+"."); ok && !strings.Contains(rest, ".") {
					entries = append(entries, k)
				}
			}
		}
		if len(entries) == 0 {
			t.Errorf("%s has no documented example entry", prefixes[0])
			return
		}
		checkDocumented(t, documented, entries, typ.Elem())
	}
}

// TestDefaultYAMLDocumentsEveryKey checks that every key of every section,
// down to the keys of the example ladder and its rungs, appears in
// default.yaml with a comment right above it, and that the commented paths
// example shows every rule key. The sections that are empty by default
// (paths, watermarks, webhooks) are documented by commented examples,
// checked by TestCommentedExamples.
func TestDefaultYAMLDocumentsEveryKey(t *testing.T) {
	documented := documentedKeys(t, "default.yaml", string(defaultYAML), true)
	ct := typeOf(Defaults())
	for _, sec := range fieldNames(ct) {
		if !documented[sec] {
			t.Errorf("section %s missing from default.yaml", sec)
		}
		switch sec {
		case "paths", "watermarks", "webhooks", "schemes":
			continue
		case "templates": // see TestTemplatesCommentListsEveryKey
			continue
		}
		checkDocumented(t, documented, []string{sec}, ct.FieldByIndex(yamlFields(ct)[sec]).Type)
	}
	if !documented["transcode.ladders.abr.rungs.audio_bitrate"] {
		t.Error("the key walk missed the example rung") // guards the test itself
	}
	for _, key := range append(fieldNames(reflect.TypeFor[PathRule]()), "ladder") {
		if !regexp.MustCompile(`(?m)^#\s+(- )?` + key + `:`).Match(defaultYAML) {
			t.Errorf("path rule key %s missing from the commented example", key)
		}
	}
}

// commentedExample returns the commented-out example of section in
// default.yaml ("# watermarks:" up to the first uncommented line),
// uncommented.
func commentedExample(t *testing.T, section string) string {
	t.Helper()
	s := string(defaultYAML)
	i := strings.Index(s, "# "+section+":\n")
	if i < 0 {
		t.Fatalf("no %s example", section)
	}
	var b strings.Builder
	for _, l := range strings.Split(s[i:], "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		l = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		b.WriteString(l + "\n")
	}
	return b.String()
}

// TestCommentedExamples parses the commented watermarks and webhooks
// examples and checks that between them they show every key.
func TestCommentedExamples(t *testing.T) {
	for _, sec := range []string{"watermarks", "webhooks", "schemes"} {
		ex := commentedExample(t, sec)
		cfg, err := Parse("example.yaml", []byte(ex))
		if err != nil {
			t.Fatalf("%s example: %v\n%s", sec, err, ex)
		}
		ct := typeOf(cfg)
		checkDocumented(t, documentedKeys(t, sec, ex, false), []string{sec}, ct.FieldByIndex(yamlFields(ct)[sec]).Type)
		if sec == "watermarks" && (cfg.Watermarks["logo"].Corner != CornerTopRight || cfg.Watermarks["clock"].Opacity != 1) {
			t.Errorf("watermarks example = %+v", cfg.Watermarks)
		}
		if sec == "webhooks" && (len(cfg.Webhooks) != 1 || len(cfg.Webhooks[0].Events) != 2) {
			t.Errorf("webhooks example = %+v", cfg.Webhooks)
		}
		if sec == "schemes" {
			if len(cfg.Schemes) != 1 {
				t.Fatalf("schemes example = %+v", cfg.Schemes)
			}
			s := cfg.Schemes[0]
			if s.Name != "web" || !s.Enabled || s.Trigger.Watch == nil || s.Trigger.Watch.Glob != "*.mp4" ||
				s.Trigger.Recording == nil || s.Trigger.Recording.Path != "live/*" || len(s.Operations) != 2 ||
				s.Operations[0].Template != "mp4_720p" || s.Operations[1].Type != vod.TypeSprite ||
				s.Operations[1].Sprite == nil || s.Operations[1].Sprite.Every != "10%" || s.Operations[1].Sprite.Rows != 3 ||
				s.Output.Prefix != "web" || s.Notify.Mode != NotifyFinish || len(s.Notify.Webhooks) != 1 {
				t.Errorf("schemes example = %+v", s)
			}
		}
	}
}

// TestPathsExampleParses uncomments the documented rule example and checks
// it is a valid config.
func TestPathsExampleParses(t *testing.T) {
	ex := commentedExample(t, "paths")
	cfg, err := Parse("example.yaml", []byte(ex))
	if err != nil {
		t.Fatalf("%v\n%s", err, ex)
	}
	r := cfg.Rule("live/cam1")
	if r.Match != "live/cam1" || !r.Record.Enabled || len(r.Ladder) != 2 || r.SourceOnDemandCloseAfter.D() != 10*time.Second {
		t.Fatalf("example rule = %+v", r)
	}
	if r.Transcode != "abr" || !r.Snapshots.Enabled || r.Snapshots.Interval.D() != 30*time.Second || r.Snapshots.Keep != cfg.Snapshots.Keep {
		t.Fatalf("example rule transcode/snapshots = %q %+v", r.Transcode, r.Snapshots)
	}
}

// TestTemplatesCommentListsEveryKey checks that the comment above
// `templates:` names every operation type and every key an operation can
// have, down to the keys of nested settings (video, hls, rungs, loudnorm…):
// the two example templates cannot show them all.
func TestTemplatesCommentListsEveryKey(t *testing.T) {
	s := string(defaultYAML)
	end := strings.Index(s, "\ntemplates:\n")
	start := strings.LastIndex(s[:end], "\n\n")
	if end < 0 || start < 0 {
		t.Fatal("no templates section")
	}
	comment := s[start:end]
	words := map[string]bool{}
	for _, w := range regexp.MustCompile(`[a-z0-9_]+`).FindAllString(comment, -1) {
		words[w] = true
	}
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice:
			walk(typ.Elem())
		case reflect.Struct:
			if seen[typ] {
				return
			}
			seen[typ] = true
			for name, idx := range yamlFields(typ) {
				if !words[name] {
					t.Errorf("key %s (of %s) is not in the templates comment", name, typ)
				}
				walk(typ.FieldByIndex(idx).Type)
			}
		}
	}
	walk(reflect.TypeFor[vod.Operation]())
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen)) // guards the walk
	}
	for _, typ := range []string{vod.TypeTranscode, vod.TypeAdaptive, vod.TypeSnapshot, vod.TypeSample, vod.TypeSprite,
		vod.TypeAnimated, vod.TypeWatermark, vod.TypeEnhance, vod.TypeRemux, vod.TypeProbe} {
		if !regexp.MustCompile(`(?m)^#   ` + typ + ` `).MatchString(comment) {
			t.Errorf("operation type %s is not listed in the templates comment", typ)
		}
	}
}
