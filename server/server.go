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

	"mps/ai/livehl"
	"mps/ai/livesubs"
	"mps/ai/transcripts"
	"mps/hls"
	"mps/internal/auth"
	"mps/internal/certfile"
	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/pathmgr"
	"mps/internal/storage"
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
	authz atomic.Pointer[auth.Authorizer]

	rtmp *rtmp.Server
	rtsp *rtsp.Server
	srt  *srt.Server
	wrtc *webrtc.Server
	rec  *recorder.Manager
	hl   *livehl.Manager
	hls  *hls.Server
	tc   *transcode.Manager
	jobs *tasks.Service
	// store is the configured storage targets (storage.targets).
	store *storage.Set
	// evlog keeps recent events for the console (api_console.go).
	evlog *eventLog

	transcripts *transcripts.Index
	livesubs    *livesubs.Manager
	qc          *qcManager
	caps        capabilities

	httpLn  net.Listener
	httpSrv *http.Server
	rates   *rateMeter
	quota   *quotas

	started    []component
	certs      []*certfile.Pair
	ctx        context.Context // ends at Close: owner of forwards and loops
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	startedAt  time.Time
	closeOnce  sync.Once
	reloadLock sync.Mutex
	pending    []string // restart-only keys whose file value differs; under reloadLock
	apiOps     []string // API operations served, for the OpenAPI contract test
}

// New builds a server for cfg. Nothing listens until Start.
func New(cfg *config.Config, log *slog.Logger) *Server {
	s := &Server{log: log, bus: events.NewBus()}
	s.cfg.Store(cfg)
	s.paths = pathmgr.New(s.component(compPaths), s.bus, nil)
	s.paths.SetPolicy(s.policyFunc())
	s.paths.SetSourceFunc(s.pull)
	s.paths.OnPublish(s.startForwards)
	s.rates = newRateMeter()
	s.quota = newQuotas()
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
	s.startEventLog(ctx)
	a, err := s.newAuthorizer()
	if err != nil {
		s.Close()
		return fmt.Errorf("auth: %w", err)
	}
	s.installAuthorizer(a)

	// Consumers first: the transcoder, recorder, task service and HLS
	// packager register their publish hooks before any listener opens.
	s.caps = detectCapabilities()
	s.qc = newQCManager(s)
	s.paths.OnPublish(s.qc.streamStarted)

	s.tc = s.newTranscoder()
	s.paths.OnPublish(s.tc.StreamStarted)
	s.paths.SetDemandFunc(s.tc.Demand)

	// Storage before the recorder, which uploads segments to targets.
	if s.store, err = storage.OpenAll(cfg.Storage, nil); err != nil {
		s.Close()
		return fmt.Errorf("storage: %w", err)
	}
	rec, err := recorder.New(recorder.Config{
		Dir:          cfg.DataPath(cfg.Record.Directory),
		PathTemplate: cfg.Record.Path,
		Rule:         s.recordRule,
		Targets:      s.store.Get,
	}, s.bus, s.component(compRecorder))
	if err != nil {
		s.Close()
		return fmt.Errorf("recorder: %w", err)
	}
	s.rec = rec
	s.paths.OnPublish(rec.StreamStarted)
	s.startTranscripts()
	s.startLiveSubtitles()
	s.hl = s.newHighlights(rec)
	s.paths.OnPublish(s.hl.StreamStarted)

	jobs, err := tasks.New(s.tasksConfig(), s.bus, s.component(compTasks))
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
		s.hls = hls.New(hls.Config{Rule: s.hlsRule, Subtitles: s.hlsSubtitles}, s.paths, s.component(compHLS))
		s.paths.OnPublish(s.hls.StreamStarted)
	}

	// Listeners last: every publish hook is in place before a client can
	// publish.

	if cfg.RTMP.Enabled {
		tc, err := s.tlsConfig("rtmp", cfg.RTMP.TLSFiles)
		if err != nil {
			s.Close()
			return err
		}
		s.rtmp = rtmp.New(rtmp.Config{
			TLS:  tc,
			Addr: cfg.RTMP.Address, AudioToAAC: s.tc.AAC,
			ReadTimeout: cfg.RTMP.ReadTimeout.D(), WriteTimeout: cfg.RTMP.WriteTimeout.D(),
			WrapListener: s.limitListener("rtmp", cfg.RTMP.ConnLimits),
		}, s.paths, s.component(compRTMP))
		if err := s.startComponent("rtmp", s.rtmp); err != nil {
			return err
		}
	}
	if cfg.RTSP.Enabled {
		tc, err := s.tlsConfig("rtsp", cfg.RTSP.TLSFiles)
		if err != nil {
			s.Close()
			return err
		}
		rc := rtsp.Config{
			TLS:     tc,
			Address: cfg.RTSP.Address, ReadTimeout: cfg.RTSP.ReadTimeout.D(), WriteTimeout: cfg.RTSP.WriteTimeout.D(),
			WrapListener: s.limitListener("rtsp", cfg.RTSP.ConnLimits),
			Digest:       slices.Contains(cfg.RTSP.AuthMethods, config.RTSPAuthDigest),
			NoBasic:      !slices.Contains(cfg.RTSP.AuthMethods, config.RTSPAuthBasic),
		}
		if slices.Contains(cfg.RTSP.Transports, config.TransportUDP) {
			rc.UDPRTPAddress, rc.UDPRTCPAddress = cfg.RTSP.UDPRTPAddress, cfg.RTSP.UDPRTCPAddress
		}
		s.rtsp = rtsp.New(rc, s.paths, s.component(compRTSP))
		if err := s.startComponent("rtsp", s.rtsp); err != nil {
			return err
		}
	}
	if cfg.SRT.Enabled {
		s.srt = srt.New(srt.Config{
			Address:    cfg.SRT.Address,
			Latency:    cfg.SRT.Latency.D(),
			Passphrase: func(path string) string { return s.Config().Rule(path).SRTPassphrase },
			Admit:      s.srtAdmit(cfg.SRT.ConnLimits),
		}, s.paths, s.component(compSRT))
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
		}, s.paths, s.component(compWebRTC))
		if err := s.startComponent("webrtc", s.wrtc); err != nil {
			return err
		}
	}
	if cfg.HTTP.Enabled {
		handler, err := s.routes()
		if err != nil {
			s.Close()
			return fmt.Errorf("http: %w", err)
		}
		ln, err := s.listenHTTP(cfg.HTTP)
		if err != nil {
			s.Close()
			return err
		}
		s.httpLn = ln
		s.warnExposure(cfg)
		s.httpSrv = s.httpServer(cfg.HTTP, handler)
		s.httpSrv.RegisterOnShutdown(s.evlog.shutdown)
		s.httpSrv.RegisterOnShutdown(s.livesubs.Close) // ends the open cue feeds
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
		s.log.Info("listening", "protocol", "http", "address", ln.Addr().String(), "tls", cfg.HTTP.TLSFiles.Enabled())
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
		for _, p := range s.certs {
			p.Close()
		}
		s.paths.Close()
		if s.hl != nil {
			s.hl.Close()
		}
		if s.rec != nil {
			s.rec.Close()
		}
		if s.hls != nil {
			s.hls.Close()
		}
		if s.tc != nil {
			s.tc.Close()
		}
		if s.livesubs != nil {
			s.livesubs.Close()
		}
		if s.jobs != nil {
			s.jobs.Close()
		}
		if a := s.authz.Load(); a != nil {
			a.Close()
		}
		if s.qc != nil {
			s.qc.wait()
		}
		s.wg.Wait()
		if s.transcripts != nil {
			_ = s.transcripts.Close()
		}
	})
}

// Reload applies a new config: hot keys (path rules, HLS, recording
// rules...) take effect for the next client; live publishers and readers of
// paths whose rules did not change are not touched. Keys read only at
// start (listeners, the task service; config.RestartKeys) keep their
// running value, so the stored config is the one in force, and the keys
// that wait for a restart are logged once each time that set changes.
func (s *Server) Reload(next *config.Config) {
	s.reloadLock.Lock()
	defer s.reloadLock.Unlock()
	cfg, pending := config.Reconcile(s.Config(), next)
	if !slices.Equal(pending, s.pending) && len(pending) > 0 {
		s.log.Warn("config keys changed that apply only after a restart; running with their old values", "keys", pending)
	}
	s.pending = pending
	s.cfg.Store(cfg)
	if a, err := s.newAuthorizer(); err != nil {
		s.log.Error("auth section not applied; the previous one stays in force", "error", err)
	} else {
		s.installAuthorizer(a)
	}
	s.syncSources()
	if s.rec != nil {
		s.rec.Reload()
	}
	s.log.Info("config reloaded", "paths", len(cfg.Paths))
	s.log.Debug("config reload applied", "paths", len(cfg.Paths), "pending_restart", len(pending))
}
