package rtsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	redactpkg "mps/internal/redact"
	"net/url"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// ClientConfig tunes Pull and Push.
type ClientConfig struct {
	// Transport is "tcp", "udp", or empty to try TCP first and fall back
	// to UDP when the remote refuses the TCP setup.
	Transport string
	// ReadTimeout and WriteTimeout bound every request and every silence of
	// the remote (10 s when zero).
	ReadTimeout, WriteTimeout time.Duration
}

// Pull reads the remote RTSP source at rawURL (DESCRIBE/SETUP/PLAY) and
// publishes it into hub as path, with the default ClientConfig. It returns
// when the remote ends the session, the hub ends the stream, or ctx ends.
func Pull(ctx context.Context, rawURL string, hub stream.Hub, path string, log *slog.Logger) error {
	return ClientConfig{}.Pull(ctx, rawURL, hub, path, log)
}

// Push publishes s to the remote RTSP server at rawURL (ANNOUNCE/RECORD)
// from a Reader on s, with the default ClientConfig. It returns nil when s
// ends, or an error when the remote fails or ctx ends.
func Push(ctx context.Context, rawURL string, s *stream.Stream, log *slog.Logger) error {
	return ClientConfig{}.Push(ctx, rawURL, s, log)
}

func (c ClientConfig) transports() ([]gortsplib.Transport, error) {
	switch c.Transport {
	case "":
		return []gortsplib.Transport{gortsplib.TransportTCP, gortsplib.TransportUDP}, nil
	case "tcp":
		return []gortsplib.Transport{gortsplib.TransportTCP}, nil
	case "udp":
		return []gortsplib.Transport{gortsplib.TransportUDP}, nil
	}
	return nil, fmt.Errorf("rtsp transport %q: want tcp, udp or empty", c.Transport)
}

// redact hides the password of a URL for logs and errors.
func redact(u *base.URL) string { return redactpkg.URL((*url.URL)(u).String()) }

func parseRTSPURL(rawURL string) (*base.URL, error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rtsp url: %w", err)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return nil, fmt.Errorf("rtsp url %s: scheme must be rtsp or rtsps", redact(u))
	}
	return u, nil
}

// start connects a client that ctx closes. It returns with it the error
// wrapper of its steps (once ctx is done a step's error is ctx's, since the
// client was closed on purpose) and done, which the caller defers to close
// the client and unhook it from ctx.
func (c ClientConfig) start(ctx context.Context, u *base.URL, tr gortsplib.Transport, verb string,
	log *slog.Logger,
) (cl *gortsplib.Client, fail func(step string, err error) error, done func(), err error) {
	cl = c.newClient(u, tr, log)
	if err := cl.Start2(); err != nil {
		return nil, nil, nil, fmt.Errorf("rtsp %s %s: %w", verb, redact(u), err)
	}
	stop := context.AfterFunc(ctx, cl.Close)
	fail = func(step string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("rtsp %s %s: %s: %w", verb, redact(u), step, err)
	}
	return cl, fail, func() { stop(); cl.Close() }, nil
}

func (c ClientConfig) newClient(u *base.URL, tr gortsplib.Transport, log *slog.Logger) *gortsplib.Client {
	warn := newLogLimiter(log)
	return &gortsplib.Client{
		Scheme:        u.Scheme,
		Host:          u.Host,
		Transport:     &tr,
		ReadTimeout:   c.ReadTimeout,
		WriteTimeout:  c.WriteTimeout,
		OnPacketsLost: func(lost uint64) { warn.warn("rtsp client: RTP packets lost", "lost", lost) },
		OnDecodeError: func(err error) { warn.warn("rtsp client: undecodable packet", "error", err) },
		OnTransportSwitch: func(err error) {
			log.Info("rtsp client: transport switched", "reason", err)
		},
	}
}

// setupError marks a failure of the transport negotiation, after which
// another transport may succeed.
type setupError struct{ err error }

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

// Pull is the package-level Pull with this configuration.
func (c ClientConfig) Pull(ctx context.Context, rawURL string, hub stream.Hub, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	u, err := parseRTSPURL(rawURL)
	if err != nil {
		return err
	}
	trs, err := c.transports()
	if err != nil {
		return err
	}
	log = log.With("source", redact(u), "path", path)
	for i, tr := range trs {
		err = c.pull(ctx, u, tr, hub, path, log)
		var se setupError
		if errors.As(err, &se) && i+1 < len(trs) && ctx.Err() == nil {
			log.Info("rtsp pull: setup refused, trying next transport", "transport", tr, "error", err)
			continue
		}
		return err
	}
	return err
}

func (c ClientConfig) pull(ctx context.Context, u *base.URL, tr gortsplib.Transport, hub stream.Hub,
	path string, log *slog.Logger,
) error {
	cl, fail, done, err := c.start(ctx, u, tr, "pull", log)
	if err != nil {
		return err
	}
	defer done()

	desc, _, err := cl.Describe(u)
	if err != nil {
		return fail("describe", err)
	}
	in, err := newIngest(desc)
	if err != nil {
		return fail("describe", err)
	}
	for _, sk := range in.skipped {
		log.Warn("rtsp pull: source media not supported, ignored", "media", sk)
	}
	medias := make([]*description.Media, len(in.tracks))
	for i, it := range in.tracks {
		medias[i] = it.media
	}
	if err := cl.SetupAll(desc.BaseURL, medias); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return setupError{fail("setup over "+tr.String(), err)}
	}

	st, err := hub.Publish(ctx, stream.Request{Path: path, Protocol: "rtsp", RemoteAddr: u.Host},
		in.streamTracks(), stream.Options{})
	if err != nil {
		return fmt.Errorf("rtsp pull %s: publish: %w", redact(u), err)
	}
	defer st.Close()
	w := newUnitWriter(st, log)
	for _, it := range in.tracks {
		it := it
		cl.OnPacketRTP(it.media, it.format, func(pkt *rtp.Packet) {
			if pts, ok := cl.PacketPTS2(it.media, pkt); ok {
				w.writeRTP(it, pkt, pts)
			}
		})
	}
	if _, err := cl.Play(nil); err != nil {
		return fail("play", err)
	}
	log.Info("rtsp pull started", "transport", tr, "tracks", len(in.tracks))

	// Hang up when the hub ends the stream (kicked or replaced).
	waitDone := make(chan struct{})
	kickDone := make(chan struct{})
	go func() {
		defer close(kickDone)
		select {
		case <-st.Done():
			cl.Close()
		case <-waitDone:
		}
	}()
	err = cl.Wait()
	close(waitDone)
	<-kickDone
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case st.Err() != nil:
		return fmt.Errorf("rtsp pull %s: %w", redact(u), st.Err())
	}
	log.Info("rtsp pull ended", "reason", err)
	return fmt.Errorf("rtsp pull %s: %w", redact(u), err)
}

// Push is the package-level Push with this configuration.
func (c ClientConfig) Push(ctx context.Context, rawURL string, s *stream.Stream, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	u, err := parseRTSPURL(rawURL)
	if err != nil {
		return err
	}
	trs, err := c.transports()
	if err != nil {
		return err
	}
	log = log.With("target", redact(u), "path", s.Path())
	for i, tr := range trs {
		err = c.push(ctx, u, tr, s, log)
		var se setupError
		if errors.As(err, &se) && i+1 < len(trs) && ctx.Err() == nil {
			log.Info("rtsp push: setup refused, trying next transport", "transport", tr, "error", err)
			continue
		}
		return err
	}
	return err
}

func (c ClientConfig) push(ctx context.Context, u *base.URL, tr gortsplib.Transport, s *stream.Stream,
	log *slog.Logger,
) error {
	pk, err := newPacketizer(s.Tracks())
	if err != nil {
		return fmt.Errorf("rtsp push %s: %w", redact(u), err)
	}
	for _, sk := range pk.skipped {
		log.Warn("rtsp push: track not sent", "track", sk)
	}
	cl, fail, done, err := c.start(ctx, u, tr, "push", log)
	if err != nil {
		return err
	}
	defer done()
	if _, err := cl.Announce(u, pk.desc); err != nil {
		return fail("announce", err)
	}
	if err := cl.SetupAll(u, pk.desc.Medias); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return setupError{fail("setup over "+tr.String(), err)}
	}
	if _, err := cl.Record(); err != nil {
		return fail("record", err)
	}
	log.Info("rtsp push started", "transport", tr)

	r := s.NewReader(ctx, stream.ReaderOptions{Protocol: "rtsp"})
	defer r.Close()
	// The client ends on its own when the remote fails: stop reading then.
	clientDone := make(chan error, 1)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		clientDone <- cl.Wait()
		r.Close()
	}()
	defer func() {
		cl.Close()
		<-watchDone
	}()

	for {
		un, err := r.Read()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				log.Info("rtsp push ended: source stream ended")
				return nil
			case ctx.Err() != nil:
				return ctx.Err()
			}
			select {
			case cerr := <-clientDone:
				return fmt.Errorf("rtsp push %s: %w", redact(u), cerr)
			default:
				return fmt.Errorf("rtsp push %s: %w", redact(u), err)
			}
		}
		medi, pkts, ntp, err := pk.packets(un)
		if err != nil {
			log.Warn("rtsp push: dropped a unit", "error", err)
			continue
		}
		for _, pkt := range pkts {
			if err := cl.WritePacketRTPWithNTP(medi, pkt, ntp); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("rtsp push %s: write: %w", redact(u), err)
			}
		}
	}
}
