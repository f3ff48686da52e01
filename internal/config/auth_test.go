package config

import (
	"strings"
	"testing"
)

func TestAuthDefaults(t *testing.T) {
	cfg := Defaults()
	a := cfg.Auth.AuthConfig()
	if len(a.Methods) != 1 || a.Methods[0] != "internal" || len(a.Users) != 2 {
		t.Fatalf("auth defaults = %+v", a)
	}
	if u := a.Users[1]; u.Name != "any" || len(u.IPs) != 2 || u.IPs[0] != "127.0.0.1/8" || u.IPs[1] != "::1" {
		t.Fatalf("api/metrics entry = %+v, want any from loopback only", u)
	}
}

func TestAuthUsersReplaceDefaults(t *testing.T) {
	cfg := mustParse(t, `
auth:
  users:
    - user: ops
      pass: pw
      actions: [api]
`)
	if len(cfg.Auth.Users) != 1 || cfg.Auth.Users[0].User != "ops" {
		t.Fatalf("users = %+v", cfg.Auth.Users)
	}
}

func TestAuthErrors(t *testing.T) {
	runParseErrorCases(t, []parseErrorCase{
		{"unknown method", "auth:\n  methods: [internal, ldap]\n", 2, "auth.methods[1]", `invalid value "ldap"`},
		{"no methods", "auth:\n  methods: []\n", 2, "auth.methods", "at least one"},
		{"unknown action", "auth:\n  users:\n    - user: a\n      actions: [fly]\n", 4, "auth.users[0].actions[0]", `unknown action "fly"`},
		{"no actions", "auth:\n  users:\n    - user: a\n      actions: []\n", 4, "auth.users[0].actions", "at least one"},
		{"empty user", "auth:\n  users:\n    - actions: [read]\n", 3, "auth.users[0].user", "must not be empty"},
		{"bad cidr", "auth:\n  users:\n    - user: a\n      actions: [read]\n      ips: [10.0.0.0/40]\n", 5, "auth.users[0].ips[0]", "10.0.0.0/40"},
		{"bad hash", "auth:\n  users:\n    - user: a\n      pass: $argon2id$v=19$m=9,t=1\n      actions: [read]\n", 4, "auth.users[0].pass", "argon2id"},
		{"bad pattern", "auth:\n  users:\n    - user: a\n      actions: [read]\n      paths: [\"~(\"]\n", 5, "auth.users[0].paths[0]", "path pattern"},
		{"no password", "auth:\n  users:\n    - user: a\n      actions: [read]\n", 3, "auth.users[0].user", "needs a pass"},
		{"bad realm hash", "auth:\n  users:\n    - user: a\n      digest: abc\n      actions: [read]\n", 4, "auth.users[0].digest", "32 hex digits"},
		{"jwt without jwks", "auth:\n  methods: [jwt]\n", 2, "auth.methods", "method jwt needs"},
		{"http without url", "auth:\n  methods: [http]\n", 2, "auth.methods", "method http needs"},
	})
}

func TestAuthRedacted(t *testing.T) {
	cfg := mustParse(t, `
auth:
  methods: [internal, jwt, http]
  users:
    - user: ops
      pass: hunter2
      actions: [api]
  jwt:
    jwks: https://u:jwkspw@keys.example/jwks.json
  callback:
    url: https://u:cbpw@auth.example/check?key=qsecret&apikey=qsecret2&auth=qsecret3
`)
	r := cfg.Redacted()
	for _, secret := range []string{"hunter2", "jwkspw", "cbpw", "qsecret"} {
		for _, s := range []string{r.Auth.Users[0].Pass, r.Auth.JWT.JWKS, r.Auth.Callback.URL} {
			if strings.Contains(s, secret) {
				t.Errorf("redacted config shows %q: %q", secret, s)
			}
		}
	}
	if cfg.Auth.Users[0].Pass != "hunter2" {
		t.Error("Redacted modified the original")
	}
}
