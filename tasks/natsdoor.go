package tasks

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSAuthorizer decides whether a client of the embedded NATS server
// (another node, a tool subscribing to mps.events.*) may connect: it can
// queue tasks and read every event, so the server asks its authorizer as
// for an API write. user and pass come from the client's CONNECT (a
// nats://user:pass@ URL), token from its auth token (a JWT bearer token);
// addr is the client's address.
type NATSAuthorizer func(ctx context.Context, user, pass, token, addr string) error

// natsAuthTimeout bounds one decision; NATS itself gives a client a few
// seconds to authenticate.
const natsAuthTimeout = 2 * time.Second

// natsDoor is the embedded server's client authentication when it
// listens. The node's own in-process connection presents localToken.
type natsDoor struct {
	s          *Service
	localToken string
	authorize  NATSAuthorizer
}

// Check implements server.Authentication.
func (d natsDoor) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o == nil {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(o.Token), []byte(d.localToken)) == 1 {
		return true
	}
	addr := ""
	if a := c.RemoteAddress(); a != nil {
		addr = a.String()
	}
	ctx, cancel := context.WithTimeout(d.s.ctx, natsAuthTimeout)
	defer cancel()
	if err := d.authorize(ctx, o.Username, o.Password, o.Token, addr); err != nil {
		d.s.log.Info("nats client refused", "remote", addr, "user", o.Username, "error", err)
		return false
	}
	return true
}

// newLocalToken makes the secret the node's own connection presents to
// its embedded server, so it never depends on the authorizer.
func newLocalToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
