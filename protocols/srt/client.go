package srt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	neturl "net/url"
	"sync"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"mps/internal/stream"
)

// Pull dials an SRT server, e.g. srt://host:8890?streamid=read:cam1
// [&passphrase=...&latency=...] (gosrt's URL options), and publishes what
// it receives into hub as path, until ctx is done (it returns nil) or the
// source ends or fails (it returns why, so the caller can retry).
func Pull(ctx context.Context, url string, hub stream.Hub, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	conn, err := dial(ctx, url)
	if err != nil {
		return err
	}
	log = log.With("protocol", "srt", "path", path, "source", conn.RemoteAddr().String())
	var wg sync.WaitGroup
	defer wg.Wait()
	req := stream.Request{Path: path, Protocol: "srt", RemoteAddr: conn.RemoteAddr().String()}
	err = ingest(ctx, conn, hub, req, DefaultHandshakeTimeout, DefaultReadTimeout, log, &wg)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("srt pull %s: %w", redactURL(url), err)
	}
	return fmt.Errorf("srt pull %s: %w", redactURL(url), io.EOF)
}

// Push dials an SRT server, e.g. srt://host:8890?streamid=publish:cam1,
// and sends s to it as MPEG-TS until ctx is done or s ends (it returns
// nil), or the remote side fails or hangs up (it returns the error).
func Push(ctx context.Context, url string, s *stream.Stream, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	conn, err := dial(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close()
	log = log.With("protocol", "srt", "path", s.Path(), "target", conn.RemoteAddr().String())

	var wg sync.WaitGroup
	defer wg.Wait()
	defer conn.Close() // runs before wg.Wait: ends watchHangup
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchHangup(conn, cancel, &wg)

	src, err := newTSShare(s.Tracks(), false)
	if err != nil {
		return fmt.Errorf("srt push %s: %w", redactURL(url), err)
	}
	err = egress(pctx, conn, s, src, log)
	switch {
	case err != nil:
		return fmt.Errorf("srt push %s: %w", redactURL(url), err)
	case ctx.Err() == nil && pctx.Err() != nil:
		return fmt.Errorf("srt push %s: remote side hung up", redactURL(url))
	}
	return nil
}

// dial connects to an srt:// URL, giving up when ctx ends. gosrt's dial
// has its own timeout (3 s by default, "conntimeo" in the URL) and no
// context, so a cancelled dial is waited for and its connection closed.
func dial(ctx context.Context, url string) (gosrt.Conn, error) {
	conf := gosrt.DefaultConfig()
	conf.PayloadSize = chunkSize // whole TS packets per SRT packet; the URL may say otherwise
	addr, err := conf.UnmarshalURL(url)
	if err != nil {
		return nil, fmt.Errorf("srt url %s: %w", redactURL(url), err)
	}
	if err := conf.Validate(); err != nil {
		return nil, fmt.Errorf("srt url %s: %w", redactURL(url), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		c   gosrt.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := gosrt.Dial("srt", addr, conf)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("srt dial %s: %w", redactURL(url), explainDial(r.err))
		}
		return r.c, nil
	case <-ctx.Done():
		t := time.NewTimer(conf.ConnectionTimeout + time.Second)
		defer t.Stop()
		select {
		case r := <-ch:
			if r.c != nil {
				r.c.Close()
			}
		case <-t.C:
		}
		return nil, ctx.Err()
	}
}

// redactURL hides the passphrase and any password in the stream ID of an
// srt:// URL, for errors and logs.
func redactURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "srt://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("passphrase") {
		q.Set("passphrase", "***")
	}
	if id := q.Get("streamid"); id != "" {
		if p, err := ParseStreamID(id); err == nil && p.Pass != "" {
			q.Set("streamid", p.String())
		}
	}
	u.RawQuery = q.Encode()
	u.User = nil
	return u.String()
}
