// Package authtest serves a JSON Web Key Set from a test HTTP server on
// loopback and signs tokens with its current key, so tests of the JWT
// method (in internal/auth and through the real server) exercise key
// fetching and rotation with keys made at run time.
package authtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// JWKS is an in-test key server. Its key set holds the current key only,
// so after Rotate tokens signed with the old key no longer verify.
type JWKS struct {
	URL string

	mu      sync.Mutex
	kid     string
	key     ed25519.PrivateKey
	n       int
	fetches int
}

// NewJWKS starts a key server with a fresh Ed25519 key; it stops with t.
func NewJWKS(t testing.TB) *JWKS {
	j := &JWKS{}
	j.Rotate(t)
	srv := httptest.NewServer(http.HandlerFunc(j.serve))
	t.Cleanup(srv.Close)
	j.URL = srv.URL + "/jwks.json"
	return j
}

func (j *JWKS) serve(w http.ResponseWriter, _ *http.Request) {
	j.mu.Lock()
	j.fetches++
	key, kid := j.key, j.kid
	j.mu.Unlock()
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgEdDSA, USE: jwkset.UseSig}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
}

// Rotate replaces the key with a new one under a new key id.
func (j *JWKS) Rotate(t testing.TB) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.n++
	j.key, j.kid = key, fmt.Sprintf("k%d", j.n)
	j.mu.Unlock()
}

// Fetches is how many times the key set was served.
func (j *JWKS) Fetches() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetches
}

// Perm is one permission of a token.
type Perm struct {
	Action string `json:"action"`
	Path   string `json:"path,omitempty"`
}

// Sign returns a token with the current key, the given permissions under
// the mps_permissions claim, subject sub and expiry exp from now (negative:
// already expired).
func (j *JWKS) Sign(t testing.TB, sub string, exp time.Duration, perms ...Perm) string {
	j.mu.Lock()
	key, kid := j.key, j.kid
	j.mu.Unlock()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"sub": sub, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(exp).Unix(), "mps_permissions": perms,
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
