package rtsp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// errShuttingDown refuses players that arrive while the server closes.
var errShuttingDown = errors.New("server shutting down")

// output is what one RTSP player session plays: its own gortsplib
// ServerStream (for the session's SETUP/PLAY) fed by its own
// stream.Reader. Not sharing Readers across the players of a path is what
// lets every player start at the stream's GOP cache (a Reader starts at
// the newest key frame) instead of joining a shared RTP flow mid-GOP and
// waiting for the next key frame. The units are shared (zero-copy ring),
// and so are their RTP packets: the stream's rtpShare packetizes each unit
// once for all players, and each player only puts its own sequence
// numbers and SSRC into its copy. A player over TCP gets each unit in one
// socket write (tcpEgress); one over UDP or SRTP goes through gortsplib.
//
// An output is created at the session's first SETUP, starts reading at its
// first answered PLAY, and ends when the session closes, when the source
// stream ends (the player is then disconnected cleanly), when the server
// closes, or when the session does not PLAY within the idle timeout.
type output struct {
	s     *Server
	path  string
	sess  *gortsplib.ServerSession
	st    *stream.Stream
	pk    *packetizer // the session's description and track to media map
	share *rtpShare
	ss    *gortsplib.ServerStream
	log   *slog.Logger
	warn  *logLimiter

	ctx    context.Context
	cancel context.CancelFunc

	playing  chan struct{}
	playOnce sync.Once

	mu    sync.Mutex
	chans map[*description.Media]int // interleaved RTP channel per media (TCP)
	conn  net.Conn                   // the connection that sent PLAY
}

// player is the state of an RTSP session that SETUP a path for playing.
type player struct{ out *output }

// newOutput creates the output of player session sess on path's stream st
// and starts its goroutine. It fails when st has no track RTSP can carry or
// the server is closing.
func (s *Server) newOutput(sess *gortsplib.ServerSession, path, remote string, st *stream.Stream) (*output, error) {
	pk, err := newPacketizer(st.Tracks())
	if err != nil {
		return nil, err
	}
	share, err := s.shares.acquire(st)
	if err != nil {
		return nil, err
	}
	ss := &gortsplib.ServerStream{Server: s.srv, Desc: pk.desc}
	if err := ss.Initialize(); err != nil {
		s.shares.release(st)
		return nil, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	log := s.log.With("path", path, "remote", remote)
	o := &output{
		s: s, path: path, sess: sess, st: st, pk: pk, share: share, ss: ss, log: log, warn: newLogLimiter(log),
		ctx: ctx, cancel: cancel, playing: make(chan struct{}), chans: make(map[*description.Media]int),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		ss.Close()
		s.shares.release(st)
		return nil, errShuttingDown
	}
	s.outputs[o] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	for _, sk := range pk.skipped {
		log.Info("rtsp: track not sent to the player", "track", sk)
	}
	go func() {
		defer s.wg.Done()
		o.run()
	}()
	return o, nil
}

// setupTCP records the interleaved channel gortsplib gave the media the
// session has just set up over TCP.
func (o *output) setupTCP(medi *description.Media, ch int) {
	o.mu.Lock()
	o.chans[medi] = ch
	o.mu.Unlock()
}

// startPlaying is called once a PLAY has been answered on conn, when
// gortsplib has made the session an active reader, so no packet of the
// GOP cache is lost.
func (o *output) startPlaying(conn net.Conn) {
	o.mu.Lock()
	if o.conn == nil {
		o.conn = conn
	}
	o.mu.Unlock()
	o.playOnce.Do(func() { close(o.playing) })
}

// close ends the output; called when its session closes.
func (o *output) close() { o.cancel() }

func (o *output) run() {
	defer o.teardown()
	idle := time.NewTimer(o.s.cfg.IdleTimeout)
	defer idle.Stop()
	select {
	case <-o.playing:
		o.pump()
	case <-o.ctx.Done():
	case <-o.st.Done():
	case <-idle.C:
		o.log.Debug("rtsp session set up but never played: closed")
	}
}

// pump reads the path's stream from its newest key frame on and sends its
// packets to the player.
func (o *output) pump() {
	r := o.st.NewReader(o.ctx, stream.ReaderOptions{
		Protocol: "rtsp",
		OnOverrun: func(skipped uint64) {
			o.warn.warn("rtsp player fell behind the source; skipped to the newest key frame", "units", skipped)
		},
	})
	defer r.Close()
	tcp := o.tcpEgress()
	seqs := make(map[*stream.Track]uint16)
	o.log.Info("rtsp player started", "direct_tcp", tcp != nil)
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				o.log.Info("rtsp player ended: source stream ended")
			}
			return
		}
		ru, err := o.share.get(u)
		if err != nil {
			o.warn.warn("rtsp: dropped a unit that could not be packetized", "error", err)
			continue
		}
		if ru == nil {
			continue
		}
		if tcp != nil {
			if err := tcp.write(u.Track, ru); err != nil {
				o.log.Info("rtsp player ended: write failed", "error", err)
				return
			}
			continue
		}
		if !o.writeQueued(u.Track, ru, seqs) {
			return
		}
	}
}

// tcpEgress returns the direct writer of a player over plain TCP
// interleaving, or nil when gortsplib must write (UDP, SRTP, or a
// connection or channel that is not known).
func (o *output) tcpEgress() *tcpEgress {
	tr := o.sess.SetuppedTransport()
	if tr == nil || *tr != gortsplib.TransportTCP || o.sess.SetuppedSecure() {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn == nil || len(o.chans) == 0 {
		return nil
	}
	stats := o.ss.Stats()
	e := &tcpEgress{conn: o.conn, timeout: o.s.cfg.WriteTimeout, tracks: make(map[*stream.Track]*tcpTrack), bufs: &o.s.bufs}
	for t, et := range o.pk.tracks {
		ch, ok := o.chans[et.media]
		if !ok {
			continue
		}
		tt := &tcpTrack{ch: byte(ch), seq: uint16(randomUint32())}
		if ms, ok := stats.Medias[et.media]; ok {
			if fs, ok := ms.Formats[et.media.Formats[0]]; ok {
				tt.ssrc = fs.LocalSSRC
			}
		}
		if tt.ssrc == 0 {
			tt.ssrc = randomUint32()
		}
		e.tracks[t] = tt
	}
	return e
}

// writeQueued hands the packets of ru to gortsplib for a player over UDP
// or SRTP, with the player's own sequence numbers. It reports false once
// the ServerStream is closed.
func (o *output) writeQueued(t *stream.Track, ru *rtpUnit, seqs map[*stream.Track]uint16) bool {
	et, ok := o.pk.tracks[t]
	if !ok {
		return true
	}
	seq, ok := seqs[t]
	if !ok {
		seq = uint16(randomUint32())
	}
	for i := range ru.offs {
		var pkt rtp.Packet
		if err := pkt.Unmarshal(ru.frame(i)[frameHeader:]); err != nil {
			continue
		}
		pkt.SequenceNumber = seq
		seq++
		if err := o.ss.WritePacketRTPWithNTP(et.media, &pkt, ru.ntp); err != nil {
			var closed liberrors.ErrServerStreamClosed
			if errors.As(err, &closed) {
				return false
			}
			o.warn.warn("rtsp: dropped an RTP packet", "error", err)
		}
	}
	seqs[t] = seq
	return true
}

// teardown closes the ServerStream and the session: the player is
// disconnected, even when its SETUP failed after the handler accepted it
// (then it is not yet a reader of the ServerStream).
func (o *output) teardown() {
	o.s.mu.Lock()
	delete(o.s.outputs, o)
	o.s.mu.Unlock()
	o.cancel()
	o.ss.Close()
	o.sess.Close()
	o.s.shares.release(o.st)
}
