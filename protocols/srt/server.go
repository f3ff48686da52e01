package srt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/auth"
	"mps/internal/stream"
)

// Defaults for Config fields left zero.
const (
	// DefaultHandshakeTimeout bounds how long a publisher may take to
	// send a stream whose tracks are known, and how long a reader's request
	// waits for an on-demand source.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultReadTimeout ends a publisher that sends nothing for this long.
	DefaultReadTimeout = 10 * time.Second
	// maxPendingRequests bounds connection requests being vetted at once;
	// more are refused with REJ_BACKLOG.
	maxPendingRequests = 64
)

// Config is the SRT adapter's configuration; the server maps its YAML
// config to it.
type Config struct {
	// Address is the UDP address to listen on, e.g. ":8890" or
	// "127.0.0.1:0".
	Address string
	// Latency is the SRT receive/peer latency (TSBPD delay); zero keeps
	// gosrt's default of 120 ms. Callers asking for more get more.
	Latency time.Duration
	// Passphrase returns the passphrase a path requires, "" for none.
	// Clients of a path with a passphrase must encrypt with exactly it;
	// clients of a path without one must not encrypt. Nil means no path
	// has one.
	Passphrase func(path string) string
	// HandshakeTimeout and ReadTimeout default to DefaultHandshakeTimeout
	// and DefaultReadTimeout.
	HandshakeTimeout time.Duration
	ReadTimeout      time.Duration
	// Admit, when set, takes a slot for a session from remote before it
	// is vetted, or refuses it (connection caps); release frees the slot
	// when the session ends.
	Admit func(remote net.Addr) (release func(), err error)
}

// Server accepts SRT publishers and readers on one UDP port.
type Server struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	ln      gosrt.Listener
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pending chan struct{}
	once    sync.Once
	shares  tsShares // MPEG-TS of each read stream, muxed once
}

// New returns a server that publishes into and reads from hub. Nothing
// happens until Start.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Server {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:     cfg,
		hub:     hub,
		log:     log.With("protocol", "srt"),
		ctx:     ctx,
		cancel:  cancel,
		pending: make(chan struct{}, maxPendingRequests),
	}
}

// Start binds the UDP port and starts accepting connections. The bound
// address is available from Addr as soon as it returns.
func (s *Server) Start() error {
	conf := gosrt.DefaultConfig()
	// gosrt cuts a reader's writes into SRT packets of this size: seven
	// whole TS packets, which every SRT receiver takes (a peer with a
	// smaller MTU gets smaller packets).
	conf.PayloadSize = chunkSize
	if s.cfg.Latency > 0 {
		conf.ReceiverLatency = s.cfg.Latency
		conf.PeerLatency = s.cfg.Latency
	}
	ln, err := gosrt.Listen("srt", s.cfg.Address, conf)
	if err != nil {
		return fmt.Errorf("srt listen %s: %w", s.cfg.Address, err)
	}
	s.ln = ln
	s.log.Info("srt listening", "addr", s.Addr())
	s.wg.Add(1)
	go s.acceptLoop()
	return nil
}

// Addr returns the bound address, e.g. "127.0.0.1:8890", or "" before
// Start.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting, closes every connection and waits for all of the
// server's goroutines. Publishers' streams end; readers are hung up.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		if s.ln != nil {
			s.ln.Close()
		}
		s.wg.Wait()
	})
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		req, err := s.ln.Accept2()
		if err != nil {
			if !errors.Is(err, gosrt.ErrListenerClosed) && s.ctx.Err() == nil {
				s.log.Error("srt accept", "err", err)
			}
			return
		}
		select {
		case s.pending <- struct{}{}:
		default:
			s.log.Warn("srt connection refused: too many pending requests", "remote", req.RemoteAddr())
			req.Reject(gosrt.REJ_BACKLOG)
			continue
		}
		s.wg.Add(1)
		go s.handleRequest(req)
	}
}

// handleRequest vets one connection request and serves the connection if
// it is accepted. Every request is answered, by Accept or Reject, so that
// gosrt releases its bookkeeping for it.
func (s *Server) handleRequest(req gosrt.ConnRequest) {
	defer s.wg.Done()
	released := false
	release := func() {
		if !released {
			released = true
			<-s.pending
		}
	}
	defer release()

	log := s.log.With("remote", req.RemoteAddr().String())
	reject := func(code gosrt.RejectionReason, msg string, err error) {
		log.Warn("srt connection refused: "+msg, "streamid", redactStreamID(req.StreamId()), "reject", rejectionName(code), "err", err)
		req.Reject(code)
	}
	if s.cfg.Admit != nil {
		free, err := s.cfg.Admit(req.RemoteAddr())
		if err != nil {
			reject(gosrt.REJ_RESOURCE, "connection limit reached", err)
			return
		}
		defer free()
	}
	if req.Version() != 5 {
		reject(gosrt.REJX_BAD_REQUEST, "handshake v4 carries no stream ID", nil)
		return
	}
	id, err := ParseStreamID(req.StreamId())
	if err != nil {
		// the parse error quotes the stream ID, which may hold a password
		// or token: log only what kind of error it was
		code, kind := gosrt.REJX_BAD_REQUEST, ErrBadStreamID
		if errors.Is(err, ErrBadMode) {
			kind = ErrBadMode
			code = gosrt.REJX_BAD_MODE
		}
		reject(code, "bad stream ID", kind)
		return
	}
	log = log.With("path", id.Path, "mode", id.Mode.String())

	if code, msg := s.checkPassphrase(req, id.Path); code != 0 {
		reject(code, msg, nil)
		return
	}
	sreq := stream.Request{
		Path: id.Path, Protocol: "srt", Query: id.Query,
		User: id.User, Pass: id.Pass, RemoteAddr: req.RemoteAddr().String(),
	}
	if auth.LooksLikeJWT(id.Session) {
		sreq.Token = id.Session // #!::r=PATH,s=TOKEN
	}

	if id.Mode == ModePublish {
		// refuse a busy path or bad credentials with a code now, while the
		// handshake can still carry one; Publish itself needs the tracks
		if c, ok := s.hub.(publishChecker); ok {
			if err := c.CheckPublish(sreq); err != nil {
				reject(rejectionFor(err), "publish refused", err)
				return
			}
		}
	}
	var st *stream.Stream
	if id.Mode == ModeRead {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
		st, err = s.hub.Read(ctx, sreq)
		cancel()
		if err != nil {
			reject(rejectionFor(err), "read refused", err)
			return
		}
	}
	conn, err := req.Accept()
	if err != nil {
		log.Warn("srt accept failed", "err", err)
		return
	}
	release()
	if s.ctx.Err() != nil { // accepted while closing: the listener no longer tracks it
		conn.Close()
		return
	}
	if id.Mode == ModeRead {
		s.serveReader(conn, st, log)
		return
	}
	s.servePublisher(conn, sreq, log)
}

// publishChecker is the optional hub method that judges a publisher before
// its tracks are known (pathmgr implements it).
type publishChecker interface {
	CheckPublish(req stream.Request) error
}

// checkPassphrase applies the path's passphrase to the request; a zero
// code means it passes.
func (s *Server) checkPassphrase(req gosrt.ConnRequest, path string) (gosrt.RejectionReason, string) {
	want := ""
	if s.cfg.Passphrase != nil {
		want = s.cfg.Passphrase(path)
	}
	switch {
	case want == "" && req.IsEncrypted():
		return gosrt.REJ_UNSECURE, "client encrypts but the path has no passphrase"
	case want == "":
		return 0, ""
	case !req.IsEncrypted():
		return gosrt.REJ_UNSECURE, "passphrase required"
	}
	if err := req.SetPassphrase(want); err != nil {
		return gosrt.REJ_BADSECRET, "wrong passphrase"
	}
	return 0, ""
}

// rejectionFor maps the hub's refusals to SRT rejection codes.
func rejectionFor(err error) gosrt.RejectionReason {
	switch {
	case errors.Is(err, stream.ErrNotFound), errors.Is(err, context.DeadlineExceeded):
		return gosrt.REJX_NOTFOUND
	case errors.Is(err, auth.ErrForbidden):
		return gosrt.REJX_FORBIDDEN
	case errors.Is(err, stream.ErrUnauthorized):
		return gosrt.REJX_UNAUTHORIZED
	case errors.Is(err, stream.ErrPathBusy):
		return gosrt.REJX_CONFLICT
	case errors.Is(err, context.Canceled):
		return gosrt.REJX_DOWN
	}
	return gosrt.REJX_BAD_REQUEST
}

// redactStreamID drops the password of a stream ID for logs.
func redactStreamID(streamID string) string {
	if id, err := ParseStreamID(streamID); err == nil {
		return id.String()
	}
	// malformed: its fields cannot be told apart, so show none of them
	return fmt.Sprintf("(malformed, %d bytes)", len(streamID))
}
