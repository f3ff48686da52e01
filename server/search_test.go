package server

import (
	"context"
	"math"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
	"mps/internal/vod"
)

// TestSearchRecordedSpeech publishes flite speech over RTMP into a
// recorded path whose segments a scheme transcribes, then finds a spoken
// sentence through /api/v1/search at the offset it was spoken.
func TestSearchRecordedSpeech(t *testing.T) {
	needFFmpeg(t)
	if _, err := exec.LookPath("pocketsphinx_continuous"); err != nil {
		t.Fatal("pocketsphinx_continuous not found: run `make deps`")
	}
	set := []speechtest.Sentence{speechtest.Set[0], speechtest.Set[4], speechtest.Set[10]}
	pcm, placed := speechtest.Layout(t, set, 1.0, 1.5)
	file := speechtest.Video(t, t.TempDir(), "talk.flv", pcm)

	cfg := testConfig(t)
	on := true
	cfg.Paths = []config.PathRule{{Name: "live/talk", Record: &config.RecordOverride{Enabled: &on}}}
	cfg.Schemes = []config.Scheme{{
		Name: "transcribe", Enabled: true,
		Trigger:    config.SchemeTrigger{Recording: &config.RecordingTrigger{Path: "live/*"}},
		Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeSubtitles}}},
	}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := publishRTMP(t, ctx, file, "rtmp://"+s.RTMPAddr()+"/live/talk", false).Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	// The third sentence: "the meeting starts in ten minutes".
	q := url.Values{"q": {"meeting minutes"}, "path": {"live/talk"}}
	api := "http://" + s.HTTPAddr() + "/api/v1/search?" + q.Encode()
	var body struct {
		Hits []struct {
			Path, Segment, Snippet string
			Offset                 float64
			Time                   *time.Time
		}
	}
	testutil.WaitFor(t, 60*time.Second, "the sentence in the search index", func() bool {
		getJSON(t, api, &body)
		return len(body.Hits) > 0
	})
	h := body.Hits[0]
	if h.Path != "live/talk" || h.Segment == "" || h.Time == nil {
		t.Fatalf("hit %+v", h)
	}
	if d := math.Abs(h.Offset - placed[2].Start); d > 1 {
		t.Errorf("found at %.2f s, spoken at %.2f s", h.Offset, placed[2].Start)
	}
	// Another path has nothing.
	q.Set("path", "live/other")
	getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/search?"+q.Encode(), &body)
	if len(body.Hits) != 0 {
		t.Errorf("hits in another path: %+v", body.Hits)
	}
}
