package aispec

import (
	"strings"
	"testing"
)

// TestVisionSpecsValidate checks that the highlights, summary, roi and
// erase settings refuse what cannot run, with a message naming the key.
func TestVisionSpecsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec interface{ Validate() error }
		want string // "" = valid
	}{
		{"highlights defaults", Highlights{}, ""},
		{"highlights max below min", Highlights{MinSeconds: 8, MaxSeconds: 4}, "max_seconds"},
		{"highlights top", Highlights{Top: 500}, "top"},
		{"highlights empty keyword", Highlights{Keywords: []string{" "}}, "empty keyword"},
		{"highlights transcript not json", Highlights{Transcript: "a.txt"}, "not a .json file"},
		{"highlights transcript climbs", Highlights{Transcript: "../x/t.json"}, "climbs out"},
		{"highlights transcript absolute", Highlights{Transcript: "/etc/mps/t.json"}, "must be relative"},
		{"highlights crossfade ok", Highlights{Crossfade: 0.5}, ""},
		{"highlights crossfade negative", Highlights{Crossfade: -1}, "crossfade"},
		{"highlights crossfade too long for clips", Highlights{MinSeconds: 2, Crossfade: 1.5}, "crossfade"},
		{"summary transcript absolute", Summary{Transcript: "/var/lib/x.json"}, "must be relative"},
		{"erase from_roi absolute", Erase{FromROI: "/tmp/roi.json"}, "must be relative"},
		{"summary ok", Summary{Transcript: "subtitles/t.json"}, ""},
		{"summary no transcript", Summary{}, "missing \"transcript\""},
		{"summary context", Summary{Transcript: "t.json", ContextTokens: 10}, "context_tokens"},
		{"roi defaults", ROI{}, ""},
		{"roi fps", ROI{SampleFPS: 100}, "sample_fps"},
		{"roi qoffset", ROI{Encode: &ROIEncode{QOffset: -3}}, "qoffset"},
		{"erase ok", Erase{Boxes: []EraseBox{{X: 1, Y: 1, W: 10, H: 10, Start: 1, End: 2}}}, ""},
		{"erase nothing", Erase{}, "no boxes"},
		{"erase from ocr", Erase{FromOCR: true}, ""},
		{"erase empty box", Erase{Boxes: []EraseBox{{W: 0, H: 5}}}, "positive"},
		{"erase bad range", Erase{Boxes: []EraseBox{{W: 5, H: 5, Start: 3, End: 2}}}, "time range"},
		{"erase roi not json", Erase{FromROI: "roi.txt"}, "from_roi"},
		{"transcode roi", TranscodeROI{QOffset: 2}, "qoffset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
