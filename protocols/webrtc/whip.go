package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/rtpreorderer"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
)

const (
	// maxPending bounds the units a WHIP session holds while it waits for
	// its last track before publishing.
	maxPending = 512
	// keyframeInterval rate-limits PLIs sent to a publisher.
	keyframeInterval = 500 * time.Millisecond
)

// ingestCodecs are the encoding names a WHIP offer may send, as they
// appear in SDP (upper case).
var ingestCodecs = []string{"H264", "VP8", "VP9", "AV1", "OPUS", "PCMU", "PCMA"}

// publisher is one WHIP session: a peer connection whose incoming tracks
// become one stream on the hub.
type publisher struct {
	srv      *Server
	rt       route
	id       string
	req      stream.Request
	pc       *webrtc.PeerConnection
	conn     *connWatch
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	expected int
	done     chan struct{}

	readyCh chan struct{} // a track became ready (capacity 1)

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup // track readers
	originSet bool
	origin    time.Time
	ins       []*inTrack
	st        *stream.Stream
	pending   []*stream.Unit
	lastPLI   time.Time
}

// inTrack is one incoming track of a publisher.
type inTrack struct {
	remote    *webrtc.TrackRemote
	dep       *depacketizer
	track     *stream.Track // set once the depacketizer is ready
	published bool          // part of the published stream
}

// busyChecker is the optional hub method that tells, before any media has
// arrived, whether req would be refused (credentials, busy path). WHIP
// must answer before it knows its tracks, so it asks this first.
type busyChecker interface {
	CheckPublish(req stream.Request) error
}

// publisherLookup is the fallback when the hub has no CheckPublish: a
// path that has a publisher is refused as busy.
type publisherLookup interface {
	Publisher(path string) (stream.Request, bool)
}

func (s *Server) checkPublish(req stream.Request) error {
	if c, ok := s.hub.(busyChecker); ok {
		return c.CheckPublish(req)
	}
	s.mu.Lock()
	for _, ss := range s.sessions {
		if p, ok := ss.(*publisher); ok && p.rt.path == req.Path && p.ctx.Err() == nil {
			s.mu.Unlock()
			return fmt.Errorf("publish %s: %w (webrtc from %s, starting)", req.Path, stream.ErrPathBusy, p.req.RemoteAddr)
		}
	}
	s.mu.Unlock()
	if l, ok := s.hub.(publisherLookup); ok {
		if cur, busy := l.Publisher(req.Path); busy {
			return fmt.Errorf("publish %s: %w (%s from %s)", req.Path, stream.ErrPathBusy, cur.Protocol, cur.RemoteAddr)
		}
	}
	return nil
}

// startPublisher answers a WHIP offer and starts the session that will
// publish its tracks once they have arrived.
func (s *Server) startPublisher(ctx context.Context, rt route, req stream.Request, offerSDP string, offer []offerMedia) (string, string, error) {
	expected := 0
	for _, m := range offer {
		if !m.sends || (m.kind != "audio" && m.kind != "video") {
			continue
		}
		for _, c := range ingestCodecs {
			if m.has(c) {
				expected++
				break
			}
		}
	}
	if expected == 0 {
		return "", "", errStatus(http.StatusBadRequest,
			"the offer sends no audio or video in a codec MPS accepts (H264 packetization-mode=1, VP8, VP9, AV1, Opus, PCMU, PCMA)")
	}
	if err := s.checkPublish(req); err != nil {
		return "", "", err
	}
	api, servers, err := s.pcAPI()
	if err != nil {
		return "", "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: servers})
	if err != nil {
		return "", "", errStatus(http.StatusInternalServerError, "new peer connection: %v", err)
	}
	id := newSessionID()
	pctx, cancel := context.WithCancel(s.ctx)
	p := &publisher{
		srv: s, rt: rt, id: id, req: req, pc: pc, conn: watchConn(pc),
		log: s.log.With("path", rt.path, "session", id, "kind", kindWHIP, "remote", req.RemoteAddr),
		ctx: pctx, cancel: cancel, expected: expected, done: make(chan struct{}),
		readyCh: make(chan struct{}, 1),
	}
	pc.OnTrack(p.onTrack)
	answer, err := negotiate(ctx, pc, offerSDP, nil)
	if err == nil {
		err = s.register(id, p, p.run)
	}
	if err != nil {
		cancel()
		_ = pc.Close()
		return "", "", err
	}
	p.log.Info("whip session started", "tracks_offered", expected)
	return id, answer, nil
}

func (p *publisher) route() route { return p.rt }

func (p *publisher) close() {
	p.cancel()
	<-p.done
}

func (p *publisher) addCandidates(ufrag string, cands []trickleCandidate) error {
	return trickle(p.pc, ufrag, cands)
}

// run owns the session: it waits for the connection and the tracks,
// publishes, and tears everything down when the peer, the hub or the
// server ends it.
func (p *publisher) run() {
	defer close(p.done)
	defer p.srv.unregister(p.id)
	defer p.shutdown()
	if err := p.conn.waitConnected(p.ctx, p.srv.cfg.ConnectTimeout); err != nil {
		p.log.Info("whip session ended before media", "reason", err.Error())
		return
	}
	st, err := p.waitTracksAndPublish()
	if err != nil {
		p.log.Warn("whip session not published", "error", err.Error())
		return
	}
	select {
	case <-st.Done():
		reason := "stream ended"
		if err := st.Err(); err != nil {
			reason = err.Error()
		}
		p.log.Info("whip session ended by the hub", "reason", reason)
	case <-p.conn.dead:
		p.log.Info("whip session ended: peer connection closed or failed")
	case <-p.ctx.Done():
		p.log.Info("whip session ended")
	}
}

// waitTracksAndPublish waits until every offered track has delivered what
// its Track needs (a keyframe with parameter sets for video), asking the
// encoder for keyframes meanwhile, then publishes. After TrackTimeout it
// publishes what is ready, if anything.
func (p *publisher) waitTracksAndPublish() (*stream.Stream, error) {
	p.requestKeyframe()
	deadline := time.NewTimer(p.srv.cfg.TrackTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		ready := p.readyCount()
		if ready >= p.expected {
			break
		}
		select {
		case <-p.readyCh:
			continue
		case <-tick.C:
			p.requestKeyframe()
			continue
		case <-p.conn.dead:
			return nil, errors.New("peer connection closed or failed")
		case <-p.ctx.Done():
			return nil, p.ctx.Err()
		case <-deadline.C:
		}
		if ready == 0 {
			return nil, fmt.Errorf("no track delivered media (or a first keyframe) within %s", p.srv.cfg.TrackTimeout)
		}
		p.log.Warn("publishing without the tracks that are not ready", "ready", ready, "offered", p.expected)
		break
	}
	return p.publish()
}

func (p *publisher) readyCount() (ready int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.ins {
		if in.track != nil {
			ready++
		}
	}
	return ready
}

// publish makes the stream from the ready tracks (video first) and writes
// what arrived meanwhile.
func (p *publisher) publish() (*stream.Stream, error) {
	p.mu.Lock()
	var ins []*inTrack
	for _, in := range p.ins {
		if in.track != nil {
			ins = append(ins, in)
		}
	}
	p.mu.Unlock()
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].track.IsVideo() && !ins[j].track.IsVideo() })
	tracks := make([]*stream.Track, len(ins))
	for i, in := range ins {
		tracks[i] = in.track
	}
	st, err := p.srv.hub.Publish(p.ctx, p.req, tracks, stream.Options{})
	if err != nil {
		return nil, err
	}
	st.SetKeyframeRequester(p.requestKeyframe)
	p.mu.Lock()
	for _, in := range ins {
		in.published = true
	}
	for _, u := range p.pending {
		if u.Track != nil && p.isPublished(u.Track) {
			_ = st.Write(u)
		}
	}
	p.pending = nil
	p.st = st
	p.mu.Unlock()
	names := make([]string, len(tracks))
	for i, t := range tracks {
		names[i] = t.String()
	}
	p.log.Info("whip stream published", "tracks", strings.Join(names, ", "))
	return st, nil
}

func (p *publisher) isPublished(t *stream.Track) bool {
	for _, in := range p.ins {
		if in.track == t {
			return in.published
		}
	}
	return false
}

// shutdown closes the peer connection, waits for the track readers and
// ends the stream.
func (p *publisher) shutdown() {
	p.mu.Lock()
	p.closed = true
	st := p.st
	p.mu.Unlock()
	p.cancel()
	_ = p.pc.Close()
	p.wg.Wait()
	if st != nil {
		st.Close()
	}
}

// onTrack starts a reader for each incoming track.
func (p *publisher) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	dep, err := newDepacketizer(tr.Codec())
	if err != nil {
		p.log.Warn("whip track ignored", "error", err.Error())
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	in := &inTrack{remote: tr, dep: dep}
	p.ins = append(p.ins, in)
	p.wg.Add(1)
	go p.readTrack(in)
	p.mu.Unlock()
	p.log.Debug("whip track", "codec", tr.Codec().MimeType, "ssrc", uint32(tr.SSRC()))
	if dep.codec.IsVideo() {
		p.requestKeyframe() // the encoder may have sent its keyframe before DTLS was up
	}
}

// readTrack reorders, depacketizes and delivers one track's packets until
// the peer connection closes.
func (p *publisher) readTrack(in *inTrack) {
	defer p.wg.Done()
	//lint:ignore SA1019 the standalone reorderer is what a non-RTSP ingest needs; its replacement is tied to gortsplib's RTCP receiver.
	reorder := &rtpreorderer.Reorderer{}
	reorder.Initialize()
	video := in.dep.codec.IsVideo()
	errs := 0
	for {
		pkt, _, err := in.remote.ReadRTP()
		if err != nil {
			return
		}
		if !in.dep.clock.started {
			in.dep.clock.offset = p.originOffset()
		}
		pkts, lost := reorder.Process(pkt)
		if lost > 0 && video {
			p.requestKeyframe()
		}
		for _, pk := range pkts {
			fr, err := in.dep.push(pk)
			if err != nil {
				if errs++; errs <= 10 || errs%1000 == 0 {
					p.log.Debug("whip packet dropped", "codec", in.dep.codec, "error", err.Error(), "count", errs)
				}
				if video {
					p.requestKeyframe()
				}
				continue
			}
			if fr != nil {
				p.deliver(in, fr)
			}
		}
	}
}

// originOffset returns how long after the session's first packet this
// moment is: each track's timestamps start from its own first packet's
// offset, which puts all tracks on one time line.
func (p *publisher) originOffset() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.originSet {
		p.origin, p.originSet = now, true
	}
	return now.Sub(p.origin)
}

// deliver turns a frame into a unit: held back before publishing, written
// afterwards. Stream.Write has one writer at a time, under p.mu.
func (p *publisher) deliver(in *inTrack, fr *frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.track == nil {
		if p.st != nil || !in.dep.ready() {
			return
		}
		t, err := in.dep.track()
		if err != nil {
			p.log.Warn("whip track unusable", "codec", in.dep.codec, "error", err.Error())
			return
		}
		in.track = t
		if t.IsVideo() {
			// Readers start at a keyframe: older held units are useless.
			p.pending = p.pending[:0]
		}
		select {
		case p.readyCh <- struct{}{}:
		default:
		}
	}
	u := &stream.Unit{Track: in.track, PTS: fr.pts, DTS: fr.dts, Key: fr.key, Payload: fr.payload, Time: time.Now()}
	if p.st != nil {
		if in.published {
			_ = p.st.Write(u)
		}
		return
	}
	if len(p.pending) < maxPending {
		p.pending = append(p.pending, u)
	}
}

// requestKeyframe sends a PLI for every video track, at most once per
// keyframeInterval. It is the stream's keyframe requester.
func (p *publisher) requestKeyframe() {
	p.mu.Lock()
	if p.closed || time.Since(p.lastPLI) < keyframeInterval {
		p.mu.Unlock()
		return
	}
	var pkts []rtcp.Packet
	for _, in := range p.ins {
		if in.dep.codec.IsVideo() {
			pkts = append(pkts, &rtcp.PictureLossIndication{MediaSSRC: uint32(in.remote.SSRC())})
		}
	}
	if len(pkts) > 0 {
		p.lastPLI = time.Now()
	}
	p.mu.Unlock()
	if len(pkts) > 0 {
		_ = p.pc.WriteRTCP(pkts)
	}
}
