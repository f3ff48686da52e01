package hls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"mps/internal/stream"
)

// muxer packages one stream of one path: a Reader on the stream's ring
// feeding a segmenter, and the timeline HTTP requests read from.
type muxer struct {
	path     string
	cfg      PathConfig
	st       *stream.Stream
	tracks   []*mtrack
	tl       *timeline
	seg      segmenter
	reader   *stream.Reader
	prefix   string // unique per muxer, so a republished path never reuses a cached name
	dir      string // DVR directory of this muxer, "" if none
	lossless bool
	log      *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	lastAccess atomic.Int64 // unix nanoseconds of the last request
	active     atomic.Int32 // requests in progress (a waiting one keeps it alive)

	dash dashAnchor // availabilityStartTime of its DASH manifests

	// cached playlist, guarded by tl.mu
	cacheVersion uint64
	cacheQuery   string
	cacheBody    []byte
}

func newMuxer(parent context.Context, st *stream.Stream, cfg PathConfig, id uint64, log *slog.Logger) (*muxer, error) {
	tracks, err := newTracks(st.Tracks())
	if err != nil {
		return nil, err
	}
	m := &muxer{
		path:     st.Path(),
		cfg:      cfg,
		st:       st,
		tracks:   tracks,
		prefix:   strconv.FormatInt(time.Now().UnixMilli(), 36) + strconv.FormatUint(id, 36),
		lossless: st.Mode() == stream.Lossless,
		log:      log.With("path", st.Path(), "variant", string(cfg.Variant)),
		done:     make(chan struct{}),
	}
	keep := cfg.windowSegments()
	if m.lossless {
		keep = 0 // a file's playlist keeps every segment and becomes VOD
	}
	if cfg.DVRWindow > 0 && cfg.Directory != "" || m.lossless && cfg.Directory != "" {
		m.dir = filepath.Join(cfg.Directory, filepath.FromSlash(m.path), m.prefix)
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return nil, fmt.Errorf("DVR directory: %w", err)
		}
	}
	// Parts stay listed for about three target durations (RFC 8216bis
	// 4.4.4.9).
	partKeep := int((3*time.Second + cfg.SegmentDuration - 1) / cfg.SegmentDuration)
	// hls.js stalls on an fMP4 live playlist that starts with a single
	// segment (it plays it, then waits for several more before loading
	// parts again), so fMP4 playlists are first served with two segments.
	// The muxer starts at the GOP cache, so the first one is ready at once.
	startAfter := 2
	if cfg.Variant == VariantMPEGTS {
		startAfter = 1
	}
	m.tl = newTimeline(keep, partKeep, startAfter, cfg.PartDuration, m.dir)
	m.tl.onEvict = func(s *segment) {
		if s.file != "" {
			_ = os.Remove(s.file)
		}
	}
	if cfg.Variant == VariantMPEGTS {
		m.seg, err = newTSSegmenter(m.tl, tracks, cfg, m.lossless)
		if err != nil {
			return nil, err
		}
	} else {
		m.seg = newFMP4Segmenter(m.tl, tracks, cfg, m.lossless)
	}
	m.ctx, m.cancel = context.WithCancel(parent)
	// The reader is attached now, not in run, so that a muxer started when
	// the stream is published sees its first units.
	m.reader = st.NewReader(m.ctx, stream.ReaderOptions{ //nolint:contextcheck // m.ctx is the muxer's own, a child of its owner's
		Protocol: "hls",
		OnOverrun: func(skipped uint64) {
			m.log.Warn("HLS muxer fell behind the publisher; skipped units", "skipped", skipped)
		},
	})
	m.touch()
	return m, nil
}

func segmentFile(dir string, msn uint64) string {
	return filepath.Join(dir, strconv.FormatUint(msn, 10)+".seg")
}

// touch records a request, postponing the idle stop.
func (m *muxer) touch() { m.lastAccess.Store(time.Now().UnixNano()) }

// hold marks a request in progress; release ends it.
func (m *muxer) hold() { m.active.Add(1); m.touch() }

func (m *muxer) release() { m.touch(); m.active.Add(-1) }

// stop asks the muxer to end; run returns soon after.
func (m *muxer) stop() { m.cancel() }

// stopped reports whether the muxer has ended or is ending.
func (m *muxer) stopped() bool { return m.ctx.Err() != nil }

// ended reports whether the stream finished and the playlist is a final
// (VOD) one that can be served without a stream.
func (m *muxer) ended() bool {
	m.tl.mu.Lock()
	defer m.tl.mu.Unlock()
	return m.tl.ended && !m.tl.closed
}

// run reads the stream until it ends or the muxer is stopped. For a file it
// keeps serving the final playlist until idle.
func (m *muxer) run(idle func()) {
	defer close(m.done)
	defer func() {
		m.tl.close()
		if m.dir != "" {
			_ = os.RemoveAll(m.dir)
		}
	}()
	m.log.Info("HLS muxer started", "tracks", trackList(m.st.Tracks()))
	r := m.reader
	defer r.Close()
	encodeErrors := 0
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if ferr := m.seg.flush(); ferr != nil {
					m.log.Warn("HLS flush", "error", ferr)
				}
				if m.lossless {
					m.tl.end()
					m.log.Info("HLS file playlist complete; serving as VOD")
					<-m.ctx.Done()
				} else {
					m.keepEnded()
				}
			}
			m.log.Info("HLS muxer stopped", "reason", stopReason(err, m.ctx))
			idle()
			return
		}
		if err := m.seg.write(u); err != nil {
			encodeErrors++
			if encodeErrors <= 10 || encodeErrors%1000 == 0 {
				m.log.Warn("HLS: unit dropped", "error", err, "count", encodeErrors)
			}
		}
	}
}

// keepEnded serves the final playlist of a live stream that ended, with
// EXT-X-ENDLIST and every segment it lists, for EndedKeep (or until the
// muxer is stopped: idle, replaced by a new publisher's, server closing).
func (m *muxer) keepEnded() {
	m.tl.mu.Lock()
	empty := len(m.tl.segments) == 0
	m.tl.mu.Unlock()
	if m.cfg.EndedKeep <= 0 || empty {
		return
	}
	m.tl.end()
	m.log.Info("HLS stream ended; serving the final playlist", "for", m.cfg.EndedKeep)
	t := time.NewTimer(m.cfg.EndedKeep)
	defer t.Stop()
	select {
	case <-m.ctx.Done():
	case <-t.C:
	}
}

func stopReason(err error, ctx context.Context) string {
	if ctx.Err() != nil {
		return "stopped"
	}
	if errors.Is(err, io.EOF) {
		return "stream ended"
	}
	return err.Error()
}

// watchIdle stops an on-demand muxer (or a finished file's) after
// CloseAfter without requests.
func (m *muxer) watchIdle() {
	if m.cfg.CloseAfter <= 0 {
		return
	}
	tick := m.cfg.CloseAfter / 4
	tick = min(max(tick, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
			if m.cfg.AlwaysOn && !m.ended() || m.active.Load() > 0 {
				continue
			}
			if time.Since(time.Unix(0, m.lastAccess.Load())) > m.cfg.CloseAfter {
				m.log.Info("HLS muxer idle; stopping", "close_after", m.cfg.CloseAfter)
				m.cancel()
				return
			}
		}
	}
}

// hasVideo reports whether segments carry pictures (for content types).
func (m *muxer) hasVideo() bool {
	for _, t := range m.tracks {
		if t.isVideo() {
			return true
		}
	}
	return false
}

// waitFirst waits until the first segment is complete.
func (m *muxer) waitFirst(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-m.tl.firstSeen:
		return true
	case <-ctx.Done():
	case <-m.done:
	case <-t.C:
	}
	return false
}
