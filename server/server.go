package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mps/hls"
	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/protocols/rtmp"
	"mps/protocols/rtsp"
	"mps/protocols/srt"
	"mps/protocols/webrtc"
	"mps/recorder"
	"mps/tasks"
	"mps/transcode"
)

// Version is the MPS version reported by `mps version` and the API; the
// build sets it with -ldflags "-X mps/server.Version=...".
var Version = "dev"

// component is a protocol adapter or processor with a start/stop lifecycle.
type component interface {
	Start() error
	Close()
}

// Server is one running MPS instance.
type Server struct {
	log *slog.Logger
	cfg atomic.Pointer[config.Config]

	bus   *events.Bus
	paths *pathmgr.Manager

	rtmp *rtmp.Server
	rtsp *rtsp.Server
	srt  *srt.Server
	wrtc *webrtc.Server
	rec  *recorder.Manager
	hls  *hls.Server
	tc   *transcode.Manager
	jobs *tasks.Service
	qc   *qcManager
	caps capabilities

	httpLn  net.Listener
	httpSrv *http.Server
	rates   *rateMeter

	started    []component
	ctx        context.Context // ends at Close: owner of forwards and loops
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	startedAt  time.Time
	closeOnce  sync.Once
	reloadLock sync.Mutex
}

// New builds a server for cfg. Nothing listens until Start.
func New(cfg *config.Config, log *slog.Logger) *Server {
	s := &Server{log: log, bus: events.NewBus()}
	s.cfg.Store(cfg)
	s.paths = pathmgr.New(log.With("component", "paths"), s.bus, nil)
	s.paths.SetPolicy(s.policyFunc())
	s.paths.SetSourceFunc(s.pull)
	s.paths.OnPublish(s.startForwards)
	s.rates = newRateMeter()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Config returns the config in force.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Paths returns the path manager (for tests and embedding).
func (s *Server) Paths() *pathmgr.Manager { return s.paths }

// Bus returns the event bus.
func (s *Server) Bus() *events.Bus { return s.bus }

// Start binds every enabled listener and starts serving. On error, whatever
// was started is stopped again.
func (s *Server) Start() error {
	cfg := s.Config()
	ctx := s.ctx
	s.startedAt = time.Now()

	// Consumers first: the transcoder, recorder, task service and HLS
	// packager register their publish hooks before any listener opens.
	s.caps = detectCapabilities()
	s.qc = newQCManager(s)
	s.paths.OnPublish(s.qc.streamStarted)

	s.tc = s.newTranscoder()
	s.paths.OnPublish(s.tc.StreamStarted)
	s.paths.SetDemandFunc(s.tc.Demand)

	rec, err := recorder.New(recorder.Config{
		Dir:          cfg.DataPath(cfg.Record.Directory),
		PathTemplate: cfg.Record.Path,
		Rule:         s.recordRule,
	}, s.bus, s.log)
	if err != nil {
		s.Close()
		return fmt.Errorf("recorder: %w", err)
	}
	s.rec = rec
	s.paths.OnPublish(rec.StreamStarted)

	jobs, err := tasks.New(s.tasksConfig(), s.bus, s.log)
	if err != nil {
		s.Close()
		return fmt.Errorf("tasks: %w", err)
	}
	s.jobs = jobs
	if err := jobs.Start(ctx); err != nil {
		s.Close()
		return fmt.Errorf("tasks: %w", err)
	}

	if cfg.HTTP.Enabled {
		s.hls = hls.New(hls.Config{Rule: s.hlsRule}, s.paths, s.log)
		s.paths.OnPublish(s.hls.StreamStarted)
	}

	// Listeners last: every publish hook is in place before a client can
	// publish.

	if cfg.RTMP.Enabled {
		s.rtmp = rtmp.New(rtmp.Config{Addr: cfg.RTMP.Address, AudioToAAC: s.tc.AAC}, s.paths, s.log.With("component", "rtmp"))
		if err := s.startComponent("rtmp", s.rtmp); err != nil {
			return err
		}
	}
	if cfg.RTSP.Enabled {
		rc := rtsp.Config{Address: cfg.RTSP.Address}
		if slices.Contains(cfg.RTSP.Transports, config.TransportUDP) {
			rc.UDPRTPAddress, rc.UDPRTCPAddress = cfg.RTSP.UDPRTPAddress, cfg.RTSP.UDPRTCPAddress
		}
		s.rtsp = rtsp.New(rc, s.paths, s.log)
		if err := s.startComponent("rtsp", s.rtsp); err != nil {
			return err
		}
	}
	if cfg.SRT.Enabled {
		s.srt = srt.New(srt.Config{
			Address:    cfg.SRT.Address,
			Latency:    cfg.SRT.Latency.D(),
			Passphrase: func(path string) string { return s.Config().Rule(path).SRTPassphrase },
		}, s.paths, s.log.With("component", "srt"))
		if err := s.startComponent("srt", s.srt); err != nil {
			return err
		}
	}
	if cfg.WebRTC.Enabled && cfg.HTTP.Enabled {
		s.wrtc = webrtc.New(webrtc.Config{
			ICEUDPAddress:   cfg.WebRTC.ICEUDPAddress,
			ICETCPAddress:   cfg.WebRTC.ICETCPAddress,
			DisableICETCP:   cfg.WebRTC.ICETCPAddress == "",
			STUNServers:     cfg.WebRTC.STUNServers,
			AdditionalHosts: cfg.WebRTC.AdditionalHosts,
			AudioToOpus:     s.tc.Opus,
		}, s.paths, s.log.With("component", "webrtc"))
		if err := s.startComponent("webrtc", s.wrtc); err != nil {
			return err
		}
	}
	if cfg.HTTP.Enabled {
		ln, err := net.Listen("tcp", cfg.HTTP.Address)
		if err != nil {
			s.Close()
			return fmt.Errorf("http: listen %s: %w", cfg.HTTP.Address, err)
		}
		s.httpLn = ln
		s.httpSrv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
		s.log.Info("listening", "protocol", "http", "address", ln.Addr().String())
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.rates.run(ctx, s.paths)
	}()
	s.syncSources()
	return nil
}

func (s *Server) startComponent(name string, c component) error {
	if err := c.Start(); err != nil {
		s.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	s.started = append(s.started, c)
	return nil
}

// HTTPAddr returns the bound HTTP address, or "" when HTTP is off.
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// RTMPAddr returns the bound RTMP address, or "" when RTMP is off.
func (s *Server) RTMPAddr() string {
	if s.rtmp == nil {
		return ""
	}
	return s.rtmp.Addr().String()
}

// RTSPAddr returns the bound RTSP address, or "" when RTSP is off.
func (s *Server) RTSPAddr() string {
	if s.rtsp == nil {
		return ""
	}
	return s.rtsp.Addr().String()
}

// SRTAddr returns the bound SRT address, or "" when SRT is off.
func (s *Server) SRTAddr() string {
	if s.srt == nil {
		return ""
	}
	return s.srt.Addr()
}

// Close stops every listener and ends every stream, giving HTTP clients up
// to 3 s to finish.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = s.httpSrv.Shutdown(ctx)
			cancel()
			_ = s.httpSrv.Close()
		}
		for i := len(s.started) - 1; i >= 0; i-- {
			s.started[i].Close()
		}
		s.cancel()
		s.paths.Close()
		if s.rec != nil {
			s.rec.Close()
		}
		if s.hls != nil {
			s.hls.Close()
		}
		if s.tc != nil {
			s.tc.Close()
		}
		if s.jobs != nil {
			s.jobs.Close()
		}
		if s.qc != nil {
			s.qc.wait()
		}
		s.wg.Wait()
	})
}

// Reload applies a new config: path rules take effect for the next client;
// live publishers and readers of paths whose rules did not change are not
// touched. Listener addresses cannot change without a restart; a change is
// logged and ignored.
func (s *Server) Reload(cfg *config.Config) {
	s.reloadLock.Lock()
	defer s.reloadLock.Unlock()
	old := s.Config()
	warnRestart(s.log, "http.address", old.HTTP.Address, cfg.HTTP.Address)
	warnRestart(s.log, "rtmp.address", old.RTMP.Address, cfg.RTMP.Address)
	warnRestart(s.log, "rtsp.address", old.RTSP.Address, cfg.RTSP.Address)
	warnRestart(s.log, "srt.address", old.SRT.Address, cfg.SRT.Address)
	warnRestart(s.log, "webrtc.ice_udp_address", old.WebRTC.ICEUDPAddress, cfg.WebRTC.ICEUDPAddress)
	s.cfg.Store(cfg)
	s.syncSources()
	if s.rec != nil {
		s.rec.Reload()
	}
	s.log.Info("config reloaded", "paths", len(cfg.Paths))
}

func warnRestart(log *slog.Logger, key, old, cur string) {
	if old != cur {
		log.Warn("config change needs a restart to apply", "key", key, "running", old, "configured", cur)
	}
}
