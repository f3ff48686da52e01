package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// DefaultClaim is the JWT claim that lists a token's permissions:
//
//	"mps_permissions": [{"action": "read", "path": "live/*"}, {"action": "api_read"}]
//
// An entry without a path (or with an empty one) covers every path.
const DefaultClaim = "mps_permissions"

// JWTConfig configures the JWT method.
type JWTConfig struct {
	// JWKSURL is where the signing keys are published (a JWK Set).
	JWKSURL string
	// Refresh is how often the key set is fetched again (default 1h).
	// A token signed by an unknown key id also triggers a fetch, at most
	// once per RefreshUnknown (default 10s), which is how a rotated key
	// is picked up at once.
	Refresh, RefreshUnknown time.Duration
	// Claim names the permissions claim (default DefaultClaim).
	Claim string
	// Audience and Issuer, when set, are required in tokens.
	Audience, Issuer string
}

// Permission is one entry of a token's permissions claim.
type Permission struct {
	Action Action `json:"action"`
	Path   string `json:"path,omitempty"`
}

// jwtMethod verifies bearer tokens against a JWKS.
type jwtMethod struct {
	cfg    JWTConfig
	kf     keyfunc.Keyfunc
	parser *jwt.Parser
}

// signingMethods are the asymmetric algorithms a JWKS can carry; HMAC is
// refused because a shared secret has no place in a public key set.
var signingMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func newJWT(ctx context.Context, cfg JWTConfig, client *http.Client, log *slog.Logger) (*jwtMethod, error) {
	if _, err := url.ParseRequestURI(cfg.JWKSURL); err != nil || cfg.JWKSURL == "" {
		return nil, fmt.Errorf("jwt: jwks url %q is not an absolute URL", cfg.JWKSURL)
	}
	if cfg.Claim == "" {
		cfg.Claim = DefaultClaim
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Hour
	}
	if cfg.RefreshUnknown <= 0 {
		cfg.RefreshUnknown = 10 * time.Second
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:            client,
		HTTPTimeout:       10 * time.Second,
		RefreshInterval:   cfg.Refresh,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.RefreshUnknown), 1),
		RateLimitWaitMax:  2 * time.Second,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				log.Warn("jwks refresh failed", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(signingMethods), jwt.WithExpirationRequired(), jwt.WithLeeway(5 * time.Second)}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	return &jwtMethod{cfg: cfg, kf: kf, parser: jwt.NewParser(opts...)}, nil
}

// errNoToken: the request carries nothing that looks like a JWT.
var errNoToken = errors.New("no token")

// check verifies r's token and reports whether its permissions cover r.
// known is true when the token is valid (so a refusal is a 403).
func (m *jwtMethod) check(ctx context.Context, r *Request) (allowed, known bool, subject string, err error) {
	tok := r.Token
	if tok == "" && LooksLikeJWT(r.Pass) {
		tok = r.Pass // RTSP/RTMP/SRT clients send a token as the password
	}
	if tok == "" {
		return false, false, "", errNoToken
	}
	claims := jwt.MapClaims{}
	if _, err := m.parser.ParseWithClaims(tok, claims, m.kf.KeyfuncCtx(ctx)); err != nil {
		return false, false, "", fmt.Errorf("jwt: %w", err)
	}
	subject, _ = claims.GetSubject()
	perms, err := PermissionsFromClaims(claims, m.cfg.Claim)
	if err != nil {
		return false, true, subject, err
	}
	for _, p := range perms {
		if !actionAllowed([]Action{p.Action}, r) {
			continue
		}
		if p.Path == "" {
			return true, true, subject, nil
		}
		if pp, err := compilePattern(p.Path); err == nil && pp.match(r.Path) {
			return true, true, subject, nil
		}
	}
	return false, true, subject, nil
}

// PermissionsFromClaims reads the permissions claim of verified claims.
// A missing claim is no permissions; a malformed one is an error.
func PermissionsFromClaims(claims map[string]any, claim string) ([]Permission, error) {
	raw, ok := claims[claim]
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", claim, err)
	}
	return ParsePermissions(b)
}

// ParsePermissions parses a permissions claim: a JSON array of
// {"action", "path"} objects with known actions.
func ParsePermissions(b []byte) ([]Permission, error) {
	var perms []Permission
	if err := json.Unmarshal(b, &perms); err != nil {
		return nil, fmt.Errorf("permissions claim: want [{\"action\":…,\"path\":…}]: %w", err)
	}
	for _, p := range perms {
		if !validAction(p.Action) {
			return nil, fmt.Errorf("permissions claim: unknown action %q", p.Action)
		}
		if p.Path != "" {
			if _, err := compilePattern(p.Path); err != nil {
				return nil, fmt.Errorf("permissions claim: %w", err)
			}
		}
	}
	return perms, nil
}

func validAction(a Action) bool {
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}

// LooksLikeJWT reports whether s has the shape of a compact JWS, for doors
// whose clients put a token where a session id or password goes.
func LooksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// TokenFromQuery returns the `jwt` (or `token`) parameter of a raw query.
func TokenFromQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	if t := q.Get("jwt"); t != "" {
		return t
	}
	return q.Get("token")
}
