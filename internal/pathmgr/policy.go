package pathmgr

import (
	"crypto/subtle"
	"time"

	"mps/internal/stream"
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

	// Source is a URL the server pulls the path from instead of waiting for
	// a publisher (rtsp://, rtmp://, srt://, http(s)://….m3u8).
	Source string
	// SourceOnDemand starts the pull when the first reader arrives and
	// stops it after SourceCloseAfter without readers; otherwise the source
	// runs always.
	SourceOnDemand   bool
	SourceCloseAfter time.Duration
	// SourceRetry is the first reconnect delay; it doubles up to a minute.
	SourceRetry time.Duration
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

// ValidPath reports whether name is acceptable as a path. It applies the
// same rule as path names in the config, so a path can be used safely as a
// directory name on disk and never escapes its root.
func ValidPath(name string) error { return stream.ValidPath(name) }
