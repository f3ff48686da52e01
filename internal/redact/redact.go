// Package redact hides secrets in URLs and strings before they reach a log
// line, an error or an API answer. Every place that shows a URL a user
// configured (sources, forwards, webhooks, task inputs) goes through it, so
// a password or token is hidden the same way everywhere.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Mask replaces every hidden secret.
const Mask = "xxxxx"

// secretParams are query parameters that carry credentials in the URLs
// media tools use (SRT passphrases, JWTs for players, RTMP keys, S3
// presigned signatures).
var secretParams = []string{
	"pass", "password", "passphrase", "token", "jwt", "key", "secret",
	"access_token", "signature", "x-amz-signature", "x-amz-credential", "sig",
}

// URL hides the password of a URL's user info and the values of query
// parameters that carry credentials. A string that does not parse as a URL
// is returned as a placeholder rather than as it is, since it may be a
// secret itself.
func URL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if IsSecretParam(k) {
				q.Set(k, Mask)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// URLAllQuery is URL with every query value hidden, for URLs an operator
// wrote into the config (auth callbacks, key sets, webhooks): their
// parameters are often API keys under any name (apikey=, auth=, code=).
func URLAllQuery(s string) string {
	s = URL(s)
	u, err := url.Parse(s)
	if err != nil || u.RawQuery == "" {
		return s
	}
	q := u.Query()
	for k := range q {
		q.Set(k, Mask)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// IsSecretParam reports whether a query parameter name carries a credential.
func IsSecretParam(name string) bool {
	name = strings.ToLower(name)
	for _, p := range secretParams {
		if name == p {
			return true
		}
	}
	return false
}

// Error hides the URL inside an HTTP client error (*url.Error), whose
// message carries the request URL with its query string, before it reaches
// a log line or a task record. Other errors are returned as they are.
func Error(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		cp := *ue
		cp.URL = URL(ue.URL)
		return &cp
	}
	return err
}
