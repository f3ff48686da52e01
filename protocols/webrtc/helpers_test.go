package webrtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp8"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp9"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"mps/server/events"
	"mps/server/pathmgr"
	"mps/server/stream"
)

// media files made once by TestMain with ffmpeg.
var testMedia struct {
	dir       string
	h264, ogg string
	vp8, vp9  string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webrtc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testMedia.dir = dir
	testMedia.h264 = filepath.Join(dir, "in.h264")
	testMedia.ogg = filepath.Join(dir, "in.ogg")
	testMedia.vp8 = filepath.Join(dir, "in.vp8.ivf")
	testMedia.vp9 = filepath.Join(dir, "in.vp9.ivf")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3", "-c:v", "libx264", "-profile:v", "baseline",
			"-bf", "0", "-g", "30", "-pix_fmt", "yuv420p", "-f", "h264", testMedia.h264},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:a", "libopus",
			"-page_duration", "20000", "-f", "ogg", testMedia.ogg},
		{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2", "-c:v", "libvpx", "-deadline", "realtime",
			"-cpu-used", "8", "-g", "30", "-b:v", "500k", "-f", "ivf", testMedia.vp8},
		{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2", "-c:v", "libvpx-vp9", "-deadline", "realtime",
			"-cpu-used", "8", "-g", "30", "-b:v", "500k", "-f", "ivf", testMedia.vp9},
	} {
		cmd := exec.CommandContext(ctx, "/usr/bin/ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "ffmpeg %v: %v\n%s", args, err, out)
			os.Exit(1)
		}
	}
	cancel()
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects log output across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a running adapter on loopback with the real path manager.
type env struct {
	hub  *pathmgr.Manager
	srv  *Server
	http *httptest.Server
	logs *syncBuffer
	// auth is sent as the Authorization header of WHIP/WHEP POSTs.
	auth string
	// tcpOnly makes test clients use ICE-TCP only.
	tcpOnly bool
}

func newEnv(t *testing.T) *env { return newEnvPolicy(t, nil) }

func newEnvPolicy(t *testing.T, policy pathmgr.PolicyFunc) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	hub := pathmgr.New(log, events.NewBus(), policy)
	srv := New(Config{ICEUDPAddress: "127.0.0.1:0", ICETCPAddress: "127.0.0.1:0", ConnectTimeout: 10 * time.Second}, hub, log)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(URLPrefix, srv.Handler())
	hs := httptest.NewServer(mux)
	e := &env{hub: hub, srv: srv, http: hs, logs: logs}
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		hub.Close()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return e
}

func (e *env) url(p string) string { return e.http.URL + p }

// waitStream polls the hub until path is published.
func (e *env) waitStream(ctx context.Context, t *testing.T, path string) *stream.Stream {
	t.Helper()
	for {
		if s := e.hub.Get(path); s != nil {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s never published", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitGone polls the hub until path has no stream.
func (e *env) waitGone(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	for e.hub.Get(path) != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s still published", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// clientAPI is a pion API for test clients, limited to loopback.
func clientAPI(t *testing.T, tcpOnly bool) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// signal posts pc's offer to url and applies the answer. It returns the
// HTTP status, the Location and the body.
func signal(ctx context.Context, t *testing.T, pc *webrtc.PeerConnection, url, auth string) (int, string, string) {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		t.Fatal("client gathering timed out")
	}
	status, hdr, body := do(ctx, t, http.MethodPost, url, mimeSDP, pc.LocalDescription().SDP, "Authorization", auth)
	if status == http.StatusCreated {
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
			t.Fatalf("answer: %v\n%s", err, body)
		}
	}
	return status, hdr.Get("Location"), body
}

// do sends one request; hdrs are extra header name/value pairs (empty
// values are skipped).
func do(ctx context.Context, t *testing.T, method, url, ctype, body string, hdrs ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		if hdrs[i+1] != "" {
			req.Header.Set(hdrs[i], hdrs[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// whipClient publishes the ffmpeg-made H.264 and Opus files, looping them
// in real time, and counts the PLIs the server sends it.
type whipClient struct {
	pc       *webrtc.PeerConnection
	location string
	plis     atomic.Int64
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

func startWHIP(ctx context.Context, t *testing.T, e *env, path string) *whipClient {
	t.Helper()
	c, status, body := tryWHIP(ctx, t, e, path)
	if status != http.StatusCreated {
		t.Fatalf("WHIP: status %d: %s", status, body)
	}
	return c
}

func tryWHIP(ctx context.Context, t *testing.T, e *env, path string) (*whipClient, int, string) {
	t.Helper()
	return tryWHIPCodec(ctx, t, e, path, webrtc.MimeTypeH264)
}

// tryWHIPCodec publishes video of the given MIME type (H.264, VP8 or VP9)
// plus Opus.
func tryWHIPCodec(ctx context.Context, t *testing.T, e *env, path, videoMime string) (*whipClient, int, string) {
	t.Helper()
	pc, err := clientAPI(t, e.tcpOnly).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	vcap := webrtc.RTPCodecCapability{MimeType: videoMime, ClockRate: 90000}
	sendVideo := sendH264
	switch videoMime {
	case webrtc.MimeTypeH264:
		vcap.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	case webrtc.MimeTypeVP8:
		sendVideo = func(ctx context.Context, tr *webrtc.TrackLocalStaticSample) { sendIVF(ctx, tr, testMedia.vp8) }
	case webrtc.MimeTypeVP9:
		vcap.SDPFmtpLine = "profile-id=0"
		sendVideo = func(ctx context.Context, tr *webrtc.TrackLocalStaticSample) { sendIVF(ctx, tr, testMedia.vp9) }
	}
	video, err := webrtc.NewTrackLocalStaticSample(vcap, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "test")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pc.AddTrack(video)
	if err != nil {
		t.Fatal(err)
	}
	as, err := pc.AddTrack(audio)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	c := &whipClient{pc: pc, cancel: cancel}
	t.Cleanup(c.close)
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	status, loc, body := signal(ctx, t, pc, e.url(URLPrefix+path+"/whip"), e.auth)
	if status != http.StatusCreated {
		return c, status, body
	}
	c.location = loc
	c.wg.Add(4)
	go func() {
		defer c.wg.Done()
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					c.plis.Add(1)
				}
			}
		}
	}()
	go func() {
		defer c.wg.Done()
		for {
			if _, _, err := as.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer c.wg.Done()
		select {
		case <-connected:
		case <-cctx.Done():
			return
		}
		sendVideo(cctx, video)
	}()
	go func() {
		defer c.wg.Done()
		select {
		case <-connected:
		case <-cctx.Done():
			return
		}
		sendOpus(cctx, audio)
	}()
	return c, status, body
}

func (c *whipClient) close() {
	c.cancel()
	_ = c.pc.Close()
	c.wg.Wait()
}

// sendH264 sends the H.264 file as access units at 30 fps, looping.
func sendH264(ctx context.Context, tr *webrtc.TrackLocalStaticSample) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(testMedia.h264)
		if err != nil {
			return
		}
		r, err := h264reader.NewReader(f)
		if err != nil {
			f.Close()
			return
		}
		var au [][]byte
		hasVCL := false
		flush := func() bool {
			if len(au) == 0 {
				return true
			}
			var b []byte
			for _, n := range au {
				b = append(b, 0, 0, 0, 1)
				b = append(b, n...)
			}
			au, hasVCL = nil, false
			select {
			case <-tick.C:
			case <-ctx.Done():
				return false
			}
			return tr.WriteSample(media.Sample{Data: b, Duration: time.Second / 30}) == nil
		}
		for {
			nal, err := r.NextNAL()
			if err != nil {
				break
			}
			typ := nal.Data[0] & 0x1f
			vcl := typ == 1 || typ == 5
			newAU := hasVCL && (!vcl || (len(nal.Data) > 1 && nal.Data[1]&0x80 != 0))
			if newAU && !flush() {
				f.Close()
				return
			}
			au = append(au, append([]byte(nil), nal.Data...))
			hasVCL = hasVCL || vcl
		}
		ok := flush()
		f.Close()
		if !ok {
			return
		}
	}
}

// sendIVF sends an IVF file's frames at 30 fps, looping.
func sendIVF(ctx context.Context, tr *webrtc.TrackLocalStaticSample, file string) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(file)
		if err != nil {
			return
		}
		r, _, err := ivfreader.NewWith(f)
		if err != nil {
			f.Close()
			return
		}
		for {
			fr, _, err := r.ParseNextFrame()
			if err != nil || fr == nil {
				break
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				f.Close()
				return
			}
			if tr.WriteSample(media.Sample{Data: fr, Duration: time.Second / 30}) != nil {
				f.Close()
				return
			}
		}
		f.Close()
	}
}

// sendOpus sends the Ogg/Opus file page by page (one packet per page),
// looping.
func sendOpus(ctx context.Context, tr *webrtc.TrackLocalStaticSample) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(testMedia.ogg)
		if err != nil {
			return
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			f.Close()
			return
		}
		var last uint64
		for {
			page, hdr, err := r.ParseNextPage()
			if err != nil {
				break
			}
			if _, isHeader := hdr.HeaderType(page); isHeader {
				continue
			}
			n := hdr.GranulePosition - last
			last = hdr.GranulePosition
			select {
			case <-tick.C:
			case <-ctx.Done():
				f.Close()
				return
			}
			if tr.WriteSample(media.Sample{Data: page, Duration: time.Duration(n) * time.Second / 48000}) != nil {
				f.Close()
				return
			}
		}
		f.Close()
	}
}

// whepClient plays a path and collects H.264 access units and Opus
// packets.
type whepClient struct {
	pc       *webrtc.PeerConnection
	location string
	answer   string
	state    chan webrtc.PeerConnectionState

	mu         sync.Mutex
	aus        [][][]byte
	opus       int
	videoSSRC  uint32
	videoMime  string
	gotVideo   chan struct{}
	gotVideoMu sync.Once
	wg         sync.WaitGroup
}

func startWHEP(ctx context.Context, t *testing.T, e *env, path string) *whepClient {
	t.Helper()
	c, status, body := tryWHEP(ctx, t, e, path)
	if status != http.StatusCreated {
		t.Fatalf("WHEP: status %d: %s", status, body)
	}
	return c
}

func tryWHEP(ctx context.Context, t *testing.T, e *env, path string) (*whepClient, int, string) {
	t.Helper()
	pc, err := clientAPI(t, e.tcpOnly).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &whepClient{pc: pc, gotVideo: make(chan struct{}), state: make(chan webrtc.PeerConnectionState, 16)}
	t.Cleanup(func() {
		_ = pc.Close()
		c.wg.Wait()
	})
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		select {
		case c.state <- s:
		default:
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.wg.Add(1)
		defer c.wg.Done()
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				if strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus) {
					c.mu.Lock()
					c.opus++
					c.mu.Unlock()
				}
			}
		}
		c.mu.Lock()
		c.videoSSRC = uint32(tr.SSRC())
		c.videoMime = tr.Codec().MimeType
		c.mu.Unlock()
		var decode func(*rtp.Packet) ([][]byte, error)
		switch strings.ToLower(tr.Codec().MimeType) {
		case strings.ToLower(webrtc.MimeTypeH264):
			dec := &rtph264.Decoder{PacketizationMode: 1}
			_ = dec.Init()
			decode = dec.Decode
		case strings.ToLower(webrtc.MimeTypeVP8):
			dec := &rtpvp8.Decoder{}
			_ = dec.Init()
			decode = func(p *rtp.Packet) ([][]byte, error) { f, err := dec.Decode(p); return [][]byte{f}, err }
		case strings.ToLower(webrtc.MimeTypeVP9):
			dec := &rtpvp9.Decoder{}
			_ = dec.Init()
			decode = func(p *rtp.Packet) ([][]byte, error) { f, err := dec.Decode(p); return [][]byte{f}, err }
		default:
			return
		}
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			au, err := decode(pkt)
			if err != nil {
				continue
			}
			c.mu.Lock()
			c.aus = append(c.aus, au)
			c.mu.Unlock()
			c.gotVideoMu.Do(func() { close(c.gotVideo) })
		}
	})
	status, loc, body := signal(ctx, t, pc, e.url(URLPrefix+path+"/whep"), e.auth)
	c.location, c.answer = loc, body
	return c, status, body
}

// frames returns a copy of the access units received so far and the Opus
// packet count.
func (c *whepClient) frames() ([][][]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][][]byte(nil), c.aus...), c.opus
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return errors.New("timed out")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
