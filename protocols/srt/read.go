package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// serveReader sends a path's stream to an accepted reader until the
// publisher leaves (then the connection is closed cleanly), the reader
// hangs up or the server closes.
func (s *Server) serveReader(conn gosrt.Conn, st *stream.Stream, log *slog.Logger) {
	defer conn.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	watchHangup(conn, cancel, &s.wg)
	log.Info("srt reading")
	if err := egress(ctx, conn, st, log); err != nil && ctx.Err() == nil {
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

// egress reads st from its GOP cache on and writes it to w as MPEG-TS in
// 1316-byte writes. It returns nil when the stream ends or ctx is done.
func egress(ctx context.Context, w io.Writer, st *stream.Stream, log *slog.Logger) error {
	// The reader is tied to ctx here rather than by NewReader: NewReader
	// races with its own AfterFunc when ctx is already done (a client that
	// hung up at once), see the report on internal/stream.
	r := st.NewReader(context.Background(), stream.ReaderOptions{Protocol: "srt"}) //nolint:contextcheck // see above
	defer r.Close()
	stop := context.AfterFunc(ctx, r.Close)
	defer stop()
	cw := newChunkWriter(w)
	mux, err := tsconv.NewMuxer(cw, st.Tracks())
	if err != nil {
		return err
	}
	for _, t := range mux.Skipped() {
		log.Warn("srt: track not carried in MPEG-TS", "track", t.String())
	}
	for {
		u, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, stream.ErrReaderClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading stream: %w", err)
		}
		if err := mux.WriteUnit(u); err != nil {
			return err
		}
		if err := cw.Flush(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sending: %w", err)
		}
	}
}
