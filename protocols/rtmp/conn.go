package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/yutopp/go-amf0"
	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"

	"mps/internal/stream"
)

// Chunk streams we write on, as ffmpeg does.
const (
	csidControl = 2
	csidAudio   = 4
	csidStatus  = 5
	csidVideo   = 6
	csidCommand = 3
)

var errConnClosed = errors.New("rtmp connection closed")

// serverConn handles one client connection. go-rtmp calls its methods on
// the connection's read goroutine, which holds the write lock (see
// netConn), so they may write directly; a player's egress goroutine takes
// the lock around its writes.
type serverConn struct {
	gortmp.DefaultHandler
	srv    *Server
	nc     *netConn
	conn   *gortmp.Conn
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	remote string

	app, appQuery string
	in            *ingest
	pubSID        uint32
	publishing    bool // the client has not deleted stream pubSID
	playing       bool
}

var _ gortmp.Handler = (*serverConn)(nil)

func (h *serverConn) OnServe(conn *gortmp.Conn) { h.conn = conn }

func (h *serverConn) OnConnect(_ uint32, cmd *message.NetConnectionConnect) error {
	app, q, _ := strings.Cut(cmd.Command.App, "?")
	h.app = strings.Trim(app, "/")
	h.appQuery = q
	if h.app == "" {
		return fmt.Errorf("connect without an application name")
	}
	return nil
}

// request maps a stream name (with its ?query) to a hub request.
func (h *serverConn) request(name string) (stream.Request, error) {
	name, q, _ := strings.Cut(name, "?")
	name = strings.Trim(name, "/")
	if name == "" || h.app == "" {
		return stream.Request{}, fmt.Errorf("empty stream name")
	}
	query := h.appQuery
	if q != "" {
		if query != "" {
			query += "&"
		}
		query += q
	}
	vals, _ := url.ParseQuery(query)
	return stream.Request{
		Path: h.app + "/" + name, Protocol: "rtmp", Query: query,
		User: vals.Get("user"), Pass: vals.Get("pass"), RemoteAddr: h.remote,
	}, nil
}

func (h *serverConn) OnPublish(sctx *gortmp.StreamContext, _ uint32, cmd *message.NetStreamPublish) error {
	if h.in != nil || h.playing {
		return fmt.Errorf("publish on a connection that already publishes or plays")
	}
	req, err := h.request(cmd.PublishingName)
	if err != nil {
		return err
	}
	if c, ok := h.srv.hub.(interface{ CheckPublish(stream.Request) error }); ok {
		// refuse bad credentials or a busy path now, before the client
		// sends media, with the status RTMP clients show
		if err := c.CheckPublish(req); err != nil {
			h.log.Warn("rtmp publish refused", "path", req.Path, "err", err)
			_ = h.sendStatus(sctx.StreamID, "error", publishStatus(err), err.Error())
			return err
		}
	}
	h.in = newIngest(h.srv.hub, req, h.srv.cfg.TrackWait, h.log)
	h.pubSID = sctx.StreamID
	h.publishing = true
	h.log.Info("rtmp publisher connected", "path", req.Path)
	return nil
}

func (h *serverConn) OnSetDataFrame(_ uint32, data *message.NetStreamSetDataFrame) error {
	if h.in == nil {
		return nil
	}
	if meta := decodeMetadata(data.Payload); meta != nil {
		h.in.onMetadata(meta)
	}
	return nil
}

// decodeMetadata reads "onMetaData" followed by its object or ECMA array.
func decodeMetadata(b []byte) map[string]any {
	dec := amf0.NewDecoder(bytes.NewReader(b))
	var name string
	if dec.Decode(&name) != nil || name != "onMetaData" {
		return nil
	}
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	switch m := v.(type) {
	case map[string]any:
		return m
	case amf0.ECMAArray:
		return m
	}
	return nil
}

func (h *serverConn) OnAudio(ts uint32, payload io.Reader) error {
	return h.mediaFrom(ts, payload, false)
}

func (h *serverConn) OnVideo(ts uint32, payload io.Reader) error {
	return h.mediaFrom(ts, payload, true)
}

// mediaFrom handles a media message the library delivers: netConn sends
// it there when it cannot take it directly (see netConn.handle).
func (h *serverConn) mediaFrom(ts uint32, payload io.Reader, video bool) error {
	if h.in == nil {
		return nil
	}
	body, err := h.nc.readPayload(payload)
	if err != nil {
		return err
	}
	return h.media(ts, body, video)
}

// takesMedia implements mediaSink: media on the stream this connection
// publishes on skips the library, until the client deletes that stream.
func (h *serverConn) takesMedia(sid uint32) bool {
	return h.in != nil && h.publishing && sid == h.pubSID
}

// media implements mediaSink, and handles the library's media too. body
// becomes the units' payload, so it must have no spare capacity.
func (h *serverConn) media(ts uint32, body []byte, video bool) error {
	if h.in == nil {
		return nil
	}
	published := h.in.stream() != nil
	var err error
	if video {
		err = h.in.onVideo(h.ctx, ts, body)
	} else {
		err = h.in.onAudio(h.ctx, ts, body)
	}
	if !published && h.in.stream() != nil {
		h.watchPublished(h.in.stream())
	}
	var pe *publishError
	if errors.As(err, &pe) {
		h.log.Warn("rtmp publish refused", "path", h.in.req.Path, "err", pe.err)
		_ = h.sendStatus(h.pubSID, "error", publishStatus(pe.err), pe.err.Error())
	}
	return err
}

// ack implements mediaSink. netConn calls it on the read goroutine, which
// holds the write lock, as the library's own acknowledgements were sent.
func (h *serverConn) ack(seq uint32) error {
	if h.conn == nil {
		return nil
	}
	return h.send(csidControl, 0, 0, &message.Ack{SequenceNumber: seq})
}

// publishStatus is the onStatus code of a refused publish.
func publishStatus(err error) string {
	switch {
	case errors.Is(err, stream.ErrPathBusy):
		return "NetStream.Publish.BadName"
	case errors.Is(err, stream.ErrUnauthorized):
		return "NetStream.Publish.Unauthorized"
	}
	return "NetStream.Publish.Failed"
}

// watchPublished hangs up when the hub ends the stream (another publisher
// took over, or the API kicked this one).
func (h *serverConn) watchPublished(s *stream.Stream) {
	h.srv.wg.Add(1)
	go func() {
		defer h.srv.wg.Done()
		select {
		case <-s.Done():
			if err := s.Err(); err != nil {
				h.log.Info("rtmp publisher hung up by the hub", "path", s.Path(), "reason", err)
				h.nc.kick()
			}
		case <-h.ctx.Done():
		}
	}()
}

func (h *serverConn) OnFCUnpublish(uint32, *message.NetStreamFCUnpublish) error {
	if h.in != nil {
		h.in.close()
	}
	return nil
}

func (h *serverConn) OnDeleteStream(_ uint32, cmd *message.NetStreamDeleteStream) error {
	if h.in != nil && cmd.StreamID == h.pubSID {
		h.in.close()
		h.publishing = false
	}
	return nil
}

func (h *serverConn) OnPlay(sctx *gortmp.StreamContext, _ uint32, cmd *message.NetStreamPlay) error {
	if h.in != nil || h.playing {
		return fmt.Errorf("play on a connection that already publishes or plays")
	}
	req, err := h.request(cmd.StreamName)
	if err != nil {
		return err
	}
	s, err := h.srv.hub.Read(h.ctx, req)
	if err != nil && !(errors.Is(err, stream.ErrNotFound) && h.srv.cfg.PlayWait > 0) {
		h.log.Info("rtmp play refused", "path", req.Path, "err", err)
		if errors.Is(err, stream.ErrUnauthorized) {
			// on the read goroutine: no netConn lock needed
			_ = h.sendStatus(sctx.StreamID, "error", "NetStream.Play.Failed", err.Error())
		}
		return err
	}
	h.playing = true
	h.nc.readTimeout.Store(0) // players may stay silent
	h.log.Info("rtmp player connected", "path", req.Path)
	h.srv.wg.Add(1)
	go h.play(sctx.StreamID, req, s)
	return nil
}

func (h *serverConn) OnClose() {
	h.cancel()
	if h.in != nil && !h.playing {
		h.in.close()
	}
}

// send writes one message. Callers other than the read goroutine must
// hold the netConn lock.
func (h *serverConn) send(csid int, ts, sid uint32, msg message.Message) error {
	cs := h.conn.GetChunkStreamer()
	select {
	case <-cs.Done():
		return errConnClosed
	default:
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.srv.cfg.WriteTimeout)
	defer cancel()
	return h.conn.Write(ctx, csid, ts, &gortmp.ChunkMessage{StreamID: sid, Message: msg})
}

func (h *serverConn) sendStatus(sid uint32, level, code, desc string) error {
	return h.send(csidStatus, 0, sid, statusMessage(level, code, desc))
}

func statusMessage(level, code, desc string) *message.CommandMessage {
	return commandMessage("onStatus", 0, nil, map[string]any{"level": level, "code": code, "description": desc})
}

func commandMessage(name string, txn int64, args ...any) *message.CommandMessage {
	buf := new(bytes.Buffer)
	enc := amf0.NewEncoder(buf)
	for _, a := range args {
		_ = enc.Encode(a)
	}
	return &message.CommandMessage{CommandName: name, TransactionID: txn, Encoding: message.EncodingTypeAMF0, Body: buf}
}

func dataMessage(name string, args ...any) *message.DataMessage {
	buf := new(bytes.Buffer)
	enc := amf0.NewEncoder(buf)
	for _, a := range args {
		_ = enc.Encode(a)
	}
	return &message.DataMessage{Name: name, Encoding: message.EncodingTypeAMF0, Body: buf}
}
