package rtmp

import (
	"errors"
	"io"
	"time"

	"github.com/yutopp/go-rtmp/message"

	"mps/internal/stream"
)

// csidPreamble carries the data messages that open a player's stream; no
// other message uses it.
const csidPreamble = 7

// play is a player's egress goroutine: it reads the path's stream from the
// newest key frame on and writes FLV tags until the publisher leaves, the
// client goes away or the server closes.
func (h *serverConn) play(sid uint32, req stream.Request, s *stream.Stream) {
	defer h.srv.wg.Done()
	if s == nil {
		s = h.waitStream(req)
		if s == nil {
			if h.nc.lock(h.ctx) == nil {
				_ = h.sendStatus(sid, "error", "NetStream.Play.StreamNotFound", "no stream on "+req.Path)
				h.nc.unlock()
			}
			_ = h.conn.Close()
			return
		}
	}
	if f := h.srv.cfg.AudioToAAC; f != nil && needsAAC(s.Tracks()) {
		d, release, err := f(h.ctx, s)
		if err != nil {
			h.log.Warn("rtmp play: audio transcoding to AAC unavailable, sending video only", "path", req.Path, "error", err)
		} else {
			defer release()
			s = d
		}
	}
	r := s.NewReader(h.ctx, stream.ReaderOptions{Protocol: "rtmp"})
	defer r.Close()
	mux := newTagMuxer(s.Tracks())
	mux.share = h.srv.shares.acquire(s)
	defer h.srv.shares.release(s)
	for _, t := range s.Tracks() {
		if t != mux.video && t != mux.audio {
			h.log.Info("rtmp play: track not sent, RTMP players cannot carry it", "path", req.Path, "track", t.String())
		}
	}
	if mux.empty() {
		h.log.Warn("rtmp play: no track RTMP can carry", "path", req.Path)
		if h.nc.lock(h.ctx) == nil {
			_ = h.sendStatus(sid, "error", "NetStream.Play.Failed", "no track RTMP can carry")
			h.nc.unlock()
		}
		_ = h.conn.Close()
		return
	}

	if err := h.nc.lock(h.ctx); err != nil {
		return
	}
	err := h.send(csidControl, 0, 0, &message.UserCtrl{Event: &message.UserCtrlEventStreamBegin{StreamID: sid}})
	// The library writes from a queue of its own, in order, and a write
	// on a chunk stream first waits until the previous message on that
	// chunk stream is out. So the third message on csidPreamble returns
	// only once onMetaData, and all queued before it, is on the wire,
	// and media written directly from here on come after them.
	if err == nil {
		err = h.send(csidPreamble, 0, sid, dataMessage("|RtmpSampleAccess", true, true))
	}
	if err == nil {
		err = h.send(csidPreamble, 0, sid, dataMessage("onMetaData", mux.metadata()))
	}
	if err == nil {
		err = h.send(csidPreamble, 0, sid, dataMessage("|RtmpSampleAccess", true, true))
	}
	h.nc.unlock()
	if err != nil {
		return
	}
	h.egress(sid, req, r, mux)
}

// egress sends each unit's tags, with all their chunks, in one write. The
// library is bypassed for media: it would copy each body twice and write
// each chunk apart from its header; the player's chunk size is the one
// netConn announced.
func (h *serverConn) egress(sid uint32, req stream.Request, r *stream.Reader, mux *tagMuxer) {
	var tags []flvTag
	var buf []byte
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				h.endPlay(sid, req)
			}
			return
		}
		tags = mux.mux(u, tags[:0])
		if len(tags) == 0 {
			continue
		}
		buf = buf[:0]
		for _, t := range tags {
			m := rawMessage{csid: csidVideo, ts: t.ts, typ: t.typ, sid: sid, payload: t.body}
			if t.typ == msgAudio {
				m.csid = csidAudio
			}
			buf = appendChunksExt(buf, &m, libChunkSize, true)
		}
		err = h.nc.writeChunks(buf)
		if cap(buf) > 1<<20 {
			buf = nil // a big key frame: do not hold its size for ever
		}
		if err != nil {
			h.log.Info("rtmp player dropped", "path", req.Path, "error", err)
			h.nc.kick()
			return
		}
	}
}

// waitStream polls the hub until the path has a publisher, for at most
// PlayWait.
func (h *serverConn) waitStream(req stream.Request) *stream.Stream {
	deadline := time.Now().Add(h.srv.cfg.PlayWait)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-h.ctx.Done():
			return nil
		case <-t.C:
		}
		s, err := h.srv.hub.Read(h.ctx, req)
		if err == nil {
			return s
		}
		if !errors.Is(err, stream.ErrNotFound) {
			return nil
		}
	}
	return nil
}

// endPlay tells the player the stream is over and hangs up once it is
// written, so that players such as ffmpeg exit at once.
func (h *serverConn) endPlay(sid uint32, req stream.Request) {
	h.log.Info("rtmp play ended: publisher left", "path", req.Path)
	if h.nc.lock(h.ctx) == nil {
		_ = h.sendStatus(sid, "status", "NetStream.Play.UnpublishNotify", req.Path+" is now unpublished")
		_ = h.sendStatus(sid, "status", "NetStream.Play.Stop", "stopped playing "+req.Path)
		_ = h.send(csidControl, 0, 0, &message.UserCtrl{Event: &message.UserCtrlEventStreamEOF{StreamID: sid}})
		h.nc.unlock()
	}
	_ = h.conn.Close() // waits for queued writes, then closes the socket
}

// needsAAC reports whether a stream's only audio is one RTMP players cannot
// read (Opus), so it should be transcoded for them.
func needsAAC(tracks []*stream.Track) bool {
	opus := false
	for _, t := range tracks {
		switch t.Codec {
		case stream.CodecAAC, stream.CodecPCMA, stream.CodecPCMU:
			return false
		case stream.CodecOpus:
			opus = true
		}
	}
	return opus
}
