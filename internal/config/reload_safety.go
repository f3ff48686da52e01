package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// CheckReload refuses a new config that would silently open the server: a
// file emptied or truncated by mistake loads as "all defaults", which drops
// every path rule and with them every credential. A reload that removes
// all path rules, or all credentials, needs reload_allow_empty: true in the
// new file; a restart applies anything.
//
// Credentials are the paths' publish/read passwords and SRT passphrases,
// the auth section's users with a password, its JWKS and its callback.
func CheckReload(old, cur *Config) error {
	if cur.ReloadAllowEmpty {
		return nil
	}
	if len(old.Paths) > 0 && len(cur.Paths) == 0 {
		return fmt.Errorf("the new config has no path rules (the running one has %d): refused as a likely emptied or truncated file; "+
			"set reload_allow_empty: true to apply it", len(old.Paths))
	}
	if o, n := credentialCount(old), credentialCount(cur); o > 0 && n == 0 {
		return fmt.Errorf("the new config removes every credential (the running one has %d): refused, since it would open protected paths; "+
			"set reload_allow_empty: true to apply it", o)
	}
	return nil
}

// credentialCount counts the secrets and methods that protect doors.
func credentialCount(c *Config) int {
	n := 0
	for _, u := range c.Auth.Users {
		if u.Pass != "" || u.Digest != "" {
			n++
		}
	}
	if c.Auth.JWT.JWKS != "" {
		n++
	}
	if c.Auth.Callback.URL != "" {
		n++
	}
	for _, r := range c.Paths {
		for _, s := range []string{r.PublishPass, r.ReadPass, r.SRTPassphrase} {
			if s != "" {
				n++
			}
		}
	}
	return n
}

// emptyYAML reports whether b holds no setting: only blank lines,
// comments or a document marker.
func emptyYAML(b []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), len(b)+1)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") && l != "---" && l != "{}" {
			return false
		}
	}
	return true
}
