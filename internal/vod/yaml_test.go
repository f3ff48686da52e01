package vod

import (
	"testing"

	"github.com/goccy/go-yaml"
)

// TestYAMLTemplates: templates written in the config's YAML decode into
// operations that validate, with offsets given as numbers or strings.
func TestYAMLTemplates(t *testing.T) {
	src := `
hd:
  type: transcode
  transcode:
    container: mp4
    video: {codec: h264, height: 720, gop_seconds: 2, bframes: 0, rate_control: vbr, bitrate: 2500k}
    audio: {codec: aac, bitrate: 128k}
    start: 1.5
    end: "50%"
thumbs:
  type: snapshot
  snapshot: {times: [1, 2.5s, "10%"], width: 320}
ladder:
  type: adaptive
  adaptive:
    rungs:
      - {height: 720, video_bitrate: 2800k}
      - {name: low, height: 360, video_bitrate: 800k}
`
	var ops map[string]Operation
	if err := yaml.Unmarshal([]byte(src), &ops); err != nil {
		t.Fatal(err)
	}
	for name, op := range ops {
		if err := op.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	hd := ops["hd"].Transcode
	if hd == nil || hd.Video.Height != 720 || hd.Video.BFrames == nil || *hd.Video.BFrames != 0 || hd.Start != "1.5" || hd.End != "50%" {
		t.Errorf("hd = %+v", hd)
	}
	if s := ops["thumbs"].Snapshot; s == nil || len(s.Times) != 3 || s.Times[1] != "2.5s" || s.Width != 320 {
		t.Errorf("thumbs = %+v", s)
	}
	if a := ops["ladder"].Adaptive; a == nil || len(a.Rungs) != 2 || a.Rungs[1].Name != "low" {
		t.Errorf("ladder = %+v", a)
	}
}
