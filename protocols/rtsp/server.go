package rtsp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/auth"

	"mps/internal/stream"
)

// Server is the RTSP server: publishers ANNOUNCE/RECORD into the hub,
// players DESCRIBE/SETUP/PLAY from it.
type Server struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	srv    *gortsplib.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	addr    net.Addr
	outputs map[*output]struct{} // one per player session
	shares  rtpShares            // RTP packets of each played stream, made once
	bufs    sync.Pool            // write buffers of the TCP players (*[]byte)
	started bool
	closed  bool
}

// New returns a server that publishes into and reads from hub. It does
// not listen until Start.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Server {
	cfg.setDefaults()
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:     cfg,
		hub:     hub,
		log:     log,
		ctx:     ctx,
		cancel:  cancel,
		outputs: make(map[*output]struct{}),
		bufs:    sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }},
	}
}

// Start binds the RTSP (and, when configured, the UDP RTP/RTCP) listeners
// and starts serving. The bound address is known when it returns.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return fmt.Errorf("rtsp server already started or closed")
	}
	s.started = true
	s.mu.Unlock()

	if (s.cfg.UDPRTPAddress == "") != (s.cfg.UDPRTCPAddress == "") {
		return fmt.Errorf("rtsp: UDPRTPAddress and UDPRTCPAddress must be set together")
	}
	s.srv = &gortsplib.Server{
		Handler:        &handler{s: s, warn: newLogLimiter(s.log)},
		RTSPAddress:    s.cfg.Address,
		UDPRTPAddress:  s.cfg.UDPRTPAddress,
		UDPRTCPAddress: s.cfg.UDPRTCPAddress,
		ReadTimeout:    s.cfg.ReadTimeout,
		WriteTimeout:   s.cfg.WriteTimeout,
		WriteQueueSize: s.cfg.WriteQueueSize,
		TLSConfig:      s.cfg.TLS,
		// Challenges are made by the handler (refusal): Basic and Digest
		// with the realm hash check in the authorizer, since gortsplib's
		// own Digest check needs clear passwords.
		AuthMethods: []auth.VerifyMethod{auth.VerifyMethodBasic, auth.VerifyMethodDigestMD5},
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			s.addr = l.Addr()
			s.mu.Unlock()
			if s.cfg.WrapListener != nil {
				l = s.cfg.WrapListener(l)
			}
			return &guardListener{Listener: l, timeout: s.cfg.ReadTimeout}, nil
		},
	}
	if err := s.srv.Start(); err != nil {
		return fmt.Errorf("rtsp listen on %s: %w", s.cfg.Address, err)
	}
	s.log.Info("rtsp server listening", "address", s.Addr().String(),
		"udp_rtp", s.cfg.UDPRTPAddress, "udp_rtcp", s.cfg.UDPRTCPAddress)
	return nil
}

// Addr returns the bound RTSP address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops the server: every player and publisher is disconnected, the
// publishers' streams end, and every goroutine the server started has
// returned when Close does.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	started := s.started && s.srv != nil
	s.mu.Unlock()

	s.cancel()
	if started {
		s.srv.Close()
	}
	s.wg.Wait()
}

// goWithServer runs f on a goroutine owned by the server (waited for by
// Close). It reports false when the server is already closing.
func (s *Server) goWithServer(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}
