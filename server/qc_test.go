package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"mps/ai/qc"
	"mps/internal/config"
	"mps/internal/stream"
	"mps/internal/testutil"
	"os/exec"
)

// qcSource is a live lavfi source published over RTMP: testsrc2 with a
// tone, black pictures from 6 s to 9 s and silence from 11 s to 14 s.
func qcSource(t testing.TB, ctx context.Context, url, size string, rate int) {
	t.Helper()
	v := fmt.Sprintf("testsrc2=s=%s:r=%d,drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,6,9)'", size, rate)
	a := "sine=f=440:r=48000,volume=volume=0.3,volume=volume=0:enable='between(t,11,14)'"
	cmd, stderr := ffmpeg(ctx, "-re", "-f", "lavfi", "-i", v, "-f", "lavfi", "-i", a, "-c:v", "libx264", "-preset", "ultrafast",
		"-g", fmt.Sprint(rate), "-c:a", "aac", "-t", "20", "-f", "flv", url)
	if err := cmd.Start(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("publisher: %s", stderr)
		}
	})
}

func qcConfig(t testing.TB, decode string) *config.Config {
	cfg := testConfig(t)
	cfg.Paths = []config.PathRule{{Pattern: "live/*", QC: &config.QC{Enabled: true, Decode: decode,
		Black: config.Duration(500 * time.Millisecond), Silence: config.Duration(500 * time.Millisecond)}}}
	return cfg
}

// TestLiveQC publishes a live source that turns black and then silent and
// checks the stream.qc events (start and end of each) and the metrics.
func TestLiveQC(t *testing.T) {
	needFFmpeg(t)
	for _, mode := range []string{config.QCDecodeAll, config.QCDecodeKeyframes} {
		t.Run(mode, func(t *testing.T) { liveQC(t, mode) })
	}
}

func liveQC(t *testing.T, mode string) {
	s := startServer(t, qcConfig(t, mode))
	sub := s.Bus().Subscribe(256)
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	qcSource(t, ctx, "rtmp://"+s.RTMPAddr()+"/live/qc", "320x180", 25)
	st := testutil.WaitStream(t, s.Paths(), "live/qc", nil, 10*time.Second)
	published := st.Created()
	// When the first black picture and the first silent audio reach the
	// server, by their timestamps: the events' delay is measured from
	// there (the encoder's and the network's delay are not the server's).
	arrived := make(chan [2]time.Time, 1)
	go func() {
		rd := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
		defer rd.Close()
		var at [2]time.Time
		var origin time.Duration = -1
		for at[0].IsZero() || at[1].IsZero() {
			u, err := rd.Read()
			if err != nil {
				return
			}
			if origin < 0 {
				origin = u.PTS
			}
			switch pts := u.PTS - origin; {
			case u.Track.IsVideo() && pts >= 6*time.Second && at[0].IsZero():
				at[0] = time.Now()
			case !u.Track.IsVideo() && pts >= 11*time.Second && at[1].IsZero():
				at[1] = time.Now()
			}
		}
		arrived <- at
	}()

	type seen struct {
		at    time.Time
		since time.Time
	}
	got := map[string]seen{}
	want := []string{"black/start", "black/end", "silence/start", "silence/end"}
	deadline := time.After(40 * time.Second)
	metricsChecked := false
	complete := func() bool {
		for _, k := range want {
			if _, ok := got[k]; !ok {
				return false
			}
		}
		return metricsChecked
	}
	for !complete() {
		select {
		case ev := <-sub.C:
			if ev.Type != qc.EventQC {
				continue
			}
			if ev.Path != "live/qc" {
				t.Fatalf("event path %q", ev.Path)
			}
			key := fmt.Sprint(ev.Data["check"], "/", ev.Data["state"])
			since, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(ev.Data["since"]))
			if _, dup := got[key]; !dup {
				got[key] = seen{ev.Time, since}
			}
			t.Logf("%s at %.2f s (since %.2f s) %v", key, ev.Time.Sub(published).Seconds(), since.Sub(published).Seconds(), ev.Data)
			if key == "black/start" && !metricsChecked {
				body := scrape(t, "http://"+s.HTTPAddr()+"/metrics")
				if !strings.Contains(body, `mps_qc_problem{check="black",path="live/qc"} 1`) ||
					!strings.Contains(body, `mps_qc_value{measure="fps",path="live/qc"}`) {
					t.Fatalf("metrics during black:\n%s", grepLines(body, "mps_qc"))
				}
				metricsChecked = true
			}
		case <-deadline:
			t.Fatalf("events seen: %v, want %v", got, want)
		}
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("no %s event", k)
		}
	}
	if !got["black/start"].at.Before(got["black/end"].at) || !got["black/end"].at.Before(got["silence/start"].at) {
		t.Errorf("events out of order: %v", got)
	}
	at := <-arrived
	t.Logf("event delay after the planted problem reached the server: black %.2f s (hold 0.5 s), silence %.2f s (hold 0.5 s)",
		got["black/start"].at.Sub(at[0]).Seconds(), got["silence/start"].at.Sub(at[1]).Seconds())
	for _, k := range []string{"freeze/start", "pts_jump/start", "keyframe_interval/start"} {
		if _, ok := got[k]; ok {
			t.Errorf("false alarm %s", k)
		}
	}
}

func scrape(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCapabilities checks the endpoint reports what the ffmpeg in use has
// and which providers are local or external.
func TestCapabilities(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	cfg.AI.Providers.Moderation = &config.AIProvider{BaseURL: "http://user:secret@127.0.0.1:9/x", Model: "omni"}
	s := startServer(t, cfg)
	var c struct {
		FFmpeg struct {
			Version  string
			Encoders []string
			VMAF     bool `json:"vmaf"`
		}
		Notes     []string
		Tools     map[string]bool
		Providers map[string]struct {
			Kind, Engine, BaseURL, Model string
		}
	}
	if code := getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/capabilities", &c); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	out, _ := exec.Command("ffmpeg", "-hide_banner", "-filters").Output()
	if c.FFmpeg.Version == "" || len(c.FFmpeg.Encoders) < 10 || c.FFmpeg.VMAF != strings.Contains(string(out), " libvmaf ") || !c.Tools["ffmpeg"] {
		t.Fatalf("capabilities = %+v", c)
	}
	if !c.FFmpeg.VMAF && !strings.Contains(strings.Join(c.Notes, " "), "without libvmaf") {
		t.Fatalf("no note on the missing VMAF: %v", c.Notes)
	}
	if p := c.Providers["moderation"]; p.Kind != "external" || strings.Contains(p.BaseURL, "secret") || p.Model != "omni" {
		t.Fatalf("moderation provider = %+v", p)
	}
	if p := c.Providers["transcription"]; p.Kind != "local" || p.Engine != "pocketsphinx" {
		t.Fatalf("transcription provider = %+v", p)
	}
}
