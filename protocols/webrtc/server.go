package webrtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"mps/internal/stream"
)

// Server is the WHIP/WHEP adapter: an HTTP handler for signalling plus the
// ICE sockets all sessions share.
type Server struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	api        *webrtc.API
	udpConn    net.PacketConn
	tcpLn      net.Listener
	udpMux     ice.UDPMux
	tcpMux     ice.TCPMux
	iceServers []webrtc.ICEServer

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[string]session
	started  bool
	closed   bool
	wg       sync.WaitGroup
}

// session is a WHIP publisher or a WHEP player, as the session table and
// the resource URLs see it.
type session interface {
	route() route
	// close ends the session and waits for its goroutines.
	close()
	// addCandidates applies a trickle PATCH.
	addCandidates(ufrag string, cands []trickleCandidate) error
}

// New returns a server; Start binds its ICE ports.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Server {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, hub: hub, log: log.With("protocol", "webrtc"),
		ctx: ctx, cancel: cancel,
		sessions: make(map[string]session),
	}
}

// Start binds the ICE UDP port (and the ICE-TCP port unless disabled) so
// that signalling can answer with candidates on them.
func (s *Server) Start() error {
	hosts, err := resolveHosts(s.cfg.AdditionalHosts)
	if err != nil {
		return err
	}
	udp, err := net.ListenPacket("udp", s.cfg.ICEUDPAddress)
	if err != nil {
		return fmt.Errorf("webrtc: ICE UDP %s: %w", s.cfg.ICEUDPAddress, err)
	}
	logs := pionLogs{log: s.log}
	udpMux := webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), udp)
	var tcpLn net.Listener
	var tcpMux ice.TCPMux
	if !s.cfg.DisableICETCP {
		tcpLn, err = net.Listen("tcp", s.cfg.ICETCPAddress)
		if err != nil {
			_ = udpMux.Close()
			_ = udp.Close()
			return fmt.Errorf("webrtc: ICE TCP %s: %w", s.cfg.ICETCPAddress, err)
		}
		tcpMux = webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), tcpLn, 64)
	}
	// Loopback candidates are only worth announcing when the server is
	// bound to loopback (tests, a local proxy in front).
	loopback := false
	if a, ok := udp.LocalAddr().(*net.UDPAddr); ok && a.IP.IsLoopback() {
		loopback = true
	}
	api, err := s.newAPI(udpMux, tcpMux, loopback, hosts)
	if err != nil {
		_ = udpMux.Close()
		_ = udp.Close()
		if tcpMux != nil {
			_ = tcpMux.Close()
			_ = tcpLn.Close()
		}
		return fmt.Errorf("webrtc: %w", err)
	}
	var servers []webrtc.ICEServer
	if len(s.cfg.STUNServers) > 0 {
		servers = []webrtc.ICEServer{{URLs: s.cfg.STUNServers}}
	}
	s.mu.Lock()
	s.api, s.udpConn, s.udpMux, s.tcpLn, s.tcpMux, s.iceServers = api, udp, udpMux, tcpLn, tcpMux, servers
	s.started = true
	s.mu.Unlock()
	s.log.Info("webrtc ICE listening", "udp", udp.LocalAddr().String(), "tcp", addrString(tcpLn))
	return nil
}

func addrString(l net.Listener) string {
	if l == nil {
		return "disabled"
	}
	return l.Addr().String()
}

// Addr returns the bound ICE UDP address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udpConn == nil {
		return nil
	}
	return s.udpConn.LocalAddr()
}

// TCPAddr returns the bound ICE-TCP address, or nil when disabled or
// before Start.
func (s *Server) TCPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
}

// Close ends every session (publishers' streams end, players are hung up)
// and releases the ICE ports.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	all := make([]session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	s.cancel()
	for _, ss := range all {
		ss.close()
	}
	s.wg.Wait()
	if s.udpMux != nil {
		_ = s.udpMux.Close()
		_ = s.udpConn.Close()
	}
	if s.tcpMux != nil {
		_ = s.tcpMux.Close()
		_ = s.tcpLn.Close()
	}
}

// errShuttingDown refuses new sessions during Close.
var errShuttingDown = errors.New("webrtc server shutting down")

// errNotStarted refuses sessions before Start.
var errNotStarted = errors.New("webrtc server not started")

// register adds a session and runs fn as its owner goroutine, or refuses
// when the server is closing.
func (s *Server) register(id string, ss session, run func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errShuttingDown
	}
	s.sessions[id] = ss
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		run()
	}()
	return nil
}

func (s *Server) unregister(id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

func (s *Server) lookup(r route) session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[r.session]
	if !ok {
		return nil
	}
	if sr := ss.route(); sr.path != r.path || sr.kind != r.kind {
		return nil
	}
	return ss
}

// SessionCount returns the number of live WHIP and WHEP sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// pcAPI returns the pion API, or why sessions cannot be made.
func (s *Server) pcAPI() (*webrtc.API, []webrtc.ICEServer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, nil, errShuttingDown
	case !s.started:
		return nil, nil, errNotStarted
	}
	return s.api, s.iceServers, nil
}

func newSessionID() string {
	var b [sessionIDLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handler serves /webrtc/PATH/whip, /webrtc/PATH/whep and their session
// resources. Mount it at URLPrefix without stripping the prefix.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }
