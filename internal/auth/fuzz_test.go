package auth_test

import (
	"encoding/json"
	"testing"
	"time"

	"mps/internal/auth"
)

// FuzzParsePermissions feeds arbitrary JSON claims to the permissions
// parser: it must never panic, and what it accepts has only known actions.
func FuzzParsePermissions(f *testing.F) {
	for _, s := range []string{`{"mps_permissions":[{"action":"read","path":"live/*"}]}`, `{"mps_permissions":[{"action":"api_read"}]}`,
		`{"mps_permissions":"read"}`, `{"mps_permissions":[{"action":"read","path":"~("}]}`, `{}`, `null`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var claims map[string]any
		if json.Unmarshal(b, &claims) != nil {
			return
		}
		perms, err := auth.PermissionsFromClaims(claims, auth.DefaultClaim)
		if err != nil {
			return
		}
		for _, p := range perms {
			ok := false
			for _, a := range auth.Actions {
				ok = ok || a == p.Action
			}
			if !ok {
				t.Fatalf("accepted unknown action %q", p.Action)
			}
		}
	})
}

// FuzzCallbackAnswer feeds arbitrary answers to the callback parser: a
// non-2xx status must always deny, and the cache time stays in bounds.
func FuzzCallbackAnswer(f *testing.F) {
	for _, s := range []string{``, `{"allow":false}`, `{"allow":true,"ttl":30}`, `{"ttl":-5}`, `not json`, `{"ttl":1e99}`} {
		f.Add(200, []byte(s))
		f.Add(403, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		allow, ttl := auth.ParseCallbackAnswer(status, body)
		if allow && (status < 200 || status > 299) {
			t.Fatalf("status %d allowed", status)
		}
		if ttl > 24*time.Hour {
			t.Fatalf("ttl %v", ttl)
		}
	})
}
