package pathmgr

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"mps/internal/auth"
	"mps/internal/stream"
)

// Policy is what the manager needs to know about a path from its config
// rule. The server builds it from the matching rule on every request, so a
// config reload applies to the next client without touching live ones.
type Policy struct {
	// OverridePublisher lets a new publisher replace the current one
	// instead of being refused.
	OverridePublisher bool
	// PublishUser/PublishPass, when set, are required of publishers;
	// ReadUser/ReadPass of readers (anonymous clients are refused; the
	// authorizer's named users and tokens still apply).
	PublishUser, PublishPass string
	ReadUser, ReadPass       string
	// RingSize is the stream's ring capacity in units (0: default).
	RingSize int

	// Source is a URL the server pulls the path from instead of waiting for
	// a publisher (rtsp://, rtmp://, srt://, http(s)://….m3u8).
	Source string
	// SourceOnDemand starts the pull when the first reader arrives and
	// stops it after SourceCloseAfter without readers; otherwise the source
	// runs always.
	SourceOnDemand   bool
	SourceCloseAfter time.Duration
	// SourceRetry is the first reconnect delay; it doubles up to a minute.
	SourceRetry time.Duration
}

// PolicyFunc returns the policy for a path.
type PolicyFunc func(path string) Policy

// Authorizer decides whether a client may publish or read; *auth.Authorizer
// is the one the server installs.
type Authorizer interface {
	Authorize(ctx context.Context, r auth.Request) (string, error)
}

// SetAuthorizer installs a, e.g. after a config reload. With none, only the
// path rules' own credentials are checked.
func (m *Manager) SetAuthorizer(a Authorizer) {
	if a == nil {
		m.auth.Store(nil)
		return
	}
	m.auth.Store(&a)
}

// authorize asks the authorizer whether req may take action on its path,
// with the path rule's credentials as the per-path requirement.
func (m *Manager) authorize(ctx context.Context, action auth.Action, req stream.Request, pol Policy) error {
	user, pass := pol.ReadUser, pol.ReadPass
	if action == auth.ActionPublish {
		user, pass = pol.PublishUser, pol.PublishPass
	}
	a := m.auth.Load()
	if a == nil {
		if !checkCreds(user, pass, req) {
			return fmt.Errorf("%s %s: %w", action, req.Path, stream.ErrUnauthorized)
		}
		return nil
	}
	token := req.Token
	if token == "" {
		token = auth.TokenFromQuery(req.Query)
	}
	_, err := (*a).Authorize(ctx, auth.Request{
		Action: action, Path: req.Path, Protocol: req.Protocol, IP: req.RemoteAddr,
		User: req.User, Pass: req.Pass, Digest: req.Digest, Token: token, Query: req.Query,
		ID: req.Protocol + ":" + req.RemoteAddr, PathUser: user, PathPass: pass,
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, req.Path, err)
	}
	return nil
}

func checkCreds(wantUser, wantPass string, req stream.Request) bool {
	if wantUser == "" && wantPass == "" {
		return true
	}
	u := subtle.ConstantTimeCompare([]byte(wantUser), []byte(req.User))
	if req.Digest != nil {
		return u == 1 && auth.DigestOK(auth.DigestHA1(wantUser, wantPass), req.Digest)
	}
	p := subtle.ConstantTimeCompare([]byte(wantPass), []byte(req.Pass))
	return u&p == 1
}

// ValidPath reports whether name is acceptable as a path. It applies the
// same rule as path names in the config, so a path can be used safely as a
// directory name on disk and never escapes its root.
func ValidPath(name string) error { return stream.ValidPath(name) }

// Trusted returns a hub for the server's own processes (the live
// transcoder's rungs and feeds): it publishes and reads without asking the
// authorizer, because no client credentials are involved. Doors that
// serve clients must use the Manager itself.
func (m *Manager) Trusted() stream.Hub { return trustedHub{m} }

type trustedHub struct{ m *Manager }

func (h trustedHub) Publish(ctx context.Context, req stream.Request, tracks []*stream.Track, opts stream.Options) (*stream.Stream, error) {
	return h.m.publish(ctx, req, tracks, opts, false)
}

func (h trustedHub) Read(ctx context.Context, req stream.Request) (*stream.Stream, error) {
	return h.m.read(ctx, req, false)
}
