package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Method names, in the order the config lists them.
const (
	MethodInternal = "internal"
	MethodJWT      = "jwt"
	MethodHTTP     = "http"
)

// Config is everything the authorizer needs.
type Config struct {
	// Methods are tried in this order; the first that allows wins.
	Methods []string
	// Users are the internal users.
	Users []User
	// JWT and Callback configure those methods when listed.
	JWT      JWTConfig
	Callback CallbackConfig
	// FailLimit throttles clients that keep failing to log in.
	FailLimit FailLimit
	// Client makes the JWKS and callback requests (nil: a plain client);
	// the server passes its own so the URLs go through its guards.
	Client *http.Client
}

// Authorizer answers Authorize for every door. It is safe for concurrent
// use; build a new one on config reload (Close the old one).
type Authorizer struct {
	log      *slog.Logger
	methods  []string
	users    *internalUsers
	jwt      *jwtMethod
	callback *callbackMethod
	fails    *failLimiter
	cancel   context.CancelFunc
}

// New builds an authorizer. The JWKS is fetched in the background; until
// it arrives tokens are refused.
func New(cfg Config, log *slog.Logger) (*Authorizer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Authorizer{log: log, methods: cfg.Methods, fails: newFailLimiter(cfg.FailLimit), cancel: cancel, users: &internalUsers{cache: newHashCache()}}
	for _, m := range cfg.Methods {
		switch m {
		case MethodInternal:
			for _, u := range cfg.Users {
				cu, err := compileUser(u)
				if err != nil {
					cancel()
					return nil, err
				}
				if !cu.hashed && u.Pass != "" && u.Name != AnyUser {
					log.Warn("auth: user password is plain text; store an argon2id hash instead", "user", u.Name)
				}
				a.users.users = append(a.users.users, cu)
			}
		case MethodJWT:
			j, err := newJWT(ctx, cfg.JWT, client, log)
			if err != nil {
				cancel()
				return nil, err
			}
			a.jwt = j
		case MethodHTTP:
			if cfg.Callback.URL == "" {
				cancel()
				return nil, errors.New("auth: method http needs a callback url")
			}
			a.callback = newCallback(cfg.Callback, client)
		default:
			cancel()
			return nil, fmt.Errorf("auth: unknown method %q (want internal, jwt or http)", m)
		}
	}
	return a, nil
}

// Close stops the JWKS refresh.
func (a *Authorizer) Close() { a.cancel() }

// Authorize allows r (nil) or says why not: ErrUnauthorized,
// ErrForbidden or ErrTooManyFailures, all wrapping stream.ErrUnauthorized.
// On success it returns who the caller is: the user name, the token's
// subject, or "" for an anonymous (any) caller.
func (a *Authorizer) Authorize(ctx context.Context, r Request) (string, error) {
	ip := hostOnly(r.IP)
	if r.presented() && a.fails.blocked(ip) {
		a.log.Warn("auth refused: too many failed logins", "ip", ip, "action", r.Action, "path", r.Path, "protocol", r.Protocol)
		return "", ErrTooManyFailures
	}
	who, known, reason := a.decide(ctx, &r)
	if reason == nil {
		return who, nil
	}
	err := ErrUnauthorized
	if known {
		err = ErrForbidden
	}
	a.log.Info("auth refused", "action", r.Action, "write", r.Write, "path", r.Path, "protocol", r.Protocol,
		"ip", ip, "user", r.User, "reason", reason.Error())
	if r.presented() {
		if d := a.fails.fail(ip); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
	return "", err
}

// decide runs the methods in order.
func (a *Authorizer) decide(ctx context.Context, r *Request) (who string, known bool, reason error) {
	if r.PathUser != "" && equalSecret(r.User, r.PathUser) && pathPassOK(r) {
		return r.User, true, nil
	}
	reason = errors.New("no method allowed it")
	for _, m := range a.methods {
		if r.Digest != nil && m != MethodInternal {
			continue // a Digest answer proves a password only to who keeps its hash
		}
		switch m {
		case MethodInternal:
			ok, k, name := a.users.check(r)
			known = known || k
			if ok {
				return name, true, nil
			}
		case MethodJWT:
			ok, k, sub, err := a.jwt.check(ctx, r)
			known = known || k
			if ok {
				return "jwt:" + sub, true, nil
			}
			if err != nil && !errors.Is(err, errNoToken) {
				reason = err
			}
		case MethodHTTP:
			ok, err := a.callback.check(ctx, r)
			if ok {
				return r.User, true, nil
			}
			if err != nil {
				reason = err
			}
		}
	}
	return "", known, reason
}

// pathPassOK checks the password (or Digest answer) against the path
// rule's own credentials.
func pathPassOK(r *Request) bool {
	if r.Digest != nil {
		return DigestOK(DigestHA1(r.PathUser, r.PathPass), r.Digest)
	}
	return equalSecret(r.Pass, r.PathPass)
}
