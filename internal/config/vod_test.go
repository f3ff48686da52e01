package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"mps/internal/vod"
)

// schemeYAML puts scheme list items (YAML lines indented for the schemes
// list) under `schemes:`, so the first item line is line 2.
func schemeYAML(items string) string { return "schemes:\n" + items }

// TestVODParseErrors checks that every error class of the templates and
// schemes sections names the file, the line and the key path.
func TestVODParseErrors(t *testing.T) {
	wm := "watermarks:\n  logo: {type: text, text: hi}\n" // lines 1-2
	cases := []parseErrorCase{
		// Decoding templates.
		{"unknown key deep in template", "templates:\n  hd:\n    type: transcode\n    transcode:\n      video:\n        codec: h264\n        heigth: 720\n",
			7, "templates.hd.transcode.video.heigth", `unknown key "heigth" (valid keys: codec, width, height,`},
		{"unknown key in inline image spec", "templates:\n  t:\n    type: snapshot\n    snapshot: {times: [1s], widht: 3}\n",
			4, "templates.t.snapshot.widht", `(valid keys: times, format, width, height)`},
		{"unknown key at template top", "templates:\n  t:\n    type: probe\n    probe: {}\n", 4, "templates.t.probe", `unknown key "probe"`},
		{"bad offset value", "templates:\n  t:\n    type: snapshot\n    snapshot:\n      times:\n        - 1s\n        - soon\n",
			7, "templates.t.snapshot.times[1]", `bad offset "soon"`},
		{"bad offset percent", "templates:\n  t:\n    type: transcode\n    transcode:\n      start: 150%\n",
			5, "templates.t.transcode.start", `bad percentage "150%"`},
		{"negative offset", "templates:\n  t:\n    type: sample\n    sample: {every: -3}\n", 4, "templates.t.sample.every", "negative offset"},
		{"mapping for offset", "templates:\n  t:\n    type: sprite\n    sprite:\n      every: {s: 1}\n", 5, "templates.t.sprite.every", "expected a scalar"},
		{"word for crf", "templates:\n  t:\n    type: transcode\n    transcode:\n      video: {crf: high}\n", 5, "templates.t.transcode.video.crf", "expected an integer"},
		{"word for pointer float", "templates:\n  t:\n    type: enhance\n    enhance:\n      gamma: bright\n", 5, "templates.t.enhance.gamma", "expected a number"},
		{"bad template name", "templates:\n  'a b': {type: probe}\n", 2, "templates", `invalid name "a b"`},

		// Validate errors, at the template.
		{"validate error", "templates:\n  x: {type: probe}\n  thumbs:\n    type: snapshot\n    snapshot: {times: [1s], format: bmp}\n",
			3, "templates.thumbs", `unknown image format "bmp"`},
		{"missing settings", "templates:\n  hd:\n    type: transcode\n", 2, "templates.hd", `transcode: missing "transcode" settings`},
		{"unknown type", "templates:\n  hd:\n    type: cut\n", 2, "templates.hd", `unknown operation type "cut"`},
		{"no type", "templates:\n  hd:\n    name: x\n", 2, "templates.hd", "operation without a type"},
		{"adaptive bad bitrate", "templates:\n  abr:\n    type: adaptive\n    adaptive:\n      rungs: [{height: 720, video_bitrate: fast}]\n",
			2, "templates.abr", `bad bitrate "fast"`},

		// References from templates.
		{"unknown watermark in transcode", wm + "templates:\n  hd:\n    type: transcode\n    transcode:\n      watermarks: [logo, nologo]\n",
			7, "templates.hd.transcode.watermarks[1]", `unknown watermark "nologo" (defined: logo)`},
		{"unknown watermark name", "templates:\n  w:\n    type: watermark\n    watermark:\n      names:\n        - logo\n",
			6, "templates.w.watermark.names[0]", `unknown watermark "logo" (none are defined in watermarks)`},
		{"enhancement not an enhance template", "templates:\n  hd:\n    type: transcode\n    transcode: {enhancements: [thumbs]}\n  thumbs: {type: snapshot, snapshot: {times: [1s]}}\n",
			4, "templates.hd.transcode.enhancements[0]", `unknown enhance template "thumbs"`},

		// Schemes.
		{"unknown template in scheme", schemeYAML("  - name: a\n    operations:\n      - template: mp4_720p\n      - template: mp4_1080p\n"),
			5, "schemes[0].operations[1].template", `unknown template "mp4_1080p" (defined: mp4_720p, thumbnails)`},
		{"template and inline", schemeYAML("  - name: a\n    operations:\n      - template: thumbnails\n        type: snapshot\n"),
			5, "schemes[0].operations[0].type", "either template: or an inline operation, not both"},
		{"template and inline settings", schemeYAML("  - name: a\n    operations:\n      - template: thumbnails\n        snapshot: {times: [1s]}\n"),
			5, "schemes[0].operations[0].snapshot", "not both"},
		{"neither template nor type", schemeYAML("  - name: a\n    operations:\n      - {}\n"),
			4, "schemes[0].operations[0]", "needs template: NAME or an inline operation"},
		{"inline validate error", schemeYAML("  - name: a\n    operations:\n      - template: thumbnails\n      - type: snapshot\n        snapshot: {width: 10}\n"),
			5, "schemes[0].operations[1]", "snapshot: no times"},
		{"inline unknown watermark", schemeYAML("  - name: a\n    operations:\n      - type: watermark\n        watermark: {names: [x]}\n"),
			5, "schemes[0].operations[0].watermark.names[0]", `unknown watermark "x"`},
		{"unknown key in inline op", schemeYAML("  - name: a\n    operations:\n      - type: snapshot\n        snapshot: {times: [1s]}\n        templat: x\n"),
			6, "schemes[0].operations[0].templat", `unknown key "templat" (valid keys: template, type, name, transcode,`},
		{"bad glob", schemeYAML("  - name: a\n    trigger:\n      watch:\n        dir: in\n        glob: '[a'\n    operations: [{template: thumbnails}]\n"),
			6, "schemes[0].trigger.watch.glob", `invalid glob "[a"`},
		{"bad recording glob", schemeYAML("  - name: a\n    trigger:\n      recording: {path: 'live/[x'}\n    operations: [{template: thumbnails}]\n"),
			4, "schemes[0].trigger.recording.path", "invalid glob"},
		{"watch without dir", schemeYAML("  - name: a\n    trigger:\n      watch: {glob: '*.mp4'}\n    operations: [{template: thumbnails}]\n"),
			4, "schemes[0].trigger.watch.dir", "needs a directory"},
		{"bucket without target", schemeYAML("  - name: a\n    trigger:\n      bucket: {target: nope}\n    operations: [{template: thumbnails}]\n"),
			4, "schemes[0].trigger.bucket.target", `no storage target "nope"`},
		{"bucket bad glob", "storage:\n  targets: [{name: s, kind: local, dir: s}]\n" + schemeYAML("  - name: a\n    trigger:\n      bucket: {target: s, glob: '[x'}\n    operations: [{template: thumbnails}]\n"),
			6, "schemes[0].trigger.bucket.glob", "invalid glob"},
		{"unknown trigger", schemeYAML("  - name: a\n    trigger:\n      cron: daily\n"), 4, "schemes[0].trigger.cron", `(valid keys: watch, recording, bucket)`},
		{"output with dotdot", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    output:\n      dir: a/../../x\n"),
			5, "schemes[0].output.dir", "must not contain .."},
		{"absolute output", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    output: {prefix: /srv/x}\n"),
			4, "schemes[0].output.prefix", "must be relative to tasks.output_dir"},
		{"output dir and prefix", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    output:\n      dir: x\n      prefix: y\n"),
			6, "schemes[0].output.prefix", "either dir or prefix"},
		{"duplicate scheme name", schemeYAML("  - {name: a, operations: [{template: thumbnails}]}\n  - {name: b, operations: [{template: thumbnails}]}\n  - name: a\n    operations: [{template: thumbnails}]\n"),
			4, "schemes[2].name", `duplicate scheme name "a" (also schemes[0])`},
		{"bad scheme name", schemeYAML("  - name: my scheme\n"), 2, "schemes[0].name", `invalid name "my scheme"`},
		{"missing scheme name", schemeYAML("  - operations: [{template: thumbnails}]\n"), 2, "schemes[0].name", `invalid name ""`},
		{"no operations", schemeYAML("  - name: a\n    enabled: false\n"), 2, "schemes[0].operations", "at least one operation"},
		{"notify mode", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    notify:\n      mode: always\n"),
			5, "schemes[0].notify.mode", `invalid value "always" (want one of: finish, change, none)`},
		{"notify webhook", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    notify:\n      webhooks:\n        - https://ok.example/x\n        - ftp://h/x\n"),
			7, "schemes[0].notify.webhooks[1]", "want http:// or https://"},
		{"notify secret alone", schemeYAML("  - name: a\n    operations: [{template: thumbnails}]\n    notify: {secret: s3cret}\n"),
			4, "schemes[0].notify.secret", "there are none"},
		{"scalar for schemes", "schemes: web\n", 1, "schemes", "expected a list"},
	}
	runParseErrorCases(t, cases)
}

// everyOperationYAML has one template of every operation type, with
// offsets written as numbers, durations, clocks and percentages.
const everyOperationYAML = `
watermarks:
  logo: {type: text, text: MPS}
templates:
  hd:
    type: transcode
    name: web
    transcode:
      container: mkv
      video: {codec: h265, width: 1280, height: 720, fill: blur, fps: 25, gop_seconds: 2, bframes: 0, rate_control: vbr, bitrate: 2500k, maxrate: 3M, preset: fast}
      audio: {codec: opus, bitrate: 96k, sample_rate: 48000, channels: 2}
      start: 1.5
      end: "00:01:02.5"
      watermarks: [logo]
      enhancements: [clean]
      read_rate: 1
  stream:
    type: transcode
    transcode:
      container: hls
      hls: {segment_seconds: 6, segment_type: fmp4}
  ladder:
    type: adaptive
    adaptive:
      rungs:
        - {height: 720, video_bitrate: 2800k, maxrate: 3M, audio_bitrate: 128k}
        - {name: low, width: 640, video_bitrate: 800k}
      video_codec: h265
      preset: medium
      segment_seconds: 2
      segment_type: ts
  stills:
    type: snapshot
    snapshot: {times: [1, 2.5s, "10%", "00:00:03"], format: png, width: 320, height: 180}
  every10:
    type: sample
    sample: {every: 10s, max: 20, format: webp, height: 90}
  sheet:
    type: sprite
    sprite: {every: "5%", rows: 4, columns: 6, width: 120, format: png}
  preview:
    type: animated
    animated: {format: webp, start: 2, end: 4s, fps: 12, width: 240}
  branded:
    type: watermark
    watermark:
      names: [logo]
      start: 0
      end: "50%"
      container: mp4
      video: {codec: h264, crf: 20}
      audio: {codec: copy}
  clean:
    type: enhance
    enhance:
      denoise: nlmeans
      sharpen: cas
      deinterlace: true
      brightness: 0.1
      contrast: 1.2
      saturation: 0
      gamma: 0.9
      upscale: {width: 1920, method: zscale}
      fps: 50
      interpolate: true
      loudnorm: {i: -23, tp: -2, lra: 7}
      audio_denoise: true
      container: mov_is_not_checked_here
  towebm:
    type: remux
    remux: {container: ts}
  tohls:
    type: remux
    remux:
      container: hls
      hls: {segment_seconds: 4}
  info:
    type: probe
`

// TestTemplatesDecodeEveryType decodes one template of each operation type
// and spot-checks fields of every kind: strings, ints, floats, pointers,
// offsets, inline image settings, lists of structs.
func TestTemplatesDecodeEveryType(t *testing.T) {
	y := strings.Replace(everyOperationYAML, "container: mov_is_not_checked_here", "container: mkv", 1)
	cfg, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	ops := cfg.Templates
	if len(ops) != 12 {
		t.Fatalf("%d templates: %v", len(ops), names(ops))
	}
	types := map[string]bool{}
	for _, op := range ops {
		types[op.Type] = true
	}
	if len(types) != 10 {
		t.Errorf("types = %v, want all 10", types)
	}
	hd := ops["hd"]
	tr := hd.Transcode
	if hd.Name != "web" || tr == nil || tr.Container != "mkv" || tr.Video.Codec != "h265" || tr.Video.Height != 720 || tr.Video.FPS != 25 ||
		tr.Video.GOPSeconds != 2 || tr.Video.BFrames == nil || *tr.Video.BFrames != 0 || tr.Video.MaxRate != "3M" ||
		tr.Audio.SampleRate != 48000 || tr.Start != "1.5" || tr.End != "00:01:02.5" || tr.ReadRate != 1 ||
		!reflect.DeepEqual(tr.Watermarks, []string{"logo"}) || !reflect.DeepEqual(tr.Enhancements, []string{"clean"}) {
		t.Errorf("hd = %+v %+v", hd, tr)
	}
	if h := ops["stream"].Transcode.HLS; h.SegmentSeconds != 6 || h.SegmentType != "fmp4" {
		t.Errorf("stream hls = %+v", h)
	}
	if a := ops["ladder"].Adaptive; a == nil || len(a.Rungs) != 2 || a.Rungs[0].MaxRate != "3M" || a.Rungs[1].Name != "low" ||
		a.Rungs[1].Width != 640 || a.VideoCodec != "h265" || a.SegmentSeconds != 2 || a.SegmentType != "ts" {
		t.Errorf("ladder = %+v", a)
	}
	if s := ops["stills"].Snapshot; s == nil || !reflect.DeepEqual(s.Times, []vod.Offset{"1", "2.5s", "10%", "00:00:03"}) ||
		s.Format != "png" || s.Width != 320 || s.Height != 180 {
		t.Errorf("stills = %+v", s)
	}
	if s := ops["every10"].Sample; s == nil || s.Every != "10s" || s.Max != 20 || s.Format != "webp" || s.Height != 90 {
		t.Errorf("every10 = %+v", s)
	}
	if s := ops["sheet"].Sprite; s == nil || s.Every != "5%" || s.Rows != 4 || s.Columns != 6 || s.Width != 120 {
		t.Errorf("sheet = %+v", s)
	}
	if a := ops["preview"].Animated; a == nil || a.Start != "2" || a.End != "4s" || a.FPS != 12 || a.Format != "webp" {
		t.Errorf("preview = %+v", a)
	}
	if w := ops["branded"].Watermark; w == nil || w.Names[0] != "logo" || w.End != "50%" || w.Video.CRF != 20 || w.Audio.Codec != "copy" {
		t.Errorf("branded = %+v", w)
	}
	e := ops["clean"].Enhance
	if e == nil || e.Denoise != "nlmeans" || !e.Deinterlace || e.Brightness == nil || *e.Brightness != 0.1 ||
		e.Saturation == nil || *e.Saturation != 0 || e.Gamma == nil || *e.Gamma != 0.9 || e.Upscale == nil ||
		e.Upscale.Width != 1920 || e.Upscale.Method != "zscale" || e.Loudnorm == nil || e.Loudnorm.I != -23 ||
		e.Loudnorm.LRA != 7 || !e.Interpolate || !e.AudioDenoise || e.FPS != 50 {
		t.Errorf("clean = %+v", e)
	}
	if r := ops["tohls"].Remux; r == nil || r.Container != "hls" || r.HLS.SegmentSeconds != 4 {
		t.Errorf("tohls = %+v", r)
	}
	if ops["info"].Type != vod.TypeProbe {
		t.Errorf("info = %+v", ops["info"])
	}
	// What the file holds is what a JSON task request would: the API can
	// show templates and the task service can take them as they are.
	b, err := json.Marshal(ops["stills"])
	if err != nil {
		t.Fatal(err)
	}
	var back vod.Operation
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, ops["stills"]) {
		t.Errorf("JSON round trip: %s -> %+v (%v)", b, back, err)
	}

	// An invalid template is caught by its own Validate, at its key.
	_, err = Parse("t.yaml", []byte(everyOperationYAML))
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "templates.clean" || !strings.Contains(err.Error(), "mov_is_not_checked_here") {
		t.Errorf("invalid enhance container: %v", err)
	}
}

// TestTemplatesReplaceDefaults: a templates mapping replaces the default
// one as a whole; `{}` leaves none.
func TestTemplatesReplaceDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("templates:\n  info: {type: probe}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Templates) != 1 || cfg.Templates["info"].Type != vod.TypeProbe {
		t.Errorf("templates = %+v", cfg.Templates)
	}
	cfg, err = Parse("t.yaml", []byte("templates: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Templates != nil {
		t.Errorf("templates = %+v", cfg.Templates)
	}
	// A scheme cannot refer to a default template the file removed.
	_, err = Parse("t.yaml", []byte("templates: {}\nschemes:\n  - name: a\n    operations: [{template: thumbnails}]\n"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:4: schemes[0].operations[0].template: unknown template \"thumbnails\" (none are defined in templates)") {
		t.Errorf("err = %v", err)
	}
}

// TestSchemeInlineAndTemplateOps decodes a scheme mixing template
// references and inline operations and checks the per-scheme defaults.
func TestSchemeInlineAndTemplateOps(t *testing.T) {
	y := `
watermarks:
  logo: {type: text, text: MPS}
schemes:
  - name: ingest
    trigger:
      watch: {dir: /srv/in, glob: "*.mov"}
    operations:
      - template: mp4_720p
      - type: watermark
        name: branded
        watermark: {names: [logo], end: 10s}
      - template: thumbnails
    output: {dir: ingest/out}
  - name: api_only
    enabled: false
    priority: -5
    operations:
      - type: probe
    notify: {mode: change, webhooks: ["https://u:pw@hooks.example/x"], secret: k}
`
	cfg, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Schemes) != 2 {
		t.Fatalf("schemes = %+v", cfg.Schemes)
	}
	in := cfg.Schemes[0]
	if in.Name != "ingest" || !in.Enabled || in.Priority != 0 || in.Trigger.Recording != nil ||
		*in.Trigger.Watch != (WatchTrigger{Dir: "/srv/in", Glob: "*.mov"}) || in.Output != (SchemeOutput{Dir: "ingest/out"}) ||
		in.Notify.Mode != NotifyFinish || in.Notify.Webhooks != nil {
		t.Errorf("ingest = %+v", in)
	}
	ops := in.Operations
	if len(ops) != 3 || ops[0].Template != "mp4_720p" || ops[0].Type != "" || ops[2].Template != "thumbnails" ||
		ops[1].Template != "" || ops[1].Type != vod.TypeWatermark || ops[1].Name != "branded" ||
		ops[1].Watermark == nil || ops[1].Watermark.End != "10s" || ops[1].Watermark.Names[0] != "logo" {
		t.Errorf("ingest operations = %+v", ops)
	}
	api := cfg.Schemes[1]
	if api.Enabled || api.Priority != -5 || api.Trigger.Watch != nil || api.Trigger.Recording != nil ||
		len(api.Operations) != 1 || api.Operations[0].Type != vod.TypeProbe || api.Notify.Mode != NotifyChange {
		t.Errorf("api_only = %+v", api)
	}
	// The same scheme as JSON (the API's view) keeps the inline operation
	// flat, as a task request writes it.
	b, _ := json.Marshal(in.Operations[1])
	if !strings.Contains(string(b), `"type":"watermark"`) || strings.Contains(string(b), "Operation") {
		t.Errorf("inline op JSON = %s", b)
	}
	// Notify secrets and URL passwords are hidden from the API's view
	// without touching the config.
	r := cfg.Redacted()
	if n := r.Schemes[1].Notify; n.Secret != redactedSecret || strings.Contains(n.Webhooks[0], "pw") {
		t.Errorf("redacted notify = %+v", n)
	}
	if n := cfg.Schemes[1].Notify; n.Secret != "k" || !strings.Contains(n.Webhooks[0], "pw") {
		t.Errorf("Redacted changed the config: %+v", n)
	}
	// Validate (for configs built by the API) applies the same rules.
	cfg.Schemes[0].Operations[0].Template = "nope"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `schemes[0].operations[0].template: unknown template "nope"`) {
		t.Errorf("Validate = %v", err)
	}
}

// jsonOnly is a scalar type that only knows JSON, like vod.Offset did.
type jsonOnly struct{ v string }

func (j *jsonOnly) UnmarshalJSON(b []byte) error {
	if string(b) == `"bad"` {
		return errors.New("bad value")
	}
	j.v = string(b)
	return nil
}

type embedded struct {
	A int `yaml:"a"`
}

type inlined struct {
	B int `yaml:"b"`
}

// TestDecodeGeneralRules covers the decoder rules the VOD types needed: a
// json.Unmarshaler gets a scalar as JSON, and embedded structs (tagged
// inline or untagged, as encoding/json promotes them) contribute their keys.
func TestDecodeGeneralRules(t *testing.T) {
	var v struct {
		S  jsonOnly   `yaml:"s"`
		N  jsonOnly   `yaml:"n"`
		Bo jsonOnly   `yaml:"b2"`
		L  []jsonOnly `yaml:"l"`
		embedded
		inlined `yaml:",inline"`
		Own     int `yaml:"own"`
	}
	src := sources{}
	y := "s: text\nn: 1.5\nb2: true\nl: [x, 2]\na: 1\nb: 2\nown: 3\n"
	if err := decodeInto("t.yaml", []byte(y), reflect.ValueOf(&v).Elem(), src); err != nil {
		t.Fatal(err)
	}
	if v.S.v != `"text"` || v.N.v != "1.5" || v.Bo.v != "true" || len(v.L) != 2 || v.L[1].v != "2" || v.A != 1 || v.inlined.B != 2 || v.Own != 3 {
		t.Errorf("decoded %+v", v)
	}
	if src["b"].line != 6 {
		t.Errorf("inline key line = %d", src["b"].line)
	}
	err := decodeInto("t.yaml", []byte("s: ok\nn: bad\n"), reflect.ValueOf(&v).Elem(), sources{})
	if err == nil || err.Error() != "t.yaml:2: n: bad value" {
		t.Errorf("err = %v", err)
	}
	err = decodeInto("t.yaml", []byte("c: 1\n"), reflect.ValueOf(&v).Elem(), sources{})
	if err == nil || !strings.Contains(err.Error(), "valid keys: s, n, b2, l, a, b, own") {
		t.Errorf("err = %v", err)
	}
}
