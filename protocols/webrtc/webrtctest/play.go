package webrtctest

import (
	"context"
	"errors"
	"fmt"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp8"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpvp9"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

var errNoVideo = errors.New("no video track yet")

// PlayOptions says how a Player connects.
type PlayOptions struct {
	// Auth is sent as the Authorization header of the POST, so tests can
	// exercise the server's read policy.
	Auth string
	// TCPOnly restricts ICE to TCP, to exercise the server's ICE-TCP port.
	TCPOnly bool
	// CountOnly counts video frames and audio packets without keeping
	// them, for long-running load and soak clients (Frames and WriteOgg
	// then have nothing).
	CountOnly bool
}

// Player is a live WHEP session that keeps what it receives: video as
// whole frames (what a test can count, check for keyframes and hand to
// ffmpeg) and a count of Opus packets.
type Player struct {
	endpoint string
	pc       *webrtc.PeerConnection
	location string
	answer   string
	once     sync.Once

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup // track readers, added under mu
	frames    [][][]byte
	audio     int
	opusPkts  []*rtp.Packet
	videoMime string
	videoSSRC uint32
	countOnly bool
	count     int // video frames received, kept or not
}

// Play offers a receive-only video + audio session to the WHEP endpoint
// whepURL and returns once the server answered 201: media then arrives in
// the background (use WaitFrames). A refusal is a *StatusError. ctx bounds
// the setup only; Close ends the session.
func Play(ctx context.Context, whepURL string, opts PlayOptions) (*Player, error) {
	api, err := newAPI(opts.TCPOnly)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &Player{endpoint: whepURL, pc: pc, countOnly: opts.CountOnly}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			p.Close()
			return nil, fmt.Errorf("add %s transceiver: %w", k, err)
		}
	}
	pc.OnTrack(p.onTrack)
	loc, answer, err := signal(ctx, pc, whepURL, opts.Auth)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.location, p.answer = loc, answer
	return p, nil
}

// onTrack reads one remote track until the connection closes.
func (p *Player) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()

	if tr.Kind() == webrtc.RTPCodecTypeAudio {
		opus := strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus)
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if opus {
				p.mu.Lock()
				p.audio++
				if !p.countOnly {
					p.opusPkts = append(p.opusPkts, pkt)
				}
				p.mu.Unlock()
			}
		}
	}

	mime := tr.Codec().MimeType
	p.mu.Lock()
	p.videoSSRC = uint32(tr.SSRC())
	p.videoMime = mime
	p.mu.Unlock()
	var decode func(*rtp.Packet) ([][]byte, error)
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeH264):
		dec := &rtph264.Decoder{PacketizationMode: 1}
		if dec.Init() != nil {
			return
		}
		decode = dec.Decode
	case strings.ToLower(webrtc.MimeTypeVP8):
		dec := &rtpvp8.Decoder{}
		if dec.Init() != nil {
			return
		}
		decode = func(pkt *rtp.Packet) ([][]byte, error) { f, err := dec.Decode(pkt); return [][]byte{f}, err }
	case strings.ToLower(webrtc.MimeTypeVP9):
		dec := &rtpvp9.Decoder{}
		if dec.Init() != nil {
			return
		}
		decode = func(pkt *rtp.Packet) ([][]byte, error) { f, err := dec.Decode(pkt); return [][]byte{f}, err }
	default:
		// Unknown video: drain so the receiver does not stall.
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	}
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		// Incomplete frames (the decoders' "need more packets" errors and
		// losses) are skipped; tests judge completeness by decoding.
		fr, err := decode(pkt)
		if err != nil {
			continue
		}
		p.mu.Lock()
		p.count++
		if !p.countOnly {
			p.frames = append(p.frames, fr)
		}
		p.mu.Unlock()
	}
}

// FrameCount is the number of whole video frames received so far.
func (p *Player) FrameCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Location is the session URL from the 201, so tests can check its shape
// or DELETE it themselves.
func (p *Player) Location() string { return p.location }

// Answer is the server's SDP answer, for tests about what it offered to
// send (e.g. no audio for an AAC stream).
func (p *Player) Answer() string { return p.answer }

// PeerConnection exposes the pion peer for what the helpers do not cover
// (connection state, selected candidate pair).
func (p *Player) PeerConnection() *webrtc.PeerConnection { return p.pc }

// VideoCodec is the negotiated video MIME type ("video/H264", ...), or ""
// before the video track arrived.
func (p *Player) VideoCodec() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.videoMime
}

// Frames returns the video frames received so far, in order: for H.264 an
// access unit as NAL units without start codes, for VP8/VP9 one element
// holding the frame. The outer slice is a copy; the frames are shared
// and must not be modified.
func (p *Player) Frames() [][][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][][]byte(nil), p.frames...)
}

// AudioPackets counts the Opus RTP packets received.
func (p *Player) AudioPackets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.audio
}

// WriteOgg saves the Opus packets received so far as an Ogg file, so a
// test can decode the audio with ffmpeg and measure it. It returns the
// number of packets written.
func (p *Player) WriteOgg(path string) (int, error) {
	p.mu.Lock()
	pkts := append([]*rtp.Packet(nil), p.opusPkts...)
	p.mu.Unlock()
	w, err := oggwriter.New(path, 48000, 2)
	if err != nil {
		return 0, fmt.Errorf("ogg writer: %w", err)
	}
	for _, pkt := range pkts {
		if err := w.WriteRTP(pkt); err != nil {
			w.Close()
			return 0, fmt.Errorf("ogg write: %w", err)
		}
	}
	return len(pkts), w.Close()
}

// WaitFrames waits until at least n video frames arrived or ctx ends; the
// error then says how many did.
func (p *Player) WaitFrames(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		got := len(p.frames)
		p.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("got %d of %d video frames: %w", got, n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SendPLI asks the server for a keyframe on the video track, as a
// browser does after loss.
func (p *Player) SendPLI() error {
	p.mu.Lock()
	ssrc, mime := p.videoSSRC, p.videoMime
	p.mu.Unlock()
	if mime == "" {
		return errNoVideo
	}
	if err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		return fmt.Errorf("send PLI: %w", err)
	}
	return nil
}

// Close sends DELETE on the session, closes the peer connection and waits
// for the track readers. It is safe to call more than once.
func (p *Player) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		deleteSession(p.endpoint, p.location)
		_ = p.pc.Close()
		p.wg.Wait()
	})
}
