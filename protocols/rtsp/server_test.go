package rtsp

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"mps/internal/stream"
)

const mainFile = "h264_aac_1s_gop.mp4" // 6 s, 180 video frames, 1 s GOP, AAC 48 kHz

// playerCount returns how many RTSP player sessions have an output on
// path.
func playerCount(s *Server, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for o := range s.outputs {
		if o.path == path {
			n++
		}
	}
	return n
}

func TestPublishTCPPlayTCPAndUDPOneReaderEach(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, true)
	url := rtspURL(s, "live/cam1")

	pub := publishFFmpeg(ctx, t, url, "tcp", testdata(t, mainFile))
	st := waitStream(t, hub, "live/cam1", pub)
	tracks := st.Tracks()
	if len(tracks) != 2 || tracks[0].Codec != stream.CodecH264 || tracks[1].Codec != stream.CodecAAC {
		t.Fatalf("tracks %v, want h264 + aac", tracks)
	}
	if tracks[0].Width != 320 || tracks[0].Height != 240 || len(tracks[0].SPS) == 0 || len(tracks[0].PPS) == 0 {
		t.Fatalf("video track %+v: want 320x240 with SPS/PPS from the SDP", tracks[0])
	}

	rTCP := readFFmpeg(ctx, t, url, "tcp")
	rUDP := readFFmpeg(ctx, t, url, "udp")

	// While both play: two RTSP sessions, each with its own core reader
	// (so each started at the GOP cache).
	deadline := time.Now().Add(10 * time.Second)
	for playerCount(s, "live/cam1") < 2 || !strings.Contains(rUDP.stdoutString(), "\n1,") || !strings.Contains(rTCP.stdoutString(), "\n1,") {
		if time.Now().After(deadline) {
			t.Fatalf("players never both played: %d players; tcp stderr %q; udp stderr %q",
				playerCount(s, "live/cam1"), rTCP.stderrString(), rUDP.stderrString())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := st.Stats().Readers["rtsp"]; n != 2 {
		t.Fatalf("stream has %d rtsp readers for 2 RTSP players, want one each", n)
	}

	if err := pub.wait(t, 20*time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.stderrString())
	}
	// When the publisher stops, the players are ended within seconds.
	for name, r := range map[string]*proc{"tcp": rTCP, "udp": rUDP} {
		if err := r.wait(t, 5*time.Second); err != nil {
			t.Errorf("%s reader: %v\n%s", name, err, r.stderrString())
		}
		if e := r.stderrString(); e != "" {
			t.Errorf("%s reader reported decode errors:\n%s", name, e)
		}
		n := frameCounts(r.stdoutString())
		// Each reader decodes from its first key frame to the end: each
		// gets the GOP cache; allow two GOPs for a slow start.
		if n[0] < 120 || n[0] > 180 {
			t.Errorf("%s reader decoded %d video frames, want 120..180", name, n[0])
		}
		// 6 s of 48 kHz AAC is 281 frames of 1024 samples.
		if n[1] < 180 || n[1] > 282 {
			t.Errorf("%s reader decoded %d audio frames, want 180..282", name, n[1])
		}
		t.Logf("%s reader: %d video, %d audio frames", name, n[0], n[1])
	}
	// The outputs are gone with their stream.
	waitNoOutputs(t, s)
}

// waitNoOutputs waits until the server has no player output left.
func waitNoOutputs(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.outputs)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outputs still open", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A DESCRIBE holds nothing; a SETUP without PLAY holds an output (no
// reader yet) until the idle timeout closes its session.
func TestDescribeHoldsNothingSetupWithoutPlayExpires(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := New(Config{Address: "127.0.0.1:0", IdleTimeout: 200 * time.Millisecond}, hub, testLogger(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := hub.Publish(ctx, stream.Request{Path: "live/idle", Protocol: "test"},
		[]*stream.Track{{Codec: stream.CodecOpus, ClockRate: 48000, Channels: 2}}, stream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	addr := s.Addr().String()
	res := rawRequest(t, addr, describe("rtsp://"+addr+"/live/idle"))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body), "opus/48000/2") ||
		!strings.Contains(string(res.Body), "a=control:trackID=0") {
		t.Fatalf("DESCRIBE: %d\n%s", res.StatusCode, res.Body)
	}
	if n := playerCount(s, "live/idle"); n != 0 {
		t.Fatalf("%d outputs after DESCRIBE, want 0", n)
	}

	// SETUP on a connection kept open, then no PLAY.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second)) // well under ReadTimeout (10 s)
	setup := "SETUP rtsp://" + addr + "/live/idle/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n" +
		"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
	if _, err := c.Write([]byte(setup)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var sres base.Response
	if err := sres.Unmarshal(br); err != nil || sres.StatusCode != base.StatusOK {
		t.Fatalf("SETUP: %v %d %s", err, sres.StatusCode, sres.StatusMessage)
	}
	if n := playerCount(s, "live/idle"); n != 1 {
		t.Fatalf("%d outputs after SETUP, want 1", n)
	}
	if n := st.Stats().Readers["rtsp"]; n != 0 {
		t.Fatalf("%d rtsp readers before PLAY, want 0", n)
	}
	// The idle timeout closes the session, which closes its connection.
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("connection of the idle session not closed by the server: %v", err)
	}
	waitNoOutputs(t, s)
	if n := st.Stats().Readers["rtsp"]; n != 0 {
		t.Fatalf("%d rtsp readers left on the stream", n)
	}
}

func TestPublishUDPProbe(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, true)
	url := rtspURL(s, "live/udp")

	pub := publishFFmpeg(ctx, t, url, "udp", testdata(t, mainFile))
	st := waitStream(t, hub, "live/udp", pub)

	// A Go reader on the hub sees units of both tracks, video DTS
	// monotonic, and key frames once per second.
	r := st.NewReader(ctx, stream.ReaderOptions{Protocol: "test"})
	defer r.Close()

	probe := startProc(ctx, t, "ffprobe", "-v", "error", "-rtsp_transport", "udp",
		"-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", url)
	if err := probe.wait(t, 20*time.Second); err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, probe.stderrString())
	}
	out := probe.stdoutString()
	if !strings.Contains(out, "h264,320,240") || !strings.Contains(out, "aac") {
		t.Fatalf("ffprobe saw %q, want h264 320x240 and aac", out)
	}
	// ffprobe was the only player: its output is torn down while the
	// stream goes on.
	waitNoOutputs(t, s)
	select {
	case <-st.Done():
		t.Fatal("stream ended with its last player")
	default:
	}

	var video, audio, keys int
	var lastDTS time.Duration = -1 << 62
	for video < 60 {
		u, err := r.Read()
		if err != nil {
			t.Fatalf("read after %d video units: %v", video, err)
		}
		switch u.Track.Codec {
		case stream.CodecH264:
			video++
			if u.Key {
				keys++
			}
			if u.DTS < lastDTS || u.PTS < u.DTS {
				t.Fatalf("video DTS %v after %v (PTS %v)", u.DTS, lastDTS, u.PTS)
			}
			lastDTS = u.DTS
		case stream.CodecAAC:
			audio++
		}
	}
	if keys < 2 || audio < 60 {
		t.Fatalf("in 60 video units: %d key frames, %d audio units", keys, audio)
	}
	pub.cmd.Process.Kill()
}

func TestIngestH265OpusAndG711(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hub := newHub(t, nil)
	s := startServer(t, hub, false)

	// H.265 video + Opus audio on one path, G.711 µ-law alone on another.
	hevc := startProc(ctx, t, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=4",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=4",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25",
		"-c:a", "libopus", "-f", "rtsp", "-rtsp_transport", "tcp", rtspURL(s, "live/hevc"))
	g711 := startProc(ctx, t, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=4",
		"-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1", "-f", "rtsp", "-rtsp_transport", "tcp", rtspURL(s, "live/g711"))

	st1 := waitStream(t, hub, "live/hevc", hevc)
	st2 := waitStream(t, hub, "live/g711", g711)
	if tr := st1.Tracks(); len(tr) != 2 || tr[0].Codec != stream.CodecH265 || tr[1].Codec != stream.CodecOpus {
		t.Fatalf("hevc path tracks %v, want h265 + opus", tr)
	}
	if tr := st1.Tracks()[0]; tr.Width != 160 || tr.Height != 120 {
		t.Errorf("h265 track %dx%d, want 160x120", tr.Width, tr.Height)
	}
	if tr := st2.Tracks(); len(tr) != 1 || tr[0].Codec != stream.CodecPCMU || tr[0].SampleRate != 8000 {
		t.Fatalf("g711 path tracks %v, want pcmu 8000 Hz", tr)
	}

	r1 := readFFmpeg(ctx, t, rtspURL(s, "live/hevc"), "tcp")
	r2 := readFFmpeg(ctx, t, rtspURL(s, "live/g711"), "tcp")
	for _, p := range []*proc{hevc, g711} {
		if err := p.wait(t, 20*time.Second); err != nil {
			t.Fatalf("publisher: %v\n%s", err, p.stderrString())
		}
	}
	for _, r := range []*proc{r1, r2} {
		if err := r.wait(t, 10*time.Second); err != nil {
			t.Fatalf("reader: %v\n%s", err, r.stderrString())
		}
	}
	n1, n2 := frameCounts(r1.stdoutString()), frameCounts(r2.stdoutString())
	t.Logf("hevc+opus reader: %v; g711 reader: %v", n1, n2)
	if n1[0] < 25 || n1[1] < 50 {
		t.Errorf("hevc+opus reader decoded %d video and %d audio frames, want >= 25 and >= 50\n%s", n1[0], n1[1], r1.stderrString())
	}
	if n2[0] < 10 {
		t.Errorf("g711 reader decoded %d audio frames, want >= 10\n%s", n2[0], r2.stderrString())
	}
}
