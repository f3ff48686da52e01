package pathmgr

import (
	"crypto/subtle"
	"fmt"
	"strings"
)

// Policy is what the manager needs to know about a path from its config
// rule. The server builds it from the matching rule on every request, so a
// config reload applies to the next client without touching live ones.
type Policy struct {
	// OverridePublisher lets a new publisher replace the current one
	// instead of being refused.
	OverridePublisher bool
	// PublishUser/PublishPass, when set, are required of publishers;
	// ReadUser/ReadPass of readers.
	PublishUser, PublishPass string
	ReadUser, ReadPass       string
	// RingSize is the stream's ring capacity in units (0: default).
	RingSize int
}

// PolicyFunc returns the policy for a path.
type PolicyFunc func(path string) Policy

func checkCreds(wantUser, wantPass, user, pass string) bool {
	if wantUser == "" && wantPass == "" {
		return true
	}
	u := subtle.ConstantTimeCompare([]byte(wantUser), []byte(user))
	p := subtle.ConstantTimeCompare([]byte(wantPass), []byte(pass))
	return u&p == 1
}

// ValidPath reports whether name is acceptable as a path: non-empty,
// relative, made of letters, digits and -_.~/, with no empty or dot-dot
// element, so a path can be used safely as a directory name on disk.
func ValidPath(name string) error {
	if name == "" {
		return fmt.Errorf("empty path")
	}
	if len(name) > 256 {
		return fmt.Errorf("path %.32q...: longer than 256 bytes", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("-_.~/", c)
		if !ok {
			return fmt.Errorf("path %q: character %q not allowed", name, c)
		}
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("path %q: empty, '.' or '..' element", name)
		}
	}
	return nil
}
