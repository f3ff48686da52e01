package vod

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"mps/internal/dash"
	"mps/internal/testutil"
)

// TestAdaptiveDASH packages a ladder with dash: true and checks the MPD
// next to master.m3u8 names the HLS segments (no second copy), that
// ffprobe reads it with every rung, and that dash.js plays it in Chromium.
func TestAdaptiveDASH(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	spec := &AdaptiveSpec{SegmentSeconds: 2, Dash: true, Rungs: []Rung{
		{Height: 240, VideoBitrate: "500k"},
		{Name: "low", Width: 160, Height: 120, VideoBitrate: "150k", AudioBitrate: "64k"},
	}}
	res, dir := runOp(t, Operation{Type: TypeAdaptive, Adaptive: spec}, testFile("h264_aac_1s_gop.mp4"))
	var names []string
	for _, f := range res.Files {
		names = append(names, f.Name)
	}
	want := []string{"240p/index.m3u8", "240p/init_0.mp4", "240p/seg_0000.m4s", "240p/seg_0001.m4s", "240p/seg_0002.m4s",
		"low/index.m3u8", "low/init_1.mp4", "low/seg_0000.m4s", "low/seg_0001.m4s", "low/seg_0002.m4s",
		DASHManifest, MasterPlaylist}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("result files %v, want %v (one copy of each segment, plus the MPD)", names, want)
	}

	b, err := os.ReadFile(filepath.Join(dir, DASHManifest))
	if err != nil {
		t.Fatal(err)
	}
	m, err := dash.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "static" || m.MediaPresentationDuration != "PT6S" || len(m.Periods) != 1 {
		t.Fatalf("MPD: type %q duration %q:\n%s", m.Type, m.MediaPresentationDuration, b)
	}
	reps := m.Periods[0].AdaptationSets[0].Representations
	if len(reps) != 2 || reps[0].ID != "240p" || reps[1].Width != 160 || reps[1].Codecs == "" {
		t.Fatalf("representations %+v", reps)
	}
	for _, r := range reps {
		segs, err := dash.Expand(r.SegmentTemplate.SegmentTimeline.S)
		if err != nil || len(segs) != 3 {
			t.Errorf("%s: timeline %v %v, want 3 segments", r.ID, segs, err)
		}
	}

	facts := probeMPD(t, filepath.Join(dir, DASHManifest))
	if !near(facts.duration, 6, 0.3) || !slices.Equal(facts.widths, []int{160, 320}) || facts.audio == 0 {
		t.Errorf("ffprobe of the MPD: %+v, want 6 s, widths [160 320] and audio", facts)
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := testutil.PlayDASH(t, ctx, srv.URL+"/"+DASHManifest, 5, "--switch")
	r.CheckPlayed(t, 2, 30)
	if r.SwitchTo == "" || !slices.Contains(r.Rendered, r.SwitchTo) {
		t.Errorf("asked dash.js to switch from %q to %q; rendered %v", r.SwitchFrom, r.SwitchTo, r.Rendered)
	}
	if got := len(r.Reps["video"]); got != 2 {
		t.Errorf("dash.js sees %d video representations, want 2 (%+v)", got, r.Reps)
	}
	if last := r.Samples[len(r.Samples)-1]; last.Audio == nil || *last.Audio == 0 {
		t.Errorf("no audio decoded (%v)", last.Audio)
	}
}

// mpdFacts is what ffprobe reads from an MPD.
type mpdFacts struct {
	duration float64
	widths   []int // of the video streams, sorted
	audio    int   // audio streams
}

func probeMPD(t *testing.T, url string) mpdFacts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries",
		"stream=codec_type,codec_name,width:format=duration", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var p struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Width     int    `json:"width"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var f mpdFacts
	f.duration, _ = strconv.ParseFloat(p.Format.Duration, 64)
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			f.widths = append(f.widths, s.Width)
		case "audio":
			f.audio++
		}
	}
	slices.Sort(f.widths)
	return f
}

// TestAdaptiveDASHNeedsFMP4 refuses an MPD over MPEG-TS segments.
func TestAdaptiveDASHNeedsFMP4(t *testing.T) {
	s := &AdaptiveSpec{Dash: true, SegmentType: "ts", Rungs: []Rung{{Height: 240, VideoBitrate: "500k"}}}
	if err := s.validate(); err == nil {
		t.Fatal("dash with ts segments accepted")
	}
	s.SegmentType = "fmp4"
	if err := s.validate(); err != nil {
		t.Fatalf("dash with fmp4: %v", err)
	}
}

// FuzzAdaptiveMPD feeds arbitrary playlists to the MPD builder: it must
// fail cleanly or write an MPD that reads back.
func FuzzAdaptiveMPD(f *testing.F) {
	master := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=550000,RESOLUTION=320x240,CODECS=\"avc1.64000d,mp4a.40.2\"\n240p/index.m3u8\n"
	media := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.000000,\nseg_0000.m4s\n#EXTINF:1.500000,\nseg_0001.m4s\n#EXT-X-ENDLIST\n"
	f.Add([]byte(master), []byte(media))
	f.Add([]byte(master), []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg_0003.m4s\n#EXT-X-ENDLIST\n"))
	f.Fuzz(func(t *testing.T, master, media []byte) {
		b, err := adaptiveMPD(master, func(string) ([]byte, error) { return media, nil })
		if err != nil {
			return
		}
		if _, err := dash.Parse(b); err != nil {
			t.Fatalf("written MPD does not read back: %v\n%s", err, b)
		}
	})
}
