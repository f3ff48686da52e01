package hls

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/internal/dash"
	"mps/internal/pathmgr"
	"mps/internal/testutil"
)

// getMPD fetches and parses a manifest, checking its content type.
func getMPD(t *testing.T, ctx context.Context, url string) *dash.MPD {
	t.Helper()
	code, h, b := get(t, ctx, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
	if ct := h.Get("Content-Type"); ct != typeMPD {
		t.Errorf("Content-Type %q, want %q", ct, typeMPD)
	}
	m, err := dash.Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return m
}

// probeURL runs ffprobe on a URL and returns the video widths (sorted),
// the number of audio streams and the duration (0 when unknown).
func probeURL(t *testing.T, ctx context.Context, url string) ([]int, int, float64) {
	t.Helper()
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
	var widths []int
	audio := 0
	for _, s := range p.Streams {
		if s.CodecType == "video" {
			widths = append(widths, s.Width)
		} else if s.CodecType == "audio" {
			audio++
		}
	}
	slices.Sort(widths)
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return widths, audio, d
}

// TestDASHLiveLadder reads the dynamic MPD of a two-rung ladder: one
// adaptation set with both rungs, a SegmentTimeline whose segment names
// are the ones the HLS playlists list (the same segments, fetched from
// the same handler), credentials carried into the segment URLs, and
// ffprobe reading every rung through it.
func TestDASHLiveLadder(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	limit(t)
	e := startLadder(t, VariantLowLatency)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	waitSegments(t, ctx, e.base+"live/lad/hi/stream.m3u8", 3)
	waitSegments(t, ctx, e.base+"live/lad/lo/stream.m3u8", 3)

	m := getMPD(t, ctx, e.base+"live/lad/index.mpd?token=abc")
	if m.Type != "dynamic" || m.AvailabilityStartTime == "" || m.MinimumUpdatePeriod == "" || len(m.UTCTiming) != 1 {
		t.Fatalf("not a live MPD: %+v", m)
	}
	sets := m.Periods[0].AdaptationSets
	if len(sets) != 1 || len(sets[0].Representations) != 2 || sets[0].MimeType != "video/mp4" {
		t.Fatalf("want one video adaptation set with 2 representations: %+v", sets)
	}
	widths := map[string]int{}
	for _, r := range sets[0].Representations {
		widths[r.ID] = r.Width
		st := r.SegmentTemplate
		if !strings.Contains(r.Codecs, "avc1.") || !strings.Contains(r.Codecs, "mp4a.40.2") {
			t.Errorf("%s codecs %q", r.ID, r.Codecs)
		}
		rung := strings.TrimPrefix(r.ID, "live/lad/")
		if !strings.HasPrefix(st.Media, rung+"/seg_") || !strings.HasSuffix(st.Media, "_$Number$.mp4?token=abc") {
			t.Errorf("%s media template %q", r.ID, st.Media)
		}
		segs, err := dash.Expand(st.SegmentTimeline.S)
		if err != nil || len(segs) < 3 {
			t.Fatalf("%s timeline %v (%v), want 3 segments or more", r.ID, segs, err)
		}
		// The last listed segment is the one the HLS playlist names.
		last := st.StartNumber + uint64(len(segs)) - 1
		name := strings.TrimPrefix(strings.Replace(strings.TrimSuffix(st.Media, "?token=abc"), "$Number$", strconv.FormatUint(last, 10), 1), rung+"/")
		hlsPl := mediaPlaylist(t, ctx, e.base+"live/lad/"+rung+"/stream.m3u8")
		listed := false
		for _, s := range hlsPl.Segments {
			listed = listed || s.URI == name
		}
		if !listed {
			t.Errorf("%s: segment %s of the MPD is not in the HLS playlist", r.ID, name)
		}
		code, h, b := get(t, ctx, e.base+"live/lad/"+rung+"/"+name)
		if code != http.StatusOK || h.Get("Content-Type") != "video/mp4" || len(b) == 0 {
			t.Errorf("%s: GET %s: %d %s", r.ID, name, code, h.Get("Content-Type"))
		}
		// Segment times are the fragments' decode times, in the video clock.
		if st.Timescale != 90000 {
			t.Errorf("%s timescale %d", r.ID, st.Timescale)
		}
	}
	if widths["live/lad/hi"] != 320 || widths["live/lad/lo"] != 160 {
		t.Errorf("representation widths %v", widths)
	}
	w, audio, _ := probeURL(t, ctx, e.base+"live/lad/index.mpd")
	if !slices.Equal(w, []int{160, 320}) || audio == 0 {
		t.Errorf("ffprobe of the live MPD: video widths %v, %d audio streams; want [160 320] and audio", w, audio)
	}
}

// TestDASHFileStatic: the MPD of a finished file is static, with the
// file's duration and streams for ffprobe (audio alone too).
func TestDASHFileStatic(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	for _, c := range []struct {
		file   string
		widths []int
		mime   string
		secs   float64
	}{
		{"h264_aac_1s_gop.mp4", []int{320}, "video/mp4", 6},
		{"audio_only.m4a", nil, "audio/mp4", 4},
	} {
		t.Run(c.file, func(t *testing.T) {
			limit(t)
			e := newEnv(t, ruleWith(PathConfig{Variant: VariantFMP4, AlwaysOn: true, CloseAfter: 30 * time.Second}, nil), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p := e.publish(t, "vod/file", c.file, pubOpts{lossless: true})
			<-p.done
			url := e.base + "vod/file/index.mpd"
			var m *dash.MPD
			testutil.WaitFor(t, 20*time.Second, "a static MPD", func() bool {
				m = getMPD(t, ctx, url)
				return m.Type == "static"
			})
			if mime := m.Periods[0].AdaptationSets[0].MimeType; mime != c.mime {
				t.Errorf("mime type %q, want %q", mime, c.mime)
			}
			w, audio, d := probeURL(t, ctx, url)
			if !slices.Equal(w, c.widths) || audio != 1 || d < c.secs-0.3 || d > c.secs+0.3 {
				t.Errorf("ffprobe: widths %v, %d audio, %.2f s (MPD says %s); want %v, 1 audio, %g s", w, audio, d, m.MediaPresentationDuration, c.widths, c.secs)
			}
		})
	}
}

// TestDASHRefusals: a locked path's MPD needs the credentials its
// playlists need; an MPEG-TS path has no MPD.
func TestDASHRefusals(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	rule := func(p string) PathConfig {
		c := PathConfig{AlwaysOn: true}
		if strings.HasPrefix(p, "ts/") {
			c.Variant = VariantMPEGTS
		}
		return c
	}
	e := newEnv(t, rule, func(p string) pathmgr.Policy {
		if strings.HasPrefix(p, "locked/") {
			return pathmgr.Policy{ReadUser: "viewer", ReadPass: "s3cret"}
		}
		return pathmgr.Policy{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e.publish(t, "locked/a", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	e.publish(t, "ts/a", "h264_aac_1s_gop.mp4", pubOpts{loop: true})
	code, h, _ := get(t, ctx, e.base+"locked/a/index.mpd")
	if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("locked MPD without credentials: %d %q, want 401 with a challenge", code, h.Get("WWW-Authenticate"))
	}
	u := strings.Replace(e.base, "http://", "http://viewer:s3cret@", 1)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"locked/a/index.mpd", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != typeMPD {
		t.Errorf("locked MPD with credentials: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if code, _, b := get(t, ctx, e.base+"ts/a/index.mpd"); code != http.StatusUnsupportedMediaType {
		t.Errorf("MPD of an MPEG-TS path: %d %s, want 415", code, b)
	}
}

// TestBrowserDASHLive plays the ladder's live MPD with dash.js in
// headless Chromium: both rungs are seen, frames advance, and a switch to
// the other rung is rendered and playback goes on.
func TestBrowserDASHLive(t *testing.T) {
	needTools(t, "ffmpeg")
	limit(t)
	e := startLadder(t, VariantLowLatency)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitSegments(t, ctx, e.base+"live/lad/hi/stream.m3u8", 3)
	waitSegments(t, ctx, e.base+"live/lad/lo/stream.m3u8", 3)
	_, _, mpdBody := get(t, ctx, e.base+"live/lad/index.mpd")
	defer func() {
		if t.Failed() {
			t.Logf("MPD at start:\n%s", mpdBody)
		}
	}()
	r := testutil.PlayDASH(t, ctx, e.base+"live/lad/index.mpd", 8, "--switch")
	r.CheckPlayed(t, 2, 30)
	// The rungs' timelines are aligned: switching keeps playing.
	if r.SwitchTo == "" || !slices.Contains(r.Rendered, r.SwitchTo) {
		t.Errorf("asked dash.js to switch from %q to %q; rendered %v", r.SwitchFrom, r.SwitchTo, r.Rendered)
	}
	if last := r.Samples[len(r.Samples)-1]; last.T-r.SwitchAt < 2 {
		t.Errorf("position %.2f s, switched at %.2f s: playback did not go on after the switch", last.T, r.SwitchAt)
	}
	if r.Dynamic == nil || !*r.Dynamic {
		t.Errorf("dash.js did not see a live stream")
	}
	if got := len(r.Reps["video"]); got != 2 {
		t.Errorf("dash.js sees %d video representations, want 2: %+v", got, r.Reps)
	}
	var lat []float64
	for _, s := range r.Samples {
		if s.Latency != nil && s.T > 0 {
			lat = append(lat, *s.Latency)
		}
	}
	t.Logf("dash.js live latency median %.2f s over %d samples; switched %s -> %s at %.2f s, rendered %v", median(lat), len(lat), r.SwitchFrom, r.SwitchTo, r.SwitchAt, r.Rendered)
}
