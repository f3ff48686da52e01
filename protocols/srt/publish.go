package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// servePublisher reads MPEG-TS from an accepted publisher and publishes it
// on the hub until the client leaves, sends garbage, goes silent, is kicked
// or the server closes.
func (s *Server) servePublisher(conn gosrt.Conn, req stream.Request, log *slog.Logger) {
	err := ingest(s.ctx, conn, s.hub, req, s.cfg.HandshakeTimeout, s.cfg.ReadTimeout, log, &s.wg)
	if err != nil && s.ctx.Err() == nil {
		log.Warn("srt publisher ended", "error", err)
	}
}

// ingest demuxes the TS coming from conn, publishes its tracks as req on
// hub and writes its units until the stream or the connection ends. It
// closes conn. Goroutines it starts are counted in wg.
func ingest(ctx context.Context, conn gosrt.Conn, hub stream.Hub, req stream.Request,
	handshake, idle time.Duration, log *slog.Logger, wg waitGroup,
) error {
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnCancel := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopOnCancel()

	in := newIdleReader(conn, idle)
	defer in.stop()
	deadline := time.AfterFunc(handshake, func() { conn.Close() })
	dmx, err := tsconv.NewDemuxer(in)
	if !deadline.Stop() {
		return fmt.Errorf("no media tracks within %v", handshake)
	}
	if err != nil {
		return fmt.Errorf("reading MPEG-TS: %w", err)
	}

	st, err := hub.Publish(ctx, req, dmx.Tracks(), stream.Options{})
	if err != nil {
		return fmt.Errorf("publish refused: %w", err)
	}
	defer st.Close()
	log.Info("srt publishing", "tracks", len(dmx.Tracks()))

	// Hang up when the hub ends the stream (kicked, replaced).
	done := make(chan struct{})
	defer close(done)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-st.Done():
			conn.Close()
		case <-done:
		}
	}()

	for {
		u, err := dmx.ReadUnit()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				return nil
			}
			select {
			case <-st.Done():
				return st.Err()
			default:
			}
			if errors.Is(err, tsconv.ErrNoMedia) {
				return err
			}
			// gosrt reports a peer that hung up as a read error.
			log.Debug("srt read ended", "error", err, "decode_errors", dmx.DecodeErrors())
			return nil
		}
		u.Time = time.Now()
		if err := st.Write(u); err != nil {
			return st.Err()
		}
	}
}

// waitGroup is the part of sync.WaitGroup that owners of goroutines use.
type waitGroup interface {
	Add(int)
	Done()
}
