package rtmp

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"

	"mps/internal/stream"
)

// Config is the RTMP server's configuration; the server package fills it
// from the YAML config.
type Config struct {
	// Addr is the listen address, e.g. ":1935" or "127.0.0.1:0".
	Addr string
	// TLS, when set, makes the listener speak RTMPS.
	TLS *tls.Config
	// WrapListener, when set, wraps the bound TCP listener (connection
	// caps) before TLS and the RTMP handshake.
	WrapListener func(net.Listener) net.Listener
	// ReadTimeout bounds the handshake and each wait for a publisher's
	// next data (default 10 s). Players are not subject to it.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write to a client (default 10 s); a player
	// that stops reading for that long is dropped.
	WriteTimeout time.Duration
	// TrackWait is how long after its first media tag a publisher may take
	// to send the sequence headers of all announced tracks (default 2 s).
	TrackWait time.Duration
	// PlayWait lets a player wait that long for a publisher to appear on
	// its path instead of being refused at once (default 0: refuse).
	PlayWait time.Duration
	// AudioToAAC, when set, gives players of a stream whose only audio is
	// Opus (a WebRTC publisher) a version with AAC audio and the same video,
	// shared per path; release ends this player's use. Without it such
	// players get video only.
	AudioToAAC func(ctx context.Context, s *stream.Stream) (derived *stream.Stream, release func(), err error)
}

func (c *Config) defaults() {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.TrackWait <= 0 {
		c.TrackWait = 2 * time.Second
	}
}

// Server accepts RTMP publishers and players and connects them to the hub.
type Server struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	ln     net.Listener
	srv    *gortmp.Server
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*netConn]struct{}
	closed bool

	shares tagShares // tag bodies shared by the players of each stream
}

// New returns a server; Start binds it.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Server {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, hub: hub, log: log, ctx: ctx, cancel: cancel, conns: make(map[*netConn]struct{})}
}

// Start binds the listener and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("rtmp listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	if s.cfg.WrapListener != nil {
		ln = s.cfg.WrapListener(ln)
	}
	var l net.Listener = &trackingListener{Listener: ln, s: s}
	if s.cfg.TLS != nil {
		l = tls.NewListener(l, s.cfg.TLS)
	}
	s.srv = gortmp.NewServer(&gortmp.ServerConfig{OnConnect: s.onConnect})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(l)
	}()
	s.log.Info("rtmp listening", "addr", ln.Addr().String(), "tls", s.cfg.TLS != nil)
	return nil
}

// Addr returns the bound listen address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops listening, hangs up every client and waits for all the
// server's goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]*netConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	if s.srv != nil {
		_ = s.srv.Close()
	}
	if s.ln != nil {
		// go-rtmp closes only a listener its Serve goroutine has already
		// registered; a Close right after Start would leave Accept blocked.
		_ = s.ln.Close()
	}
	for _, c := range conns {
		c.kick()
	}
	s.wg.Wait()
}

// trackingListener counts each accepted connection in the server's wait
// group before go-rtmp starts its goroutine, and paces accept errors (the
// library retries them in a tight loop).
type trackingListener struct {
	net.Listener
	s *Server
}

type acceptedConn struct {
	net.Conn
	done func()
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		select {
		case <-l.s.ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		return nil, err
	}
	l.s.wg.Add(1)
	return &acceptedConn{Conn: c, done: sync.OnceFunc(l.s.wg.Done)}, nil
}

// onConnect wraps each accepted socket and gives it its own handler.
func (s *Server) onConnect(c net.Conn) (io.ReadWriteCloser, *gortmp.ConnConfig) {
	done := func() {}
	raw := c
	if tc, ok := c.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if ac, ok := raw.(*acceptedConn); ok {
		done = ac.done
	}
	h := &serverConn{srv: s, remote: c.RemoteAddr().String()}
	h.ctx, h.cancel = context.WithCancel(s.ctx)
	h.log = s.log.With("remote", h.remote)
	var nc *netConn
	nc = newNetConn(c, s.cfg.ReadTimeout, s.cfg.WriteTimeout, func() {
		h.cancel()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		done()
	})
	h.nc = nc
	nc.sink = h
	s.mu.Lock()
	closed := s.closed
	s.conns[nc] = struct{}{}
	s.mu.Unlock()
	if closed {
		nc.kick()
	}
	return nc, &gortmp.ConnConfig{
		Handler: h,
		ControlState: gortmp.StreamControlStateConfig{
			DefaultChunkSize:  libChunkSize,
			MaxChunkSize:      maxChunkSize,
			MaxChunkStreams:   maxChunkStreams,
			MaxMessageStreams: 8,
			MaxMessageSize:    maxChunkSize,
		},
		RPreset: serverPreset,
	}
}

var serverPreset = &gortmp.DefaultResponsePreset{
	ServerConnectResultProperties: message.NetConnectionConnectResultProperties{
		FMSVer: "FMS/3,0,1,123", Capabilities: 31, Mode: 1,
	},
	ServerConnectResultData: map[string]interface{}{"type": "mps", "version": "1"},
}
