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

	"mps/server/stream"
)

// output is the RTSP side of one path: a gortsplib ServerStream shared by
// every RTSP player of the path, fed by ONE stream.Reader through ONE
// packetizer. It is created by the first DESCRIBE (or SETUP) of the path,
// starts reading at the first successful PLAY (so that player gets the
// GOP cache), and is torn down when the source ends (its players are
// disconnected cleanly), when its last player leaves, or when nobody
// plays it within the idle timeout.
type output struct {
	s    *Server
	path string
	st   *stream.Stream
	pk   *packetizer
	ss   *gortsplib.ServerStream
	log  *slog.Logger
	warn *logLimiter

	ctx    context.Context
	cancel context.CancelFunc

	playing  chan struct{}
	playOnce sync.Once

	// guarded by s.mu
	players map[*gortsplib.ServerSession]struct{}
	closing bool
}

// player is the state of an RTSP session that SETUP a path for playing.
type player struct{ out *output }

// outputLocked returns the live output of path for st, creating it when
// there is none. It must be called with s.mu held.
func (s *Server) outputLocked(path string, st *stream.Stream) (*output, error) {
	if o := s.outputs[path]; o != nil && !o.closing && o.st == st {
		return o, nil
	}
	if s.closed {
		return nil, errors.New("server shutting down")
	}
	pk, err := newPacketizer(st.Tracks())
	if err != nil {
		return nil, err
	}
	ss := &gortsplib.ServerStream{Server: s.srv, Desc: pk.desc}
	if err := ss.Initialize(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	log := s.log.With("path", path)
	o := &output{
		s: s, path: path, st: st, pk: pk, ss: ss, log: log, warn: newLogLimiter(log),
		ctx: ctx, cancel: cancel, playing: make(chan struct{}),
		players: make(map[*gortsplib.ServerSession]struct{}),
	}
	for _, sk := range pk.skipped {
		log.Warn("rtsp: track not sent to players", "track", sk)
	}
	s.outputs[path] = o
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		o.run()
	}()
	return o, nil
}

// addPlayerLocked records sess as a player; s.mu must be held.
func (o *output) addPlayerLocked(sess *gortsplib.ServerSession) {
	o.players[sess] = struct{}{}
}

// removePlayer forgets sess and tears the output down after its last
// player.
func (o *output) removePlayer(sess *gortsplib.ServerSession) {
	s := o.s
	s.mu.Lock()
	delete(o.players, sess)
	last := len(o.players) == 0 && !o.closing
	if last {
		o.markClosingLocked()
	}
	s.mu.Unlock()
	if last {
		o.cancel()
	}
}

func (o *output) markClosingLocked() {
	o.closing = true
	if o.s.outputs[o.path] == o {
		delete(o.s.outputs, o.path)
	}
}

// startPlaying is called once a PLAY has been answered, when gortsplib
// has made the session an active reader, so no packet of the GOP cache is
// lost.
func (o *output) startPlaying() {
	o.playOnce.Do(func() { close(o.playing) })
}

func (o *output) run() {
	defer o.teardown()
	idle := time.NewTimer(o.s.cfg.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-o.playing:
			o.pump()
			return
		case <-o.ctx.Done():
			return
		case <-o.st.Done():
			return
		case <-idle.C:
			o.s.mu.Lock()
			unused := len(o.players) == 0
			if unused {
				o.markClosingLocked()
			}
			o.s.mu.Unlock()
			if unused {
				o.log.Debug("rtsp output idle: described but never played")
				return
			}
			idle.Reset(o.s.cfg.IdleTimeout)
		}
	}
}

// pump reads the path's stream and fans its packets out to all players.
func (o *output) pump() {
	r := o.st.NewReader(o.ctx, stream.ReaderOptions{
		Protocol: "rtsp",
		OnOverrun: func(skipped uint64) {
			o.warn.warn("rtsp players fell behind the source; skipped to the newest key frame", "units", skipped)
		},
	})
	defer r.Close()
	o.log.Info("rtsp output started")
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				o.log.Info("rtsp output ended: source stream ended")
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

// teardown closes the ServerStream, which disconnects its players.
func (o *output) teardown() {
	o.s.mu.Lock()
	if !o.closing {
		o.markClosingLocked()
	}
	o.s.mu.Unlock()
	o.cancel()
	o.ss.Close()
}
