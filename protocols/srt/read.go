package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/stream"
)

// serveReader sends a path's stream to an accepted reader until the
// publisher leaves (then the connection is closed cleanly), the reader
// hangs up or the server closes.
func (s *Server) serveReader(conn gosrt.Conn, st *stream.Stream, log *slog.Logger) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	watchHangup(conn, cancel, &s.wg)
	share, err := s.shares.acquire(st)
	if err != nil {
		log.Warn("srt reader refused", "error", err)
		return
	}
	defer s.shares.release(st)
	log.Info("srt reading")
	if err := egress(ctx, conn, st, share, log); err != nil && ctx.Err() == nil {
		log.Warn("srt reader ended", "error", err)
		return
	}
	log.Info("srt reader done")
}

// watchHangup reads from conn, where a reader or a remote server sends
// nothing, so that its hang-up cancels the sender even while the stream is
// idle. The goroutine ends when conn is closed.
func watchHangup(conn gosrt.Conn, cancel context.CancelFunc, wg waitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		buf := make([]byte, 1500)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
}

// egress reads st from its GOP cache on and writes it to w as MPEG-TS,
// the packets of one unit in one write: gosrt cuts a write into SRT
// packets of its payload size (chunkSize, seven TS packets, as the server
// and Push configure it) and queues them at once, so a unit costs one
// wake-up of the reader's goroutine whatever its size. The TS comes from
// src, shared by the readers of a stream; the reader writes its own
// continuity counters and starts at a unit that opens with the tables (a
// key frame of the stream's first video). It returns nil when the stream
// ends or ctx is done.
func egress(ctx context.Context, w io.Writer, st *stream.Stream, src *tsShare, log *slog.Logger) error {
	// The reader is tied to ctx here rather than by NewReader: NewReader
	// races with its own AfterFunc when ctx is already done (a client that
	// hung up at once), see the report on internal/stream.
	r := st.NewReader(context.Background(), stream.ReaderOptions{Protocol: "srt"}) //nolint:contextcheck // see above
	defer r.Close()
	stop := context.AfterFunc(ctx, r.Close)
	defer stop()
	for _, t := range src.mux.Skipped() {
		log.Warn("srt: track not carried in MPEG-TS", "track", t.String())
	}
	var (
		cc      ccRewriter
		buf     []byte
		started bool
	)
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, stream.ErrReaderClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading stream: %w", err)
		}
		ts, err := src.get(u)
		if err != nil {
			return err
		}
		if len(ts) == 0 || !started && !startsWithPAT(ts) {
			continue
		}
		started = true
		buf = append(buf[:0], ts...)
		cc.rewrite(buf)
		if _, err := w.Write(buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sending: %w", err)
		}
	}
}
