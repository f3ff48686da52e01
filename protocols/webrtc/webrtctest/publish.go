package webrtctest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// PublishOptions says what a Publisher sends and how it connects.
type PublishOptions struct {
	// Auth is sent as the Authorization header of the POST ("Bearer x",
	// "Basic ..."), so tests can exercise the server's publish policy.
	Auth string
	// Media holds the files to send (from MakeMedia).
	Media Media
	// Video is the video MIME type: webrtc.MimeTypeH264 (the default),
	// MimeTypeVP8 or MimeTypeVP9. The matching Media file is sent.
	Video string
	// NoAudio leaves the Opus track out, for video-only cases.
	NoAudio bool
	// Loop restarts the files at their end, for tests that keep a stream
	// live while readers come and go. Without it Done closes once the
	// files have been sent.
	Loop bool
	// TCPOnly restricts ICE to TCP, to exercise the server's ICE-TCP port.
	TCPOnly bool
}

// Publisher is a live WHIP session sending media paced in real time.
type Publisher struct {
	endpoint string
	pc       *webrtc.PeerConnection
	location string
	plis     atomic.Int64
	cancel   context.CancelFunc
	wg       sync.WaitGroup // RTCP readers and senders
	sent     chan struct{}
	once     sync.Once
}

// Publish offers an H.264/VP8/VP9 + Opus session to the WHIP endpoint
// whipURL and returns once the server answered 201 and the peer
// connection is up, so the stream is (about to be) on the hub. A refusal
// is a *StatusError. ctx bounds the setup only; Close ends the session.
func Publish(ctx context.Context, whipURL string, opts PublishOptions) (*Publisher, error) {
	if opts.Video == "" {
		opts.Video = webrtc.MimeTypeH264
	}
	vcap := webrtc.RTPCodecCapability{MimeType: opts.Video, ClockRate: 90000}
	send, file := sendIVF, ""
	switch strings.ToLower(opts.Video) {
	case strings.ToLower(webrtc.MimeTypeH264):
		vcap.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		send, file = sendH264, opts.Media.H264
	case strings.ToLower(webrtc.MimeTypeVP8):
		file = opts.Media.VP8
	case strings.ToLower(webrtc.MimeTypeVP9):
		vcap.SDPFmtpLine = "profile-id=0"
		file = opts.Media.VP9
	default:
		return nil, fmt.Errorf("video %q: not H264, VP8 or VP9", opts.Video)
	}
	if file == "" || (!opts.NoAudio && opts.Media.Opus == "") {
		return nil, errors.New("PublishOptions.Media lacks a file to send (use MakeMedia)")
	}
	api, err := newAPI(opts.TCPOnly)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{endpoint: whipURL, pc: pc, cancel: cancel, sent: make(chan struct{})}
	fail := func(err error) (*Publisher, error) {
		p.Close()
		return nil, err
	}

	video, err := webrtc.NewTrackLocalStaticSample(vcap, "video", "webrtctest")
	if err != nil {
		return fail(fmt.Errorf("video track: %w", err))
	}
	vs, err := pc.AddTrack(video)
	if err != nil {
		return fail(fmt.Errorf("add video: %w", err))
	}
	var audio *webrtc.TrackLocalStaticSample
	var as *webrtc.RTPSender
	if !opts.NoAudio {
		audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "webrtctest")
		if err != nil {
			return fail(fmt.Errorf("audio track: %w", err))
		}
		if as, err = pc.AddTrack(audio); err != nil {
			return fail(fmt.Errorf("add audio: %w", err))
		}
	}

	state := make(chan webrtc.PeerConnectionState, 16)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		select {
		case state <- s:
		default:
		}
	})
	loc, _, err := signal(ctx, pc, whipURL, opts.Auth)
	if err != nil {
		return fail(err)
	}
	p.location = loc
	if err := waitConnected(ctx, state); err != nil {
		return fail(err)
	}

	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
					p.plis.Add(1)
				}
			}
		}
	}()
	var senders sync.WaitGroup
	senders.Go(func() { send(sctx, video, file, opts.Loop) })
	if audio != nil {
		p.wg.Go(func() {
			for {
				if _, _, err := as.ReadRTCP(); err != nil {
					return
				}
			}
		})
		senders.Go(func() { sendOpus(sctx, audio, opts.Media.Opus, opts.Loop) })
	}
	p.wg.Go(func() {
		senders.Wait()
		close(p.sent)
	})
	return p, nil
}

// waitConnected waits for the peer connection to come up, so callers
// never race the DTLS handshake.
func waitConnected(ctx context.Context, state <-chan webrtc.PeerConnectionState) error {
	for {
		select {
		case s := <-state:
			switch s {
			case webrtc.PeerConnectionStateConnected:
				return nil
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				return fmt.Errorf("peer connection %s", s)
			}
		case <-ctx.Done():
			return fmt.Errorf("waiting for ICE/DTLS: %w", ctx.Err())
		}
	}
}

// Location is the session URL from the 201 (as the server wrote it,
// typically a path), so tests can check its shape or DELETE it themselves.
func (p *Publisher) Location() string { return p.location }

// PLIs counts the RTCP Picture Loss Indications the server sent for the
// video track: how a test sees a player's keyframe request reach the
// publisher.
func (p *Publisher) PLIs() int64 { return p.plis.Load() }

// Done is closed when the media has been sent once (without Loop) or the
// publisher was closed; a test then knows every frame is on the wire.
func (p *Publisher) Done() <-chan struct{} { return p.sent }

// PeerConnection exposes the pion peer for what the helpers do not cover
// (connection state, selected candidate pair).
func (p *Publisher) PeerConnection() *webrtc.PeerConnection { return p.pc }

// Close sends DELETE on the session (a clean unpublish), closes the peer
// connection and waits for the sending goroutines. It is safe to call
// more than once.
func (p *Publisher) Close() {
	p.once.Do(func() {
		p.cancel()
		deleteSession(p.endpoint, p.location)
		_ = p.pc.Close()
		p.wg.Wait()
	})
}
