package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/stream"
	"mps/internal/testutil"
)

// probeFrames decodes up to n video frames of url with ffprobe and returns
// codec, width, height and the number of frames decoded.
func probeFrames(t testing.TB, ctx context.Context, url string, n int, extra ...string) (codec string, w, h, frames int) {
	t.Helper()
	args := append([]string{"-v", "error"}, extra...)
	args = append(args, "-select_streams", "v:0", "-count_frames", "-read_intervals", "%+#"+itoa(n),
		"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", url)
	out, err := exec.CommandContext(ctx, "ffprobe", args...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var res struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) == 0 {
		t.Fatalf("ffprobe %s: %q: %v", url, out, err)
	}
	s := res.Streams[0]
	return s.CodecName, s.Width, s.Height, atoi(s.NbReadFrames)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func atoi(s string) int {
	var n int
	_ = json.Unmarshal([]byte(s), &n)
	return n
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestOriginEdgeOnDemandPull runs an origin and an edge server. The edge's
// path pulls from the origin over RTSP only while someone reads it: an
// ffmpeg reader on the edge gets frames, and the pull stops after the idle
// timeout once the reader has gone.
func TestOriginEdgeOnDemandPull(t *testing.T) {
	needFFmpeg(t)
	ocfg := testConfig(t)
	ocfg.RTSP.Enabled = true
	ocfg.RTSP.Address = "127.0.0.1:0"
	ocfg.RTSP.UDPRTPAddress, ocfg.RTSP.UDPRTCPAddress = "", ""
	ocfg.RTSP.Transports = []string{config.TransportTCP}
	origin := startServer(t, ocfg)

	ecfg := testConfig(t)
	ecfg.Paths = []config.PathRule{{
		Name: "live/cam", Source: "rtsp://" + origin.RTSPAddr() + "/live/cam", SourceOnDemand: true,
		SourceOnDemandCloseAfter: config.Duration(2 * time.Second), SourceRetry: config.Duration(500 * time.Millisecond),
	}}
	edge := startServer(t, ecfg)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+origin.RTMPAddr()+"/live/cam", true)
	testutil.WaitFor(t, 10*time.Second, "origin stream", func() bool { return origin.Paths().Get("live/cam") != nil })
	if edge.Paths().Get("live/cam") != nil {
		t.Fatal("edge pulled before any reader asked")
	}

	codec, w, h, frames := probeFrames(t, ctx, "rtmp://"+edge.RTMPAddr()+"/live/cam", 45)
	if codec != "h264" || w != 320 || h != 240 || frames < 40 {
		t.Fatalf("edge reader got %s %dx%d %d frames, want h264 320x240 >= 40 frames", codec, w, h, frames)
	}
	src := edge.Paths().Sources()
	if len(src) != 1 || src[0].State != "running" || !src[0].OnDemand {
		t.Fatalf("edge source state %+v", src)
	}
	// the reader has gone: the pull stops after close_after (2 s)
	testutil.WaitFor(t, 15*time.Second, "idle pull stopped", func() bool {
		src := edge.Paths().Sources()
		return edge.Paths().Get("live/cam") == nil && len(src) == 1 && src[0].State == "idle"
	})
	testutil.WaitFor(t, 5*time.Second, "origin reader detached", func() bool {
		st := origin.Paths().Get("live/cam")
		return st != nil && len(st.Stats().PerReader) == 0
	})
}

// TestForwardReconnects forwards a stream from server A to server B over
// RTMP; a reader on B gets frames; when B restarts, A reconnects on its own.
func TestForwardReconnects(t *testing.T) {
	needFFmpeg(t)
	bAddr := freeAddr(t)
	bcfg := testConfig(t)
	bcfg.RTMP.Address = bAddr
	b := startServer(t, bcfg)

	acfg := testConfig(t)
	acfg.Paths = []config.PathRule{{Name: "live/fwd", Forward: []string{"rtmp://" + bAddr + "/live/fwd"}, SourceRetry: config.Duration(300 * time.Millisecond)}}
	a := startServer(t, acfg)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+a.RTMPAddr()+"/live/fwd", true)
	testutil.WaitFor(t, 15*time.Second, "forwarded stream on B", func() bool { return b.Paths().Get("live/fwd") != nil })
	codec, w, h, frames := probeFrames(t, ctx, "rtmp://"+bAddr+"/live/fwd", 30)
	if codec != "h264" || w != 320 || h != 240 || frames < 25 {
		t.Fatalf("reader on B got %s %dx%d %d frames", codec, w, h, frames)
	}

	b.Close()
	b2 := startServer(t, bcfg) // same address
	testutil.WaitFor(t, 20*time.Second, "A reconnected to restarted B", func() bool { return b2.Paths().Get("live/fwd") != nil })
	codec, _, _, frames = probeFrames(t, ctx, "rtmp://"+bAddr+"/live/fwd", 30)
	if codec != "h264" || frames < 25 {
		t.Fatalf("reader on restarted B got %s %d frames", codec, frames)
	}
	if !strings.Contains(fetch(t, "http://"+a.HTTPAddr()+"/api/v1/streams/live/fwd"), `"rtmp"`) {
		t.Fatal("A's stream not listed")
	}
}

// TestHLSPullSource pulls an origin's HLS output (both the MPEG-TS and the
// low-latency fMP4 variants) into an edge path that is always on, and reads
// the edge over RTMP: an HLS source feeds every protocol.
func TestHLSPullSource(t *testing.T) {
	needFFmpeg(t)
	ocfg := testConfig(t)
	ts := "mpegts"
	ocfg.Paths = []config.PathRule{{Name: "live/ts", HLS: &config.HLSOverride{Variant: &ts}}}
	origin := startServer(t, ocfg)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, p := range []string{"live/ts", "live/ll"} {
		publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+origin.RTMPAddr()+"/"+p, true)
	}
	for _, p := range []string{"live/ts", "live/ll"} {
		testutil.WaitFor(t, 10*time.Second, "origin "+p, func() bool { return origin.Paths().Get(p) != nil })
	}
	ecfg := testConfig(t)
	for _, p := range []string{"live/ts", "live/ll"} {
		ecfg.Paths = append(ecfg.Paths, config.PathRule{Name: "edge/" + p, Source: "http://" + origin.HTTPAddr() + "/hls/" + p + "/index.m3u8",
			SourceRetry: config.Duration(500 * time.Millisecond)})
	}
	edge := startServer(t, ecfg)
	for _, p := range []string{"live/ts", "live/ll"} {
		t.Run(p, func(t *testing.T) {
			testutil.WaitFor(t, 30*time.Second, "edge pulled "+p, func() bool { return edge.Paths().Get("edge/"+p) != nil })
			st := edge.Paths().Get("edge/" + p)
			if tr := st.Tracks(); len(tr) != 2 || tr[0].Codec != "h264" || tr[0].Width != 320 || tr[1].Codec != "aac" {
				t.Fatalf("edge tracks %v", tr)
			}
			codec, w, h, frames := probeFrames(t, ctx, "rtmp://"+edge.RTMPAddr()+"/edge/"+p, 30)
			if codec != "h264" || w != 320 || h != 240 || frames < 30 {
				t.Fatalf("edge reader got %s %dx%d %d frames", codec, w, h, frames)
			}
		})
	}
}

// TestSourcesListEveryConfiguredSource asks GET /api/v1/sources of a server
// whose rules name an on-demand source nobody has read yet and an always-on
// source whose remote refuses: both are listed, the first idle, the second
// failed with its error and the time it retries. A read starts the
// on-demand one, which then fails too.
func TestSourcesListEveryConfiguredSource(t *testing.T) {
	dead := "rtmp://" + freeAddr(t) + "/live/none" // nothing listens there
	cfg := testConfig(t)
	cfg.Paths = []config.PathRule{
		{Name: "live/ondemand", Source: dead, SourceOnDemand: true, SourceRetry: config.Duration(time.Minute)},
		{Name: "live/always", Source: dead, SourceRetry: config.Duration(time.Minute)},
	}
	s := startServer(t, cfg)
	api := "http://" + s.HTTPAddr() + "/api/v1/sources"
	type src struct {
		Path     string     `json:"path"`
		State    string     `json:"state"`
		OnDemand bool       `json:"on_demand"`
		LastErr  string     `json:"last_error"`
		RetryAt  *time.Time `json:"retry_at"`
		Restarts int        `json:"restarts"`
	}
	list := func() map[string]src {
		var res struct {
			Sources []src `json:"sources"`
		}
		if code := getJSON(t, api, &res); code != http.StatusOK {
			t.Fatalf("GET %s: %d", api, code)
		}
		out := map[string]src{}
		for _, s := range res.Sources {
			out[s.Path] = s
		}
		return out
	}
	got := list()
	if od, ok := got["live/ondemand"]; !ok || od.State != "idle" || !od.OnDemand {
		t.Fatalf("on-demand source before any reader: %+v (listed: %v), want idle", od, ok)
	}
	testutil.WaitFor(t, 10*time.Second, "always-on source failed", func() bool { return list()["live/always"].State == "failed" })
	al := list()["live/always"]
	if al.LastErr == "" || al.RetryAt == nil || !al.RetryAt.After(time.Now()) || al.Restarts < 1 {
		t.Fatalf("failed always-on source: %+v, want its error and a retry time in the future", al)
	}

	// A reader starts the on-demand source; it fails like the other.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go func() {
		_, _ = s.Paths().Read(ctx, stream.Request{Path: "live/ondemand", Protocol: "test"})
	}()
	testutil.WaitFor(t, 10*time.Second, "on-demand source failed", func() bool { return list()["live/ondemand"].State == "failed" })
}
