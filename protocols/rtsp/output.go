package rtsp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"

	"mps/internal/stream"
)

// errShuttingDown refuses players that arrive while the server closes.
var errShuttingDown = errors.New("server shutting down")

// output is what one RTSP player session plays: its own gortsplib
// ServerStream, fed by its own stream.Reader through its own packetizer.
// Not sharing them across the players of a path is what lets every player
// start at the stream's GOP cache (a Reader starts at the newest key
// frame) instead of joining a shared RTP flow mid-GOP and waiting for the
// next key frame. The units themselves are still shared (zero-copy ring);
// only packetization is per player.
//
// An output is created at the session's first SETUP, starts reading at its
// first answered PLAY, and ends when the session closes, when the source
// stream ends (the player is then disconnected cleanly), when the server
// closes, or when the session does not PLAY within the idle timeout.
type output struct {
	s    *Server
	path string
	sess *gortsplib.ServerSession
	st   *stream.Stream
	pk   *packetizer
	ss   *gortsplib.ServerStream
	log  *slog.Logger
	warn *logLimiter

	ctx    context.Context
	cancel context.CancelFunc

	playing  chan struct{}
	playOnce sync.Once
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
	ss := &gortsplib.ServerStream{Server: s.srv, Desc: pk.desc}
	if err := ss.Initialize(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	log := s.log.With("path", path, "remote", remote)
	o := &output{
		s: s, path: path, sess: sess, st: st, pk: pk, ss: ss, log: log, warn: newLogLimiter(log),
		ctx: ctx, cancel: cancel, playing: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		ss.Close()
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

// startPlaying is called once a PLAY has been answered, when gortsplib
// has made the session an active reader, so no packet of the GOP cache is
// lost.
func (o *output) startPlaying() {
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
	o.log.Info("rtsp player started")
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				o.log.Info("rtsp player ended: source stream ended")
			}
			return
		}
		medi, pkts, ntp, err := o.pk.packets(u)
		if err != nil {
			o.warn.warn("rtsp: dropped a unit that could not be packetized", "error", err)
			continue
		}
		for _, pkt := range pkts {
			if err := o.ss.WritePacketRTPWithNTP(medi, pkt, ntp); err != nil {
				var closed liberrors.ErrServerStreamClosed
				if errors.As(err, &closed) {
					return
				}
				o.warn.warn("rtsp: dropped an RTP packet", "error", err)
			}
		}
	}
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
}
