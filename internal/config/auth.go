package config

import (
	"fmt"
	"net/url"
	"slices"

	"mps/internal/auth"
)

// Auth configures who may do what at every door (publish, read, playback,
// api, metrics). The built-in users leave publish, read and playback open
// and lock the API and metrics to localhost; listing users replaces them.
type Auth struct {
	// Methods are tried in order; the first that allows wins: internal,
	// jwt, http.
	Methods []string `yaml:"methods" json:"methods"`
	// Users are the internal users.
	Users []AuthUser `yaml:"users" json:"users"`
	// JWT configures bearer tokens checked against a JWKS.
	JWT AuthJWT `yaml:"jwt" json:"jwt"`
	// Callback configures the HTTP callback method.
	Callback AuthCallback `yaml:"callback" json:"callback"`
	// FailLimit throttles clients that keep failing to log in.
	FailLimit AuthFailLimit `yaml:"fail_limit" json:"fail_limit"`
	// Quotas bound what one API caller may start.
	Quotas AuthQuotas `yaml:"quotas" json:"quotas"`
}

// AuthUser is one internal user.
type AuthUser struct {
	// User is the name, or "any" for every client.
	User string `yaml:"user" json:"user"`
	// Pass is an argon2id PHC string (mps hash-password) or plain text.
	Pass string `yaml:"pass" json:"pass,omitempty"`
	// Digest is the realm hash for RTSP Digest logins (mps hash-password
	// -digest-user NAME), kept instead of a clear password; derived when
	// Pass is plain text.
	Digest string `yaml:"digest" json:"digest,omitempty"`
	// Actions: publish, read, playback, api, api_read, metrics.
	Actions []string `yaml:"actions" json:"actions"`
	// Paths are path patterns like the path rules'; empty: every path.
	Paths []string `yaml:"paths" json:"paths,omitempty"`
	// IPs are CIDR ranges or addresses; empty: anywhere.
	IPs []string `yaml:"ips" json:"ips,omitempty"`
}

// AuthJWT configures the jwt method.
type AuthJWT struct {
	// JWKS is the URL of the key set that signs the tokens.
	JWKS string `yaml:"jwks" json:"jwks"`
	// Refresh is how often the key set is fetched again.
	Refresh Duration `yaml:"refresh" json:"refresh"`
	// RefreshUnknown is the least time between fetches caused by tokens
	// signed with an unknown key id (a rotated key).
	RefreshUnknown Duration `yaml:"refresh_unknown" json:"refresh_unknown"`
	// Claim names the claim that lists the permissions.
	Claim string `yaml:"claim" json:"claim"`
	// Audience and Issuer, when set, must match the token's aud and iss.
	Audience string `yaml:"audience" json:"audience"`
	Issuer   string `yaml:"issuer" json:"issuer"`
}

// AuthCallback configures the http method.
type AuthCallback struct {
	// URL receives POST {action, path, protocol, ip, user, pass, token,
	// query, id}; a 2xx answer allows.
	URL string `yaml:"url" json:"url"`
	// Timeout bounds one call; a call that times out denies.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Cache keeps a decision this long.
	Cache Duration `yaml:"cache" json:"cache"`
}

// AuthFailLimit throttles failed logins per client IP.
type AuthFailLimit struct {
	Window     Duration `yaml:"window" json:"window"`
	DelayAfter int      `yaml:"delay_after" json:"delay_after"`
	Delay      Duration `yaml:"delay" json:"delay"`
	BlockAfter int      `yaml:"block_after" json:"block_after"`
}

// AuthQuotas bound one API caller (a user, a token subject, or an
// anonymous client's IP); 0 means no limit.
type AuthQuotas struct {
	// MaxRecordings is how many recordings one caller may have started
	// through the API and not stopped.
	MaxRecordings int `yaml:"max_recordings" json:"max_recordings"`
	// MaxUploads is how many files one caller may upload.
	MaxUploads int `yaml:"max_uploads" json:"max_uploads"`
	// MaxUploadBytes is how many bytes one caller may upload in all.
	MaxUploadBytes ByteSize `yaml:"max_upload_bytes" json:"max_upload_bytes"`
}

// AuthConfig converts the section to the authorizer's settings.
func (a *Auth) AuthConfig() auth.Config {
	c := auth.Config{
		Methods: a.Methods,
		JWT: auth.JWTConfig{JWKSURL: a.JWT.JWKS, Refresh: a.JWT.Refresh.D(), RefreshUnknown: a.JWT.RefreshUnknown.D(),
			Claim: a.JWT.Claim, Audience: a.JWT.Audience, Issuer: a.JWT.Issuer},
		Callback: auth.CallbackConfig{URL: a.Callback.URL, Timeout: a.Callback.Timeout.D(), Cache: a.Callback.Cache.D()},
		FailLimit: auth.FailLimit{Window: a.FailLimit.Window.D(), DelayAfter: a.FailLimit.DelayAfter,
			Delay: a.FailLimit.Delay.D(), BlockAfter: a.FailLimit.BlockAfter},
	}
	for _, u := range a.Users {
		au := auth.User{Name: u.User, Pass: u.Pass, Digest: u.Digest, Paths: u.Paths, IPs: u.IPs}
		for _, act := range u.Actions {
			au.Actions = append(au.Actions, auth.Action(act))
		}
		c.Users = append(c.Users, au)
	}
	return c
}

// redacted hides passwords and credentials in URLs.
func (a Auth) redacted() Auth {
	a.Users = slices.Clone(a.Users)
	for i := range a.Users {
		if a.Users[i].Pass != "" {
			a.Users[i].Pass = redactedSecret
		}
		if a.Users[i].Digest != "" {
			a.Users[i].Digest = redactedSecret
		}
	}
	a.JWT.JWKS = redactURL(a.JWT.JWKS)
	a.Callback.URL = redactURL(a.Callback.URL)
	return a
}

func (v *validator) auth(a *Auth) error {
	for i, m := range a.Methods {
		k := fmt.Sprintf("auth.methods[%d]", i)
		if err := v.oneOf(k, m, auth.MethodInternal, auth.MethodJWT, auth.MethodHTTP); err != nil {
			return err
		}
		if slices.Index(a.Methods, m) != i {
			return v.errorf(k, "duplicate method %q", m)
		}
	}
	if len(a.Methods) == 0 {
		return v.errorf("auth.methods", "must list at least one of internal, jwt, http")
	}
	for i, u := range a.Users {
		if err := v.authUser(fmt.Sprintf("auth.users[%d]", i), u); err != nil {
			return err
		}
	}
	if slices.Contains(a.Methods, auth.MethodJWT) {
		if u, err := url.Parse(a.JWT.JWKS); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.errorf(v.pick("auth.jwt.jwks", "auth.methods"), "method jwt needs the key set's http(s) URL, got %q", redactURL(a.JWT.JWKS))
		}
	}
	if slices.Contains(a.Methods, auth.MethodHTTP) {
		if u, err := url.Parse(a.Callback.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.errorf(v.pick("auth.callback.url", "auth.methods"), "method http needs the callback's http(s) URL, got %q", redactURL(a.Callback.URL))
		}
	}
	for _, n := range []struct {
		key string
		val int
	}{{"auth.fail_limit.delay_after", a.FailLimit.DelayAfter}, {"auth.fail_limit.block_after", a.FailLimit.BlockAfter},
		{"auth.quotas.max_recordings", a.Quotas.MaxRecordings}, {"auth.quotas.max_uploads", a.Quotas.MaxUploads}} {
		if n.val < 0 {
			return v.errorf(n.key, "must not be negative, got %d", n.val)
		}
	}
	return nil
}

func (v *validator) authUser(key string, u AuthUser) error {
	if u.User == "" {
		return v.errorf(key+".user", "must not be empty (use %q for every client)", auth.AnyUser)
	}
	if auth.IsHash(u.Pass) {
		if err := auth.CheckHash(u.Pass); err != nil {
			return v.wrap(key+".pass", err)
		}
	}
	if u.Digest != "" {
		if err := auth.CheckHA1(u.Digest); err != nil {
			return v.wrap(key+".digest", err)
		}
	}
	if len(u.Actions) == 0 {
		return v.errorf(key+".actions", "must list at least one action")
	}
	for j, a := range u.Actions {
		if !slices.Contains(auth.Actions, auth.Action(a)) {
			return v.errorf(fmt.Sprintf("%s.actions[%d]", key, j), "unknown action %q (want one of %v)", a, auth.Actions)
		}
	}
	for j, p := range u.IPs {
		if _, err := auth.ParsePrefix(p); err != nil {
			return v.wrap(fmt.Sprintf("%s.ips[%d]", key, j), err)
		}
	}
	for j, p := range u.Paths {
		if err := auth.CheckPattern(p); err != nil {
			return v.wrap(fmt.Sprintf("%s.paths[%d]", key, j), err)
		}
	}
	if u.User != auth.AnyUser && u.Pass == "" && u.Digest == "" {
		return v.errorf(v.pick(key+".pass", key+".user"), "user %q needs a pass (or a digest for RTSP Digest only)", u.User)
	}
	return nil
}
