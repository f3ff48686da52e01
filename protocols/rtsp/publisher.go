package rtsp

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// publisher is the state of an RTSP session that ANNOUNCEd a stream: the
// hub stream it writes into and the depacketizers of its tracks.
type publisher struct {
	*unitWriter
	sess *gortsplib.ServerSession
	in   *ingest
	log  *slog.Logger

	stop      chan struct{}
	closeOnce sync.Once
}

func newPublisher(sess *gortsplib.ServerSession, in *ingest, st *stream.Stream, log *slog.Logger) *publisher {
	return &publisher{unitWriter: newUnitWriter(st, log), sess: sess, in: in, log: log, stop: make(chan struct{})}
}

// unitWriter depacketizes RTP into a hub stream; shared by the server's
// publishers and by Pull.
type unitWriter struct {
	st   *stream.Stream
	warn *logLimiter

	mu sync.Mutex // RTP callbacks of different medias may run on different goroutines
}

func newUnitWriter(st *stream.Stream, log *slog.Logger) *unitWriter {
	return &unitWriter{st: st, warn: newLogLimiter(log)}
}

// watch hangs up the RTSP session when the hub ends the stream (the
// publisher was kicked or replaced).
func (p *publisher) watch() {
	select {
	case <-p.st.Done():
		if err := p.st.Err(); err != nil {
			p.log.Info("rtsp publisher disconnected by hub", "reason", err)
		}
		p.sess.Close()
	case <-p.stop:
	}
}

// record starts taking RTP packets from the session.
func (p *publisher) record() {
	for _, it := range p.in.tracks {
		it := it
		p.sess.OnPacketRTP(it.media, it.format, func(pkt *rtp.Packet) {
			pts, ok := p.sess.PacketPTS2(it.media, pkt)
			if !ok {
				return
			}
			p.writeRTP(it, pkt, pts)
		})
	}
}

// writeRTP depacketizes one packet of it and writes the completed units.
func (p *unitWriter) writeRTP(it *ingestTrack, pkt *rtp.Packet, pts int64) {
	units, err := safeDecode(it, pkt, pts)
	if err != nil {
		if !isBenignDecodeError(err) {
			p.warn.warn("rtsp: dropped undecodable data", "codec", it.track.Codec, "error", err)
		}
		return
	}
	if len(units) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range units {
		if err := p.st.Write(u); err != nil {
			if !errors.Is(err, stream.ErrClosed) {
				p.warn.warn("rtsp: write failed", "error", err)
			}
			return
		}
	}
}

// close ends the stream; called when the RTSP session closes.
func (p *publisher) close(reason error) {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.st.Close()
		p.log.Info("rtsp publisher left", "reason", reason)
	})
}

// safeDecode runs the track's depacketizer on one packet and turns a panic
// in the codec helpers (a malformed packet they index without checking)
// into an error for that packet: the packet is dropped, the session and the
// server go on.
func safeDecode(it *ingestTrack, pkt *rtp.Packet, pts int64) (units []*stream.Unit, err error) {
	defer func() {
		if r := recover(); r != nil {
			units, err = nil, fmt.Errorf("malformed %s packet: %v", it.track.Codec, r)
		}
	}()
	return it.decode(pkt, pts, time.Now())
}
