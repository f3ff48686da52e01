package webrtc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
)

// player is one WHEP session: one stream.Reader whose units go out on the
// peer connection's tracks.
type player struct {
	srv    *Server
	rt     route
	id     string
	st     *stream.Stream
	pc     *webrtc.PeerConnection
	conn   *connWatch
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	outs   map[*stream.Track]*outTrack
	done   chan struct{}
	wg     sync.WaitGroup // RTCP readers
	// release ends the use of an Opus-transcoded version of the stream
	// (nil when the stream is read as published).
	release func()
}

// outTrack is one outgoing track of a player.
type outTrack struct {
	local  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	pack   *packetizer
}

// egressChoice is the tracks of a stream a WHEP offer can receive, and
// why the others are left out.
type egressChoice struct {
	tracks  []*stream.Track
	caps    []webrtc.RTPCodecCapability
	skipped []string
}

// chooseEgress picks the first video and the first audio track WebRTC can
// carry and the offer accepts.
func chooseEgress(tracks []*stream.Track, offer []offerMedia) egressChoice {
	var ch egressChoice
	haveVideo, haveAudio := false, false
	for _, t := range tracks {
		kind := "audio"
		if t.IsVideo() {
			kind = "video"
		}
		if (kind == "video" && haveVideo) || (kind == "audio" && haveAudio) {
			ch.skipped = append(ch.skipped, fmt.Sprintf("%s: only one %s track is sent", t, kind))
			continue
		}
		c, name, ok := egressCapability(t)
		if !ok {
			why := "WebRTC cannot carry it"
			if t.Codec == stream.CodecAAC {
				why = "WebRTC has no AAC; AAC is not carried (no Opus transcoder configured)"
			}
			ch.skipped = append(ch.skipped, fmt.Sprintf("%s: %s", t, why))
			continue
		}
		accepted := false
		var offered []string
		for _, m := range offer {
			if m.kind == kind && m.recvs {
				offered = append(offered, m.codecNames()...)
				if m.has(name) {
					accepted = true
				}
			}
		}
		if !accepted {
			ch.skipped = append(ch.skipped, fmt.Sprintf("%s: the offer's %s accepts only [%s]", t, kind, strings.Join(offered, " ")))
			continue
		}
		ch.tracks = append(ch.tracks, t)
		ch.caps = append(ch.caps, c)
		if kind == "video" {
			haveVideo = true
		} else {
			haveAudio = true
		}
	}
	return ch
}

// startPlayer answers a WHEP offer with the stream's tracks and starts the
// session that reads the stream once the peer is connected.
func (s *Server) startPlayer(ctx context.Context, rt route, req stream.Request, offerSDP string, offer []offerMedia) (string, string, error) {
	st, err := s.hub.Read(ctx, req)
	if err != nil {
		return "", "", err
	}
	id := newSessionID()
	log := s.log.With("path", rt.path, "session", id, "kind", kindWHEP, "remote", req.RemoteAddr)
	var release func()
	if s.cfg.AudioToOpus != nil && needsOpus(st.Tracks()) {
		d, rel, err := s.cfg.AudioToOpus(s.ctx, st) //nolint:contextcheck // the feed is shared by players and outlives this request
		if err != nil {
			log.Warn("whep: audio transcoding to Opus unavailable, sending video only", "error", err)
		} else {
			st, release = d, rel
		}
	}
	ok := false
	defer func() {
		if !ok && release != nil {
			release()
		}
	}()
	ch := chooseEgress(st.Tracks(), offer)
	if len(ch.tracks) == 0 {
		return "", "", errStatus(http.StatusUnsupportedMediaType,
			"stream %s has no track this WebRTC offer can receive: %s", rt.path, strings.Join(ch.skipped, "; "))
	}
	for _, why := range ch.skipped {
		log.Warn("whep track not carried", "track", why)
	}
	api, servers, err := s.pcAPI()
	if err != nil {
		return "", "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: servers})
	if err != nil {
		return "", "", errStatus(http.StatusInternalServerError, "new peer connection: %v", err)
	}
	pctx, cancel := context.WithCancel(s.ctx)
	p := &player{
		srv: s, rt: rt, id: id, st: st, pc: pc, conn: watchConn(pc), log: log,
		ctx: pctx, cancel: cancel, outs: make(map[*stream.Track]*outTrack), done: make(chan struct{}),
		release: release,
	}
	addTracks := func() error {
		for i, t := range ch.tracks {
			pack, err := newPacketizer(t)
			if err != nil {
				return errStatus(http.StatusInternalServerError, "%v", err)
			}
			var b [4]byte
			_, _ = rand.Read(b[:])
			pack.base = binary.BigEndian.Uint32(b[:])
			kind := "audio"
			if t.IsVideo() {
				kind = "video"
			}
			local, err := webrtc.NewTrackLocalStaticRTP(ch.caps[i], kind, "mps")
			if err != nil {
				return errStatus(http.StatusInternalServerError, "local track: %v", err)
			}
			sender, err := pc.AddTrack(local)
			if err != nil {
				return errStatus(http.StatusBadRequest, "add %s track: %v", t, err)
			}
			p.outs[t] = &outTrack{local: local, sender: sender, pack: pack}
		}
		// Offered sections left without a track are refused in the
		// answer, rather than answered "sendonly" with nothing in them.
		for _, tr := range pc.GetTransceivers() {
			if s := tr.Sender(); s == nil || s.Track() == nil {
				if err := tr.Stop(); err != nil {
					return errStatus(http.StatusInternalServerError, "stop unused transceiver: %v", err)
				}
			}
		}
		return nil
	}
	answer, err := negotiate(ctx, pc, offerSDP, addTracks)
	if err == nil {
		for _, o := range p.outs {
			p.wg.Add(1)
			go p.readRTCP(o.sender)
		}
		err = s.register(id, p, p.run)
	}
	if err != nil {
		cancel()
		_ = pc.Close()
		p.wg.Wait()
		return "", "", err
	}
	names := make([]string, len(ch.tracks))
	for i, t := range ch.tracks {
		names[i] = t.String()
	}
	log.Info("whep session started", "tracks", strings.Join(names, ", "))
	ok = true
	return id, answer, nil
}

// needsOpus reports whether a stream has audio WebRTC cannot carry (AAC,
// MP3) and no Opus or G.711 track, so players need it transcoded.
func needsOpus(tracks []*stream.Track) bool {
	other := false
	for _, t := range tracks {
		switch t.Codec {
		case stream.CodecOpus, stream.CodecPCMA, stream.CodecPCMU:
			return false
		case stream.CodecAAC, stream.CodecMP3:
			other = true
		}
	}
	return other
}

func (p *player) route() route { return p.rt }

func (p *player) close() {
	p.cancel()
	<-p.done
}

func (p *player) addCandidates(ufrag string, cands []trickleCandidate) error {
	return trickle(p.pc, ufrag, cands)
}

// run waits for the connection, then sends the stream from its newest
// keyframe until the publisher leaves, the peer goes away or the session
// is ended.
func (p *player) run() {
	defer close(p.done)
	defer p.srv.unregister(p.id)
	defer p.shutdown()
	if err := p.conn.waitConnected(p.ctx, p.srv.cfg.ConnectTimeout); err != nil {
		p.log.Info("whep session ended before media", "reason", err.Error())
		return
	}
	// The peer may vanish without a DELETE: end the reader then too.
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-p.conn.dead:
			p.cancel()
		case <-p.ctx.Done():
		}
	}()
	// The reader is closed by the session's context, hooked up here
	// rather than passed in: NewReader races with a context that is
	// already done.
	r := p.st.NewReader(context.Background(), stream.ReaderOptions{Protocol: "webrtc"})
	stop := context.AfterFunc(p.ctx, r.Close)
	defer stop()
	defer r.Close()
	for {
		u, err := r.Read()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				p.log.Info("whep session ended: the stream ended")
			case errors.Is(err, stream.ErrReaderClosed):
				p.log.Info("whep session ended")
			default:
				p.log.Info("whep session ended", "reason", err.Error())
			}
			return
		}
		o := p.outs[u.Track]
		if o == nil {
			continue
		}
		pkts, err := o.pack.packets(u)
		if err != nil {
			p.log.Debug("whep unit dropped", "track", u.Track.String(), "error", err.Error())
			continue
		}
		for _, pkt := range pkts {
			if err := o.local.WriteRTP(pkt); err != nil && errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
	}
}

// readRTCP drains a sender's RTCP (the interceptors need it read) and
// forwards keyframe requests to the stream's source.
func (p *player) readRTCP(s *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.st.RequestKeyframe()
			}
		}
	}
}

func (p *player) shutdown() {
	p.cancel()
	_ = p.pc.Close()
	p.wg.Wait()
	if p.release != nil {
		p.release()
	}
}
