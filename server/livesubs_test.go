package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"mps/ai/livesubs"
	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/testutil/speechtest"
)

// liveSpeech starts a server whose path live/talk has live subtitles,
// subscribes to its cue feed, publishes the sentences as flite speech over
// RTMP in real time and returns the cues received until the publish ends
// and the last one came in, with where each sentence was spoken.
func liveSpeech(t testing.TB, set []speechtest.Sentence) ([]livesubs.Cue, []speechtest.Placed) {
	if _, err := exec.LookPath("pocketsphinx_continuous"); err != nil {
		t.Fatal("pocketsphinx_continuous not found: run `make deps`")
	}
	pcm, placed := speechtest.Layout(t, set, 1.0, 1.5)
	file := speechtest.Video(t, t.TempDir(), "talk.flv", pcm)
	cfg := testConfig(t)
	cfg.Paths = []config.PathRule{{Name: "live/talk", Subtitles: &config.LiveSubtitles{Enabled: true, Language: "en"}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTPAddr()+"/api/v1/streams/live/talk/subtitles", nil)
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by the defer below
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	cues := make(chan livesubs.Cue, 256)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var c livesubs.Cue
				if json.Unmarshal([]byte(data), &c) == nil {
					cues <- c
				}
			}
		}
		close(cues)
	}()
	pub := publishRTMP(t, ctx, file, "rtmp://"+s.RTMPAddr()+"/live/talk", false)
	pubDone := make(chan error, 1)
	go func() { pubDone <- pub.Wait() }()
	var got []livesubs.Cue
	lastEnd := placed[len(placed)-1].End
	for {
		select {
		case c, ok := <-cues:
			if !ok {
				return got, placed
			}
			got = append(got, c)
			if c.End >= lastEnd-0.5 {
				return got, placed
			}
		case err := <-pubDone:
			if err != nil {
				t.Fatalf("publisher: %v", err)
			}
			pubDone = nil
			// The stream ended: its last utterance is flushed at once.
			go func() { time.Sleep(5 * time.Second); cancel() }()
		case <-ctx.Done():
			return got, placed
		}
	}
}

// TestLiveSubtitlesSSE publishes flite speech over RTMP to a path with
// live subtitles and reads the spoken words from the SSE feed.
func TestLiveSubtitlesSSE(t *testing.T) {
	needFFmpeg(t)
	set := []speechtest.Sentence{speechtest.Set[0], speechtest.Set[4], speechtest.Set[10]}
	cues, _ := liveSpeech(t, set)
	var heard []string
	for _, c := range cues {
		heard = append(heard, c.Text)
		if c.ID == 0 || c.Sent.IsZero() || c.End < c.Start || len(c.Lines) == 0 {
			t.Errorf("bad cue %+v", c)
		}
	}
	t.Logf("heard %q", heard)
	var ref []string
	for _, s := range set {
		ref = append(ref, speechtest.Words(s.Text)...)
	}
	if wer := speechtest.WER(ref, speechtest.Words(strings.Join(heard, " "))); wer > 0.35 {
		t.Fatalf("live WER %.2f: heard %q", wer, heard)
	}
}

// TestLiveSubtitlesNotEnabled: a path without the rule has no feed.
func TestLiveSubtitlesNotEnabled(t *testing.T) {
	s := startServer(t, testConfig(t))
	var body struct{ Error string }
	if code := getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/streams/live/x/subtitles", &body); code != 404 {
		t.Fatalf("status %d %+v", code, body)
	}
}

// BenchmarkLiveCueDelay measures how long after a sentence ends its last
// cue is served on the SSE feed (12 flite sentences published in real
// time over RTMP). Reports median and p95 in seconds.
func BenchmarkLiveCueDelay(b *testing.B) {
	needFFmpeg(b)
	var delays []float64
	for i := 0; i < b.N; i++ {
		cues, placed := liveSpeech(b, speechtest.Set[:12])
		for _, p := range placed {
			var last *livesubs.Cue
			for j := range cues {
				c := &cues[j]
				if c.Start >= p.Start-0.5 && c.Start < p.End {
					last = c
				}
			}
			if last == nil {
				continue
			}
			// The cue's Time is the wall clock of its stream time Start.
			end := last.Time.Add(time.Duration((p.End - last.Start) * float64(time.Second)))
			delays = append(delays, last.Sent.Sub(end).Seconds())
		}
	}
	if len(delays) == 0 {
		b.Fatal("no cues")
	}
	sort.Float64s(delays)
	b.ReportMetric(delays[len(delays)/2], "median-s")
	b.ReportMetric(delays[(len(delays)*95+99)/100-1], "p95-s")
	b.ReportMetric(float64(len(delays)), "sentences")
	b.Logf("delays %.2f", delays)
}

// TestLiveSubtitlesHLS publishes flite speech to a path with live
// subtitles and reads the spoken words from the WebVTT rendition of its
// HLS multivariant playlist while the stream runs, as a player would.
func TestLiveSubtitlesHLS(t *testing.T) {
	needFFmpeg(t)
	if _, err := exec.LookPath("pocketsphinx_continuous"); err != nil {
		t.Fatal("pocketsphinx_continuous not found: run `make deps`")
	}
	set := []speechtest.Sentence{speechtest.Set[0], speechtest.Set[4], speechtest.Set[10]}
	pcm, _ := speechtest.Layout(t, set, 1.0, 1.5)
	// Stay live a while after the last sentence: a cue recognised after
	// the stream's last segment has no segment to go in.
	pcm = append(pcm, make([]int16, 5*speechtest.Rate)...)
	file := speechtest.Video(t, t.TempDir(), "talk.flv", pcm)
	var ref []string
	for _, s := range set {
		ref = append(ref, speechtest.Words(s.Text)...)
	}
	for _, variant := range []string{"lowLatency", "mpegts"} {
		t.Run(variant, func(t *testing.T) {
			cfg := testConfig(t)
			v := variant
			cfg.Paths = []config.PathRule{{Name: "live/talk", HLS: &config.HLSOverride{Variant: &v},
				Subtitles: &config.LiveSubtitles{Enabled: true}}}
			s := startServer(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			pub := publishRTMP(t, ctx, file, "rtmp://"+s.RTMPAddr()+"/live/talk", false)
			done := make(chan error, 1)
			go func() { done <- pub.Wait() }()
			base := "http://" + s.HTTPAddr() + "/hls/live/talk/"
			testutil.WaitFor(t, 20*time.Second, "multivariant playlist with subtitles", func() bool {
				body := fetchOK(base + "index.m3u8")
				return strings.Contains(body, `TYPE=SUBTITLES`) && strings.Contains(body, `URI="subs.m3u8"`) &&
					strings.Contains(body, `SUBTITLES="subs"`)
			})
			if variant == "lowLatency" {
				checkSubsBlockingReload(t, base)
			}
			seen, cues := map[string]bool{}, map[string]bool{}
			var heard []string
			poll := func() {
				for _, line := range strings.Split(fetchOK(base+"subs.m3u8"), "\n") {
					if !strings.HasSuffix(line, ".vtt") || seen[line] {
						continue
					}
					seen[line] = true
					vtt := fetchOK(base + line)
					if !strings.HasPrefix(vtt, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:") {
						t.Errorf("%s: %q", line, vtt)
					}
					// A cue spanning several segments is repeated in each
					// (players merge them by time and text): count it once.
					for _, block := range strings.Split(vtt, "\n\n")[1:] {
						block = strings.TrimSpace(block)
						if timing, text, ok := strings.Cut(block, "\n"); ok && strings.Contains(timing, " --> ") && !cues[block] {
							cues[block] = true
							heard = append(heard, strings.ReplaceAll(strings.TrimSpace(text), "\n", " "))
						}
					}
				}
			}
			for running := true; running; {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("publisher: %v", err)
					}
					running = false
				case <-time.After(500 * time.Millisecond):
					poll()
				}
			}
			poll()
			if wer := speechtest.WER(ref, speechtest.Words(strings.Join(heard, " "))); wer > 0.5 {
				t.Fatalf("WER %.2f of the HLS subtitles: heard %q", wer, heard)
			}
			t.Logf("heard %q in %d WebVTT segments", heard, len(seen))
		})
	}
}

// checkSubsBlockingReload checks that a low-latency subtitle playlist
// offers blocking reloads and that one asking for the next segment
// answers with it: hls.js then looks for a subtitle segment just as one
// completes, while its playing position is inside it.
func checkSubsBlockingReload(t *testing.T, base string) {
	t.Helper()
	var body string
	testutil.WaitFor(t, 20*time.Second, "subtitle playlist with a segment", func() bool {
		body = fetchOK(base + "subs.m3u8")
		return strings.Contains(body, ".vtt")
	})
	if !strings.Contains(body, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES") {
		t.Fatalf("low-latency subtitle playlist without blocking reloads:\n%s", body)
	}
	var last uint64
	for _, line := range strings.Split(body, "\n") {
		if n, ok := strings.CutPrefix(line, "subs_"); ok {
			if v, err := strconv.ParseUint(strings.TrimSuffix(n, ".vtt"), 10, 64); err == nil {
				last = max(last, v)
			}
		}
	}
	next := fmt.Sprintf("subs_%d.vtt", last+1)
	if got := fetchOK(fmt.Sprintf("%ssubs.m3u8?_HLS_msn=%d", base, last+1)); !strings.Contains(got, next) {
		t.Fatalf("blocking reload for segment %d answered without %s:\n%s", last+1, next, got)
	}
}

// fetchOK GETs url and returns the body, or "" on any error or status.
func fetchOK(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestLiveSubtitlesHLSBrowser plays a path with live subtitles with hls.js
// in headless Chromium while flite speech is published, and finds the
// spoken words among the cues of the video's text tracks.
func TestLiveSubtitlesHLSBrowser(t *testing.T) {
	needFFmpeg(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not installed: run `make deps`")
	}
	script := filepath.Join("..", "hls", "browsertest", "play.mjs")
	if _, err := os.Stat(filepath.Join("..", "hls", "browsertest", "node_modules", "playwright-core")); err != nil {
		t.Fatal("playwright-core missing: run `npm ci` in hls/browsertest (make deps)")
	}
	set := []speechtest.Sentence{speechtest.Set[0], speechtest.Set[4], speechtest.Set[10], speechtest.Set[1]}
	pcm, _ := speechtest.Layout(t, set, 6.0, 1.5)
	pcm = append(pcm, make([]int16, 30*speechtest.Rate)...) // still live when the player stops
	file := speechtest.Video(t, t.TempDir(), "talk.flv", pcm)
	cfg := testConfig(t)
	cfg.Paths = []config.PathRule{{Name: "live/talk", Subtitles: &config.LiveSubtitles{Enabled: true}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pub := publishRTMP(t, ctx, file, "rtmp://"+s.RTMPAddr()+"/live/talk", false)
	defer func() { cancel(); _ = pub.Wait() }()
	url := "http://" + s.HTTPAddr() + "/hls/live/talk/index.m3u8"
	testutil.WaitFor(t, 20*time.Second, "live playlist", func() bool { return strings.Contains(fetchOK(url), "SUBTITLES") })
	cmd := exec.CommandContext(ctx, node, script, url, "--seconds", "20")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("play.mjs: %v\n%s", err, out)
	}
	var rep struct {
		Fatal    []string `json:"fatal"`
		TextCues []string `json:"textCues"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if len(rep.Fatal) > 0 {
		t.Fatalf("hls.js fatal errors: %v", rep.Fatal)
	}
	heard := strings.Join(rep.TextCues, " ")
	t.Logf("text track cues: %q", rep.TextCues)
	// hls.js starts at the live edge, so a slow browser start may miss the
	// first sentence: the cues of at least two of the four must be there.
	found := 0
	for _, w := range []string{"weather", "coffee", "meeting", "door"} {
		if strings.Contains(heard, w) {
			found++
		}
	}
	if found < 2 {
		t.Errorf("%d of 4 sentences among the text track cues %q; player report: %s", found, rep.TextCues, out)
	}
}
