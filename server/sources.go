package server

import (
	"context"
	"fmt"
	"mps/internal/redact"
	"net/url"
	"time"

	"mps/hls"
	"mps/internal/pathmgr"
	"mps/internal/stream"
	"mps/protocols/rtmp"
	"mps/protocols/rtsp"
	"mps/protocols/srt"
)

// pull is the path manager's SourceFunc: it picks the protocol client by the
// source URL's scheme.
func (s *Server) pull(ctx context.Context, rawURL, path string, hub stream.Hub) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("source URL: %w", err)
	}
	log := s.component(compSource).With("path", path)
	switch u.Scheme {
	case "rtmp", "rtmps":
		return rtmp.Pull(ctx, rawURL, hub, path, log)
	case "rtsp", "rtsps":
		return rtsp.Pull(ctx, rawURL, hub, path, log)
	case "srt":
		return srt.Pull(ctx, rawURL, hub, path, log)
	case "http", "https":
		return hls.Pull(ctx, rawURL, hub, path, log)
	default:
		return fmt.Errorf("source URL scheme %q not supported", u.Scheme)
	}
}

// push sends s to a forward target, picking the client by scheme.
func (s *Server) push(ctx context.Context, rawURL string, st *stream.Stream) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("forward URL: %w", err)
	}
	log := s.component(compForward).With("path", st.Path())
	switch u.Scheme {
	case "rtmp", "rtmps":
		return rtmp.Push(ctx, rawURL, st, log)
	case "rtsp", "rtsps":
		return rtsp.Push(ctx, rawURL, st, log)
	case "srt":
		return srt.Push(ctx, rawURL, st, log)
	default:
		return fmt.Errorf("forward URL scheme %q not supported", u.Scheme)
	}
}

// syncSources starts the always-on pull sources of rules that name an exact
// path, and stops those no longer configured.
func (s *Server) syncSources() {
	cfg := s.Config()
	paths := map[string]pathmgr.Policy{}
	for _, r := range cfg.Paths {
		if r.Name != "" && r.Source != "" {
			paths[r.Name] = s.policyFunc()(r.Name)
		}
	}
	s.paths.SyncSources(paths)
}

// startForwards pushes a new stream to every forward target of its rule,
// each in a goroutine that reconnects with backoff until the stream ends.
func (s *Server) startForwards(st *stream.Stream) {
	rule := s.Config().Rule(st.Path())
	for _, target := range rule.Forward {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.forward(st, target, rule.SourceRetry.D())
		}()
	}
}

func (s *Server) forward(st *stream.Stream, target string, retry time.Duration) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-st.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if retry <= 0 {
		retry = time.Second
	}
	backoff := retry
	for {
		started := time.Now()
		err := s.push(ctx, target, st)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = retry
		}
		s.log.Warn("forward failed, retrying", "path", st.Path(), "target", redactURL(target), "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// redactURL hides a URL's secrets for logs.
func redactURL(s string) string { return redact.URL(s) }
