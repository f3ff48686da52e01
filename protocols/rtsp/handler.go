package rtsp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	rtspauth "github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/headers"

	"mps/internal/stream"
)

// handler receives gortsplib's server callbacks. It is a separate type so
// the callbacks do not become part of Server's API.
type handler struct {
	s    *Server
	warn *logLimiter

	// nonces are the Digest challenges of open connections: one per
	// connection, made at its first request, dropped when it closes.
	mu     sync.Mutex
	nonces map[*gortsplib.ServerConn]string
}

// nonce returns the connection's Digest challenge, making it on first use.
func (h *handler) nonce(c *gortsplib.ServerConn) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n, ok := h.nonces[c]; ok {
		return n
	}
	n, err := rtspauth.GenerateNonce()
	if err != nil {
		return "" // no Digest on this connection; Basic still works
	}
	if h.nonces == nil {
		h.nonces = make(map[*gortsplib.ServerConn]string)
	}
	h.nonces[c] = n
	return n
}

var (
	_ gortsplib.ServerHandlerOnAnnounce         = (*handler)(nil)
	_ gortsplib.ServerHandlerOnDescribe         = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSetup            = (*handler)(nil)
	_ gortsplib.ServerHandlerOnPlay             = (*handler)(nil)
	_ gortsplib.ServerHandlerOnRecord           = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSessionClose     = (*handler)(nil)
	_ gortsplib.ServerHandlerOnConnClose        = (*handler)(nil)
	_ gortsplib.ServerHandlerOnResponse         = (*handler)(nil)
	_ gortsplib.ServerHandlerOnPacketsLost      = (*handler)(nil)
	_ gortsplib.ServerHandlerOnDecodeError      = (*handler)(nil)
	_ gortsplib.ServerHandlerOnStreamWriteError = (*handler)(nil)
)

func remoteAddr(c *gortsplib.ServerConn) string {
	if c == nil || c.NetConn() == nil {
		return ""
	}
	return c.NetConn().RemoteAddr().String()
}

func badRequest(err error) *base.Response {
	return &base.Response{StatusCode: base.StatusBadRequest, StatusMessage: statusMessage(err)}
}

// OnConnClose logs why a connection ended.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.mu.Lock()
	delete(h.nonces, ctx.Conn)
	h.mu.Unlock()
	h.s.log.Debug("rtsp connection closed", "remote", remoteAddr(ctx.Conn), "reason", ctx.Error)
}

// OnAnnounce makes the session the publisher of the path.
func (h *handler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	s := h.s
	path, err := streamPath(ctx.Path)
	if err != nil {
		return badRequest(err), nil
	}
	in, err := newIngest(ctx.Description)
	if err != nil {
		return &base.Response{StatusCode: base.StatusUnsupportedMediaType, StatusMessage: statusMessage(err)}, nil
	}
	nonce := h.nonce(ctx.Conn)
	creds := h.credentials(ctx.Request, nonce)
	req := stream.Request{
		Path: path, Protocol: "rtsp", Query: ctx.Query,
		User: creds.user, Pass: creds.pass, Digest: creds.digest, RemoteAddr: remoteAddr(ctx.Conn),
	}
	st, err := s.hub.Publish(s.ctx, req, in.streamTracks(), stream.Options{})
	if err != nil {
		s.log.Info("rtsp publish refused", "path", path, "remote", req.RemoteAddr, "error", err)
		return refusal(err, creds, h.challenge(nonce))
	}
	log := s.log.With("path", path, "remote", req.RemoteAddr)
	for _, sk := range in.skipped {
		log.Warn("rtsp: announced media not supported, ignored", "media", sk)
	}
	p := newPublisher(ctx.Session, in, st, log)
	ctx.Session.SetUserData(p)
	if !s.goWithServer(p.watch) {
		p.close(fmt.Errorf("server shutting down"))
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil
	}
	log.Info("rtsp publisher announced", "tracks", len(in.tracks))
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnRecord starts taking the publisher's packets.
func (h *handler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	p, ok := ctx.Session.UserData().(*publisher)
	if !ok {
		return &base.Response{StatusCode: base.StatusBadRequest}, fmt.Errorf("RECORD without ANNOUNCE")
	}
	p.record()
	releaseConn(ctx.Conn.NetConn())
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// readStream checks a player's right to read the path of a DESCRIBE or
// SETUP and returns the path and its stream, or the refusal to answer.
func (h *handler) readStream(conn *gortsplib.ServerConn, req *base.Request, urlPath, query string,
) (string, *stream.Stream, *base.Response, error) {
	s := h.s
	path, err := streamPath(urlPath)
	if err != nil {
		return "", nil, badRequest(err), nil
	}
	nonce := h.nonce(conn)
	creds := h.credentials(req, nonce)
	sreq := stream.Request{
		Path: path, Protocol: "rtsp", Query: query,
		User: creds.user, Pass: creds.pass, Digest: creds.digest, RemoteAddr: remoteAddr(conn),
	}
	st, err := s.hub.Read(s.ctx, sreq)
	if err != nil {
		s.log.Debug("rtsp read refused", "path", path, "remote", sreq.RemoteAddr, "error", err)
		res, rerr := refusal(err, creds, h.challenge(nonce))
		return "", nil, res, rerr
	}
	return path, st, nil, nil
}

// unsupported refuses a player of a stream RTSP cannot carry, saying why.
func unsupported(err error) *base.Response {
	return &base.Response{StatusCode: base.StatusUnsupportedMediaType, StatusMessage: statusMessage(err)}
}

// OnDescribe answers with the path's session description. It holds
// nothing: the player's output is created at its SETUP.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	path, st, res, err := h.readStream(ctx.Conn, ctx.Request, ctx.Path, ctx.Query)
	if st == nil {
		return res, nil, err
	}
	body, skipped, err := describeSDP(st.Tracks())
	if err != nil {
		h.s.log.Warn("rtsp read refused", "path", path, "remote", remoteAddr(ctx.Conn), "error", err)
		return unsupported(err), nil, nil
	}
	for _, sk := range skipped {
		h.s.log.Debug("rtsp: track not described to the player", "path", path, "track", sk)
	}
	return &base.Response{StatusCode: base.StatusOK, Body: body}, nil, nil
}

// OnSetup accepts a publisher's medias as announced, and gives a player
// session its own output at its first SETUP (the further SETUPs of its
// other medias get the same one).
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	if p, ok := ctx.Session.UserData().(*player); ok {
		return &base.Response{StatusCode: base.StatusOK}, p.out.ss, nil
	}
	path, st, res, err := h.readStream(ctx.Conn, ctx.Request, ctx.Path, ctx.Query)
	if st == nil {
		return res, nil, err
	}
	remote := remoteAddr(ctx.Conn)
	o, err := h.s.newOutput(ctx.Session, path, remote, st)
	switch {
	case errors.Is(err, errShuttingDown):
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
	case err != nil:
		h.s.log.Warn("rtsp read refused", "path", path, "remote", remote, "error", err)
		return unsupported(err), nil, nil
	}
	ctx.Session.SetUserData(&player{out: o})
	return &base.Response{StatusCode: base.StatusOK}, o.ss, nil
}

// OnPlay accepts; the output starts once the response is out (OnResponse).
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	if p, ok := ctx.Session.UserData().(*player); ok {
		ctx.Conn.SetUserData(p)
	}
	releaseConn(ctx.Conn.NetConn())
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnResponse notes the interleaved channel of each medium a player sets
// up over TCP (the media are then written directly, see tcpEgress), and
// starts a player's output after its PLAY has been answered: only then is
// the session an active reader of the ServerStream, so the GOP cache sent
// at once is not lost.
func (h *handler) OnResponse(c *gortsplib.ServerConn, res *base.Response) {
	if tr, ok := res.Header["Transport"]; ok && res.StatusCode == base.StatusOK {
		noteTCPSetup(c, tr)
	}
	p, ok := c.UserData().(*player)
	if !ok {
		return
	}
	c.SetUserData(nil)
	if res.StatusCode == base.StatusOK {
		p.out.startPlaying(c.NetConn())
	}
}

// noteTCPSetup records the channel of a player's SETUP answered with
// interleaved TCP transport. The medium is the one gortsplib has just
// added to the session's set-up media.
func noteTCPSetup(c *gortsplib.ServerConn, tr base.HeaderValue) {
	sess := c.Session()
	if sess == nil {
		return
	}
	p, ok := sess.UserData().(*player)
	if !ok {
		return
	}
	var th headers.Transport
	if err := th.Unmarshal(tr); err != nil || th.Protocol != headers.TransportProtocolTCP || th.InterleavedIDs == nil {
		return
	}
	medias := sess.SetuppedMedias()
	if len(medias) == 0 {
		return
	}
	p.out.setupTCP(medias[len(medias)-1], th.InterleavedIDs[0])
}

// OnSessionClose ends a publisher's stream or a player's output.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	switch v := ctx.Session.UserData().(type) {
	case *publisher:
		v.close(ctx.Error)
	case *player:
		v.out.close()
	}
}

// OnPacketsLost logs RTP loss on a publisher's UDP transport.
func (h *handler) OnPacketsLost(ctx *gortsplib.ServerHandlerOnPacketsLostCtx) {
	if p, ok := ctx.Session.UserData().(*publisher); ok {
		p.warn.warn("rtsp: RTP packets lost", "lost", ctx.Lost)
	}
}

// OnDecodeError logs malformed RTP/RTCP from a client.
func (h *handler) OnDecodeError(ctx *gortsplib.ServerHandlerOnDecodeErrorCtx) {
	if p, ok := ctx.Session.UserData().(*publisher); ok {
		p.warn.warn("rtsp: undecodable packet", "error", ctx.Error)
		return
	}
	h.s.log.Debug("rtsp: undecodable packet", "error", ctx.Error)
}

// OnStreamWriteError logs a player that cannot keep up (its write queue
// is full) or whose socket failed.
func (h *handler) OnStreamWriteError(ctx *gortsplib.ServerHandlerOnStreamWriteErrorCtx) {
	h.warn.warn("rtsp: packets to a player dropped", "path", ctx.Session.SetuppedPath(), "error", ctx.Error)
}
