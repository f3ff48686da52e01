package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// ladderYAML puts rungs (YAML lines indented for a rungs list) into a
// ladder named abr, so error lines are easy to count: the first rung line
// is line 5.
func ladderYAML(rungs string) string {
	return "transcode:\n  ladders:\n    abr:\n      rungs:\n" + rungs
}

// TestLiveParseErrors checks every new class of error names the file, the
// line and the key path, map entry names included.
func TestLiveParseErrors(t *testing.T) {
	cases := []parseErrorCase{
		// Map decoding.
		{"bad map name", "watermarks:\n  bad.name:\n    type: text\n    text: x\n", 2, "watermarks", `invalid name "bad.name"`},
		{"map name with space", "transcode:\n  ladders:\n    'a b': {rungs: [{name: x}]}\n", 3, "transcode.ladders", `invalid name "a b"`},
		{"duplicate map name", "watermarks:\n  a: {type: text, text: x}\n  a: {type: text, text: y}\n", 3, "watermarks.a", `duplicate name "a"`},
		{"scalar for map", "watermarks: 5\n", 1, "watermarks", "expected a mapping of names"},
		{"list for map", "transcode:\n  ladders: [abr]\n", 2, "transcode.ladders", "expected a mapping of names"},
		{"scalar for map entry", "watermarks:\n  logo: 5\n", 2, "watermarks.logo", "expected a mapping of keys"},
		{"unknown key in map entry", "watermarks:\n  logo:\n    type: text\n    colour: red\n", 4, "watermarks.logo.colour", `unknown key "colour"`},
		{"unknown key deep in map", ladderYAML("        - name: a\n        - name: b\n          heigth: 2\n"), 7, "transcode.ladders.abr.rungs[1].heigth", "unknown key"},
		{"merge key in map", "watermarks:\n  <<: {a: 1}\n", 2, "watermarks", "merge keys"},

		// Ladders and rungs.
		{"bad rung deep in map", ladderYAML("        - name: a\n        - name: b\n          height: -2\n"), 7, "transcode.ladders.abr.rungs[1].height", "must be from 0"},
		{"word for rung int", ladderYAML("        - name: a\n          width: wide\n"), 6, "transcode.ladders.abr.rungs[0].width", "expected an integer"},
		{"huge width", ladderYAML("        - {name: a, width: 10000}\n"), 5, "transcode.ladders.abr.rungs[0].width", "8192"},
		{"bad bitrate", ladderYAML("        - name: a\n          video_bitrate: 2.8G\n"), 6, "transcode.ladders.abr.rungs[0].video_bitrate", `invalid bitrate "2.8G"`},
		{"negative bitrate", ladderYAML("        - name: a\n          audio_bitrate: -5k\n"), 6, "transcode.ladders.abr.rungs[0].audio_bitrate", "must not be negative"},
		{"max below target", ladderYAML("        - name: a\n          video_bitrate: 2M\n          max_bitrate: 1M\n"), 7, "transcode.ladders.abr.rungs[0].max_bitrate", "must not be below video_bitrate 2M"},
		{"word for fps", ladderYAML("        - name: a\n          fps: fast\n"), 6, "transcode.ladders.abr.rungs[0].fps", "expected a number"},
		{"fps range", ladderYAML("        - name: a\n          fps: 300\n"), 6, "transcode.ladders.abr.rungs[0].fps", "240"},
		{"rung codec", ladderYAML("        - name: a\n          codec: vp9\n"), 6, "transcode.ladders.abr.rungs[0].codec", `invalid value "vp9" (want one of: h264, h265, source)`},
		{"rung audio codec", ladderYAML("        - name: a\n          audio_codec: mp3\n"), 6, "transcode.ladders.abr.rungs[0].audio_codec", `invalid value "mp3"`},
		{"rung preset", ladderYAML("        - name: a\n          preset: very fast\n"), 6, "transcode.ladders.abr.rungs[0].preset", "one word"},
		{"rung name path", ladderYAML("        - name: a/b\n"), 5, "transcode.ladders.abr.rungs[0].name", "one path element"},
		{"rung name dotdot", ladderYAML("        - name: ..\n"), 5, "transcode.ladders.abr.rungs[0].name", "invalid rung name"},
		{"rung name missing", ladderYAML("        - width: 640\n"), 5, "transcode.ladders.abr.rungs[0].name", `invalid rung name ""`},
		{"duplicate rung", ladderYAML("        - name: a\n        - name: b\n        - name: a\n"), 7, "transcode.ladders.abr.rungs[2].name", `duplicate rung name "a" (also rungs[0])`},
		{"ladder without rungs", "transcode:\n  ladders:\n    hd:\n      gop: 1s\n", 3, "transcode.ladders.hd.rungs", "at least one rung"},
		{"ladder gop", "transcode:\n  ladders:\n    hd:\n      gop: 30s\n      rungs: [{name: a}]\n", 4, "transcode.ladders.hd.gop", "at most 20s"},
		{"ladder zero gop", "transcode:\n  ladders:\n    hd:\n      gop: 0s\n      rungs: [{name: a}]\n", 4, "transcode.ladders.hd.gop", "greater than 0"},
		{"second ladder checked", "transcode:\n  ladders:\n    a: {rungs: [{name: x}]}\n    b: {rungs: [{name: x, codec: av1}]}\n", 4, "transcode.ladders.b.rungs[0].codec", "invalid value"},
		{"ladder unknown watermark", "transcode:\n  ladders:\n    hd:\n      watermark: logo\n      rungs: [{name: a}]\n", 4, "transcode.ladders.hd.watermark", `unknown watermark "logo" (none are defined in watermarks)`},
		{"rung unknown watermark", "watermarks:\n  logo: {type: text, text: x}\n" + ladderYAML("        - name: a\n          watermark: clock\n"), 8, "transcode.ladders.abr.rungs[0].watermark", `unknown watermark "clock" (defined: logo)`},
		{"roi qoffset", ladderYAML("        - name: a\n          roi:\n            faces: true\n            qoffset: 0.3\n"), 8, "transcode.ladders.abr.rungs[0].roi.qoffset", "must be from -1 to 0"},
		{"roi without faces", ladderYAML("        - name: a\n          roi: {qoffset: -0.4}\n"), 6, "transcode.ladders.abr.rungs[0].roi", "faces must be true"},
		{"roi faces false", ladderYAML("        - name: a\n          roi:\n            faces: false\n"), 7, "transcode.ladders.abr.rungs[0].roi.faces", "faces must be true"},
		{"roi interval", ladderYAML("        - name: a\n          roi:\n            faces: true\n            sample_interval: 20ms\n"), 8, "transcode.ladders.abr.rungs[0].roi.sample_interval", "must be from 100ms to 10s"},
		{"roi h265", ladderYAML("        - name: a\n          codec: h265\n          roi: {faces: true}\n"), 7, "transcode.ladders.abr.rungs[0].roi", "needs an h264 rung"},
		{"roi ultrafast", ladderYAML("        - name: a\n          preset: ultrafast\n          roi: {faces: true}\n"), 6, "transcode.ladders.abr.rungs[0].preset", "adaptive quantisation"},
		{"roi unknown key", ladderYAML("        - name: a\n          roi: {faces: true, text: true}\n"), 6, "transcode.ladders.abr.rungs[0].roi.text", "unknown key"},
		{"max transcoders", "transcode:\n  max_transcoders: 0\n", 2, "transcode.max_transcoders", "at least 1"},

		// Watermarks.
		{"watermark type", "watermarks:\n  logo:\n    type: video\n", 3, "watermarks.logo.type", `invalid value "video" (want one of: image, text)`},
		{"watermark without type", "watermarks:\n  logo:\n    text: hi\n", 2, "watermarks.logo.type", `invalid value ""`},
		{"image without file", "watermarks:\n  logo:\n    type: image\n", 3, "watermarks.logo.type", "needs an image file"},
		{"text without text", "watermarks:\n  clock:\n    type: text\n    text: ''\n", 4, "watermarks.clock.text", "needs text"},
		{"multi-line text", "watermarks:\n  clock:\n    type: text\n    text: \"a\\nb\"\n", 4, "watermarks.clock.text", "one line"},
		{"corner", "watermarks:\n  logo:\n    type: text\n    text: x\n    corner: top-left\n", 5, "watermarks.logo.corner", `invalid value "top-left" (want one of: TopLeft, TopRight, BottomLeft, BottomRight)`},
		{"offset syntax", "watermarks:\n  logo:\n    type: text\n    text: x\n    x: 10px\n", 5, "watermarks.logo.x", `invalid value "10px": want pixels`},
		{"offset negative", "watermarks:\n  logo:\n    type: text\n    text: x\n    y: -3\n", 5, "watermarks.logo.y", "want pixels"},
		{"width percent", "watermarks:\n  logo:\n    type: image\n    image: a.png\n    width: 150%\n", 5, "watermarks.logo.width", "over 100%"},
		{"opacity above 1", "watermarks:\n  logo:\n    type: image\n    image: a.png\n    opacity: 1.5\n", 5, "watermarks.logo.opacity", "at most 1"},
		{"opacity zero", "watermarks:\n  logo:\n    type: image\n    image: a.png\n    opacity: 0\n", 5, "watermarks.logo.opacity", "greater than 0"},
		{"opacity word", "watermarks:\n  logo:\n    type: image\n    image: a.png\n    opacity: half\n", 5, "watermarks.logo.opacity", "expected a number"},
		{"font colour", "watermarks:\n  c:\n    type: text\n    text: x\n    font_color: '#12'\n", 5, "watermarks.c.font_color", "invalid colour"},
		{"font size", "watermarks:\n  c:\n    type: text\n    text: x\n    font_size: -1\n", 5, "watermarks.c.font_size", "from 0"},
		{"box word", "watermarks:\n  c:\n    type: text\n    text: x\n    box: maybe\n", 5, "watermarks.c.box", "expected true or false"},

		// Snapshots, global and per rule.
		{"snapshot quality", "snapshots:\n  quality: 1\n", 2, "snapshots.quality", "from 2 (best) to 31"},
		{"snapshot interval", "snapshots:\n  interval: 0s\n", 2, "snapshots.interval", "greater than 0"},
		{"snapshot keep", "snapshots:\n  keep: 0\n", 2, "snapshots.keep", "at least 1"},
		{"snapshot width", "snapshots:\n  width: -640\n", 2, "snapshots.width", "from 0"},
		{"rule snapshots keep", "paths:\n  - name: a\n    snapshots:\n      enabled: true\n      keep: 0\n", 5, "paths[0].snapshots.keep", "at least 1"},
		{"rule snapshots unknown key", "paths:\n  - name: a\n    snapshots:\n      every: 5s\n", 4, "paths[0].snapshots.every", "unknown key"},
		{"rule snapshots type", "paths:\n  - name: a\n    snapshots:\n      enabled: sometimes\n", 4, "paths[0].snapshots.enabled", "expected true or false"},
		{"rule snapshots inherited bad", "snapshots:\n  quality: 1\npaths:\n  - name: a\n", 2, "snapshots.quality", "from 2"},

		// Path rule ladders.
		{"rule unknown ladder", "paths:\n  - name: a\n  - pattern: 'live/*'\n    transcode: hd\n", 4, "paths[1].transcode", `unknown ladder "hd" (defined: abr)`},
		{"rule ladder removed", "transcode:\n  ladders: {}\npaths:\n  - name: a\n    transcode: abr\n", 5, "paths[0].transcode", `unknown ladder "abr" (none are defined in transcode.ladders)`},

		// nats, tasks, webhooks.
		{"nats url scheme", "nats:\n  url: http://bus:4222\n", 2, "nats.url", "want nats://"},
		{"nats second url", "nats:\n  url: 'nats://a:4222, nats://:4222'\n", 2, "nats.url", "missing host"},
		{"nats listen", "nats:\n  listen: '4222'\n", 2, "nats.listen", "invalid address"},
		{"nats store dir", "nats:\n  store_dir: ''\n", 2, "nats.store_dir", "must not be empty"},
		{"tasks concurrency", "tasks:\n  concurrency: 0\n", 2, "tasks.concurrency", "at least 1"},
		{"tasks upload limit", "tasks:\n  upload_limit: 0\n", 2, "tasks.upload_limit", "greater than 0"},
		{"tasks upload limit syntax", "tasks:\n  upload_limit: big\n", 2, "tasks.upload_limit", "invalid size"},
		{"tasks input root", "tasks:\n  input_roots:\n    - /media\n    - ''\n", 4, "tasks.input_roots[1]", "must not be empty"},
		{"tasks output dir", "tasks:\n  output_dir: ''\n", 2, "tasks.output_dir", "must not be empty"},
		{"webhook url", "webhooks:\n  - url: https://a.example/h\n  - url: ftp://b.example/h\n", 3, "webhooks[1].url", "want http:// or https://"},
		{"webhook without url", "webhooks:\n  - secret: x\n", 2, "webhooks[0]", `invalid URL ""`},
		{"webhook event", "webhooks:\n  - url: https://a.example/h\n    events: [stream.published, 'Bad Event']\n", 3, "webhooks[0].events[1]", "invalid event type"},
		{"webhook duplicate event", "webhooks:\n  - url: https://a.example/h\n    events:\n      - a\n      - a\n", 5, "webhooks[0].events[1]", "duplicate"},
		{"webhook unknown key", "webhooks:\n  - url: https://a.example/h\n    secrets: x\n", 3, "webhooks[0].secrets", "unknown key"},
		{"webhooks mapping", "webhooks:\n  url: x\n", 1, "webhooks", "expected a list"},
	}
	runParseErrorCases(t, cases)
}

const liveYAML = `
transcode:
  max_transcoders: 2
  ladders:
    hd:
      watermark: logo
      rungs:
        - name: 1080p
          height: 1080
          video_bitrate: 6M
          max_bitrate: 6.5M
          fps: 30
          codec: h265
          preset: fast
          profile: main
          audio_codec: opus
          audio_bitrate: 96000
          watermark: clock
        - name: src
          codec: source
        - name: faces
          roi: {faces: true, qoffset: -0.5, sample_interval: 500ms}
    small: &small
      gop: 4s
      rungs: [{name: 240p, width: 426, fps: 12.5, video_bitrate: 300k, audio_codec: ""}]
    copy: *small
watermarks:
  logo:
    type: image
    image: logo.png
    corner: BottomRight
    x: "5%"
    y: 10
    width: "12.5%"
    opacity: 0.75
  clock:
    type: text
    text: "%{localtime}"
    font_size: 32
    font_color: yellow@0.8
    box: true
    box_color: "0x000000@0.4"
    font: /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
`

// TestLiveDecoding checks map entries decode with every field, start from
// their per-entry defaults, replace the default ladders, and work with
// anchors.
func TestLiveDecoding(t *testing.T) {
	cfg := mustParse(t, liveYAML)
	tc := cfg.Transcode
	if tc.MaxTranscoders != 2 || !slices.Equal(names(tc.Ladders), []string{"copy", "hd", "small"}) {
		t.Fatalf("transcode = %+v (the file's ladders replace the default abr)", tc)
	}
	hd := tc.Ladders["hd"]
	want := Ladder{GOP: DefaultLadderGOP, Watermark: "logo", Rungs: []Rung{
		{Name: "1080p", Height: 1080, VideoBitrate: 6 * Mbps, MaxBitrate: 6500 * Kbps, FPS: 30, Codec: CodecH265, Preset: "fast",
			Profile: "main", AudioCodec: AudioCodecOpus, AudioBitrate: 96 * Kbps, Watermark: "clock"},
		{Name: "src", Codec: CodecSource, Preset: DefaultRungPreset},
		{Name: "faces", Codec: CodecH264, Preset: DefaultRungPreset,
			ROI: &RungROI{Faces: true, QOffset: -0.5, SampleInterval: Duration(500 * time.Millisecond)}},
	}}
	if !reflect.DeepEqual(hd, want) {
		t.Errorf("hd = %+v\nwant %+v", hd, want)
	}
	small := tc.Ladders["small"]
	if small.GOP.D() != 4*time.Second || small.Rungs[0].FPS != 12.5 || small.Rungs[0].Codec != CodecH264 ||
		small.Rungs[0].VideoBitrate != 300*Kbps || small.Rungs[0].AudioCodec != AudioCodecCopy {
		t.Errorf("small = %+v", small)
	}
	if !reflect.DeepEqual(tc.Ladders["copy"], small) {
		t.Errorf("alias: copy = %+v", tc.Ladders["copy"])
	}
	wantWM := map[string]Watermark{
		"logo": {Type: WatermarkImage, Image: "logo.png", Corner: CornerBottomRight, X: "5%", Y: "10", Width: "12.5%", Opacity: 0.75},
		"clock": {Type: WatermarkText, Text: "%{localtime}", Corner: CornerTopLeft, Opacity: 1, FontSize: 32, FontColor: "yellow@0.8",
			Box: true, BoxColor: "0x000000@0.4", Font: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"},
	}
	if !reflect.DeepEqual(cfg.Watermarks, wantWM) {
		t.Errorf("watermarks = %+v\nwant %+v", cfg.Watermarks, wantWM)
	}
	if !cfg.Equal(mustParse(t, liveYAML)) {
		t.Error("same file gives different configs")
	}
	// A change inside a map entry is a change.
	if cfg.Equal(mustParse(t, strings.Replace(liveYAML, "opacity: 0.75", "opacity: 0.5", 1))) {
		t.Error("Equal missed a change in a watermark")
	}

	// An empty or null mapping means no entries; a null entry keeps its
	// defaults (and so fails validation for want of rungs).
	for _, data := range []string{"transcode:\n  ladders: {}\n", "transcode:\n  ladders:\n", "transcode:\n  ladders: ~\n"} {
		if c := mustParse(t, data); c.Transcode.Ladders != nil {
			t.Errorf("%q: ladders = %v", data, c.Transcode.Ladders)
		}
	}
	if c := mustParse(t, "watermarks: {}\n"); !c.Equal(Defaults()) {
		t.Error("watermarks: {} differs from the default")
	}
	if _, err := Parse("t.yaml", []byte("transcode:\n  ladders:\n    x:\n")); err == nil || !strings.Contains(err.Error(), "t.yaml:3: transcode.ladders.x.rungs: a ladder needs at least one rung") {
		t.Errorf("null ladder: %v", err)
	}
}

func TestSnapshotsRuleResolution(t *testing.T) {
	cfg := mustParse(t, `
snapshots:
  interval: 5s
  quality: 3
paths:
  - name: on
    snapshots:
      enabled: true
  - name: tuned
    snapshots:
      enabled: true
      interval: 1m
      width: 320
      keep: 3
  - pattern: "~^off"
    snapshots:
      enabled: false
  - name: plain
`)
	global := Snapshots{Interval: Duration(5 * time.Second), Quality: 3, Keep: 10}
	if cfg.Snapshots != global {
		t.Fatalf("global = %+v", cfg.Snapshots)
	}
	for _, tc := range []struct {
		path string
		want Snapshots
	}{
		{"on", Snapshots{Enabled: true, Interval: Duration(5 * time.Second), Quality: 3, Keep: 10}},
		{"tuned", Snapshots{Enabled: true, Interval: Duration(time.Minute), Width: 320, Quality: 3, Keep: 3}},
		{"off1", global},
		{"plain", global},
		{"unmatched", global},
	} {
		if got := cfg.Rule(tc.path).Snapshots; got != tc.want {
			t.Errorf("Rule(%q).Snapshots = %+v, want %+v", tc.path, got, tc.want)
		}
	}
	// Globally enabled: a rule can switch it off, everything else inherits.
	on, err := ParseEnv("t.yaml", []byte("paths:\n  - name: off\n    snapshots: {enabled: false}\n"), []string{"MPS_SNAPSHOTS_ENABLED=true", "MPS_SNAPSHOTS_KEEP=2"})
	if err != nil {
		t.Fatal(err)
	}
	if r := on.Rule("off").Snapshots; r.Enabled || r.Keep != 2 {
		t.Errorf("off = %+v", r)
	}
	if r := on.Rule("x").Snapshots; !r.Enabled || r.Keep != 2 {
		t.Errorf("x = %+v", r)
	}
	// A reload changing only one rule's override changes only that path.
	changed := mustParse(t, strings.Replace(`
paths:
  - name: a
    snapshots: {enabled: true, keep: 4}
  - name: b
`, "keep: 4", "keep: 5", 1))
	old := mustParse(t, "paths:\n  - name: a\n    snapshots: {enabled: true, keep: 4}\n  - name: b\n")
	if old.Rule("a").Equal(changed.Rule("a")) || !old.Rule("b").Equal(changed.Rule("b")) {
		t.Error("ResolvedRule.Equal does not follow snapshots")
	}
}

func TestRuleTranscodeReference(t *testing.T) {
	cfg := mustParse(t, liveYAML+"paths:\n  - pattern: 'live/*'\n    transcode: hd\n")
	if r := cfg.Rule("live/x"); r.Transcode != "hd" {
		t.Fatalf("transcode = %q", r.Transcode)
	}
	// The default abr ladder is referable without defining any ladder.
	if r := mustParse(t, "paths:\n  - name: a\n    transcode: abr\n").Rule("a"); r.Transcode != "abr" {
		t.Fatalf("transcode = %q", r.Transcode)
	}
	// Validate on a config built in code checks references too.
	c := Defaults()
	c.Paths = []PathRule{{Name: "a", Transcode: "nope"}}
	if err := c.Validate(); err == nil || err.Error() != `paths[0].transcode: unknown ladder "nope" (defined: abr)` {
		t.Fatalf("err = %v", err)
	}
	c = Defaults()
	c.Watermarks = map[string]Watermark{"w": {Type: WatermarkText, Text: "x", Opacity: 1}} // Corner "" is TopLeft
	l := c.Transcode.Ladders["abr"]
	l.Watermark = "w"
	c.Transcode.Ladders["abr"] = l
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLiveEnvOverrides(t *testing.T) {
	env := []string{
		"MPS_TRANSCODE_MAX_TRANSCODERS=3",
		"MPS_SNAPSHOTS_ENABLED=true",
		"MPS_SNAPSHOTS_INTERVAL=2s",
		"MPS_SNAPSHOTS_WIDTH=320",
		"MPS_SNAPSHOTS_QUALITY=8",
		"MPS_SNAPSHOTS_KEEP=4",
		"MPS_NATS_URL=nats://bus.example:4222",
		"MPS_NATS_LISTEN=127.0.0.1:4222",
		"MPS_NATS_STORE_DIR=/var/lib/mps/nats",
		"MPS_TASKS_CONCURRENCY=2",
		"MPS_TASKS_UPLOAD_LIMIT=512MiB",
		"MPS_TASKS_INPUT_ROOTS=/media, /mnt/nas",
		"MPS_TASKS_OUTPUT_DIR=out",
		"MPS_WATERMARKS_LOGO=ignored", // maps and the webhooks list are file only
		"MPS_WEBHOOKS_URL=ignored",
	}
	cfg, err := ParseEnv("t.yaml", []byte("tasks:\n  concurrency: 5\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Transcode.MaxTranscoders != 3 || len(cfg.Transcode.Ladders) != 1 {
		t.Errorf("transcode = %+v", cfg.Transcode)
	}
	if want := (Snapshots{Enabled: true, Interval: Duration(2 * time.Second), Width: 320, Quality: 8, Keep: 4}); cfg.Snapshots != want {
		t.Errorf("snapshots = %+v", cfg.Snapshots)
	}
	if want := (NATS{URL: "nats://bus.example:4222", Listen: "127.0.0.1:4222", StoreDir: "/var/lib/mps/nats"}); cfg.NATS != want {
		t.Errorf("nats = %+v", cfg.NATS)
	}
	if want := (Tasks{Concurrency: 2, UploadLimit: 512 * MiB, InputRoots: []string{"/media", "/mnt/nas"}, OutputDir: "out"}); !reflect.DeepEqual(cfg.Tasks, want) {
		t.Errorf("tasks = %+v (env must win over the file)", cfg.Tasks)
	}
	if cfg.Watermarks != nil || cfg.Webhooks != nil {
		t.Errorf("file-only sections set from env: %v %v", cfg.Watermarks, cfg.Webhooks)
	}

	for _, tc := range []struct{ env, want string }{
		{"MPS_TRANSCODE_LADDERS=abr", "environment variable MPS_TRANSCODE_LADDERS: transcode.ladders is a mapping of named entries or a nested section and can only be set in the file"},
		{"MPS_TRANSCODE_LADDER=abr", "environment variable MPS_TRANSCODE_LADDER: unknown setting transcode.ladder (valid: MPS_TRANSCODE_MAX_TRANSCODERS)"},
		{"MPS_TASKS_CONCURRENCY=0", "environment variable MPS_TASKS_CONCURRENCY: tasks.concurrency: must be at least 1"},
		{"MPS_TASKS_UPLOAD_LIMIT=huge", `environment variable MPS_TASKS_UPLOAD_LIMIT: tasks.upload_limit: invalid size "huge"`},
		{"MPS_SNAPSHOTS_QUALITY=40", "environment variable MPS_SNAPSHOTS_QUALITY: snapshots.quality: must be from 2"},
		{"MPS_NATS_URL=bus:4222", `environment variable MPS_NATS_URL: nats.url: invalid URL "bus:4222"`},
	} {
		_, err := ParseEnv("t.yaml", nil, []string{tc.env})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v\nwant %s", tc.env, err, tc.want)
		}
	}
}

func TestParseBitrate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bitrate
		ok   bool
	}{
		{"0", 0, true}, {"800000", 800000, true}, {"2800k", 2800000, true}, {"2800K", 2800000, true},
		{"2.8M", 2800000, true}, {"6M", 6000000, true}, {"0.5k", 500, true}, {" 128k ", 128000, true},
		{"1e6", 1000000, true}, {"1.0005k", 1001, true},
		{"", 0, false}, {"k", 0, false}, {"M", 0, false}, {"-1", 0, false}, {"-5k", 0, false}, {"2.8G", 0, false},
		{"2800kb", 0, false}, {"2m", 0, false}, {"fast", 0, false}, {"NaNk", 0, false}, {"1e20M", 0, false},
	} {
		got, err := ParseBitrate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBitrate(%q) = %d, %v", tc.in, got, err)
		}
	}
	for b, s := range map[Bitrate]string{0: "0", 800: "800", 2800 * Kbps: "2800k", 6 * Mbps: "6M", 1001: "1001", 6500 * Kbps: "6500k"} {
		if b.String() != s {
			t.Errorf("%d.String() = %q, want %q", b, b.String(), s)
		}
		if back, err := ParseBitrate(s); err != nil || back != b {
			t.Errorf("round trip %d -> %q: %v %v", b, s, back, err)
		}
	}
}

func TestRedactedServices(t *testing.T) {
	cfg := mustParse(t, `
nats:
  url: "nats://u:pw@a.example:4222,nats://b.example:4222"
webhooks:
  - url: https://h.example/x
    secret: s3cret
  - url: https://user:pw@h.example/y
`)
	r := cfg.Redacted()
	if strings.Contains(r.NATS.URL, "pw") || !strings.HasPrefix(r.NATS.URL, "nats://u:") || !strings.HasSuffix(r.NATS.URL, ",nats://b.example:4222") {
		t.Errorf("nats url = %q", r.NATS.URL)
	}
	if r.Webhooks[0].Secret != "***" || strings.Contains(r.Webhooks[1].URL, "pw") || r.Webhooks[1].Secret != "" {
		t.Errorf("webhooks = %+v", r.Webhooks)
	}
	if cfg.Webhooks[0].Secret != "s3cret" || !strings.Contains(cfg.NATS.URL, ":pw@") {
		t.Error("Redacted modified the original")
	}
}
