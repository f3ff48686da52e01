package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/stream"
)

// Server is the HLS packager: it owns one muxer per watched path and
// answers the HTTP requests under its prefix.
type Server struct {
	cfg Config
	hub stream.Hub
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	muxers  map[string]*muxer
	ladders map[string][]string // rendition path -> ladder it was served in
	closed  bool
	wg      sync.WaitGroup
	seq     atomic.Uint64
	gzips   sync.Pool // *gzip.Writer for playlists
}

// New returns a packager reading streams from hub. It starts nothing until
// a stream is announced with StreamStarted or a player asks.
func New(cfg Config, hub stream.Hub, log *slog.Logger) *Server {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/hls/"
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		hub:     hub,
		log:     log,
		muxers:  make(map[string]*muxer),
		ladders: make(map[string][]string),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Handler serves /hls/PATH/index.m3u8 (multivariant), stream.m3u8 (media
// playlist) and the init, segment and part files they name. Mount it at the
// configured prefix without stripping it.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// StreamStarted tells the packager a stream was published; paths whose
// rule is AlwaysOn start muxing at once, so the first player finds
// segments ready.
func (s *Server) StreamStarted(st *stream.Stream) {
	pc, err := s.cfg.rule(st.Path())
	if err != nil {
		s.log.Warn("HLS rule", "path", st.Path(), "error", err)
		return
	}
	if !pc.AlwaysOn {
		return
	}
	if _, err := s.muxerFor(st, pc); err != nil {
		s.log.Warn("HLS muxer not started", "path", st.Path(), "error", err)
	}
}

// Close stops every muxer and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// errClosed refuses work after Close.
var errClosed = errors.New("HLS server closed")

// muxerFor returns the muxer of st, starting it if needed and replacing a
// muxer left over from an earlier stream on the same path.
func (s *Server) muxerFor(st *stream.Stream, pc PathConfig) (*muxer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	old := s.muxers[st.Path()]
	if old != nil && old.st == st && !old.stopped() {
		return old, nil
	}
	if old != nil && old.st == st && old.ended() {
		return old, nil
	}
	m, err := newMuxer(s.ctx, st, pc, s.seq.Add(1), s.log)
	if err != nil {
		return nil, fmt.Errorf("HLS muxer for %s: %w", st.Path(), err)
	}
	if old != nil {
		// A new stream (a new publisher, or the same one after an idle
		// stop) goes on from the old playlist's sequence.
		m.tl.continueFrom(old.tl)
		old.stop()
	}
	s.muxers[st.Path()] = m
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		m.run(func() { s.remove(m) })
	}()
	go func() {
		defer s.wg.Done()
		m.watchIdle()
	}()
	return m, nil
}

// remove forgets m once it has stopped.
func (s *Server) remove(m *muxer) {
	s.mu.Lock()
	if s.muxers[m.path] == m {
		delete(s.muxers, m.path)
	}
	s.mu.Unlock()
}

// finished returns the muxer of path if it holds a complete file playlist.
func (s *Server) finished(path string) *muxer {
	s.mu.Lock()
	m := s.muxers[path]
	s.mu.Unlock()
	if m != nil && m.ended() {
		return m
	}
	return nil
}

// fileMuxer returns path's muxer if it packages a file that is still being
// read after its stream ended; it becomes a finished playlist shortly.
func (s *Server) fileMuxer(path string) *muxer {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.muxers[path]
	if m == nil || !m.lossless || m.stopped() {
		return nil
	}
	return m
}

// ending returns path's live muxer when its stream has just ended and it
// is writing the final playlist (a request between the two would
// otherwise get a 404), once that playlist is ready; nil otherwise.
func (s *Server) ending(ctx context.Context, path string) *muxer {
	m := s.running(path)
	if m == nil || m.lossless || m.cfg.EndedKeep <= 0 {
		return nil
	}
	select {
	case <-m.st.Done():
	default:
		return nil // the stream is not over: not this muxer's path any more
	}
	tl := m.tl
	tl.wait(ctx.Done(), time.Second, func() bool { return tl.ended || tl.closed })
	if m.ended() {
		return m
	}
	return nil
}

// running returns path's muxer if one is running, without starting one.
func (s *Server) running(path string) *muxer {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.muxers[path]
	if m == nil || m.stopped() {
		return nil
	}
	return m
}

// noteLadder remembers that rungs were served together, so each rung's
// media playlist can report its siblings.
func (s *Server) noteLadder(rungs []string) {
	if len(rungs) < 2 {
		return
	}
	s.mu.Lock()
	for _, r := range rungs {
		s.ladders[r] = slices.Clone(rungs)
	}
	s.mu.Unlock()
}

// siblings returns the other renditions of path's ladder: the one path was
// served in, or its parent's (live/cam1 for live/cam1/720p).
func (s *Server) siblings(path string) []string {
	s.mu.Lock()
	l := s.ladders[path]
	s.mu.Unlock()
	if l == nil {
		if i := strings.LastIndexByte(path, '/'); i > 0 {
			if pc, err := s.cfg.rule(path[:i]); err == nil && slices.Contains(pc.Ladder, path) {
				l = pc.Ladder
			}
		}
	}
	out := make([]string, 0, len(l))
	for _, p := range l {
		if p != path {
			out = append(out, p)
		}
	}
	return out
}
