package auth_test

import (
	"context"
	"testing"
	"time"

	"mps/internal/auth"
	"mps/internal/auth/authtest"
)

// BenchmarkAuthorize measures one decision per door request (HLS asks on
// every playlist, segment and part): the open "any" user, a hashed
// password after its first check (cached), and a JWT (signature checked
// each time).
func BenchmarkAuthorize(b *testing.B) {
	hash, err := auth.HashPassword("pw")
	if err != nil {
		b.Fatal(err)
	}
	keys := authtest.NewJWKS(b)
	a, err := auth.New(auth.Config{Methods: []string{auth.MethodInternal, auth.MethodJWT}, Users: []auth.User{
		{Name: auth.AnyUser, Actions: []auth.Action{auth.ActionRead}, Paths: []string{"open/*"}},
		{Name: "u", Pass: hash, Actions: []auth.Action{auth.ActionRead}},
	}, JWT: auth.JWTConfig{JWKSURL: keys.URL}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	tok := keys.Sign(b, "s", time.Hour, authtest.Perm{Action: "read"})
	ctx := context.Background()
	for _, c := range []struct {
		name string
		r    auth.Request
	}{
		{"any", auth.Request{Action: auth.ActionRead, Path: "open/a", IP: "127.0.0.1:1"}},
		{"argon2id-cached", auth.Request{Action: auth.ActionRead, Path: "x", IP: "127.0.0.1:1", User: "u", Pass: "pw"}},
		{"jwt", auth.Request{Action: auth.ActionRead, Path: "x", IP: "127.0.0.1:1", Token: tok}},
	} {
		if _, err := a.Authorize(ctx, c.r); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authorize(ctx, c.r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("argon2id-first-check", func(b *testing.B) {
		for b.Loop() {
			if _, err := auth.HashPassword("pw"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
