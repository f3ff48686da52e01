package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"mps/internal/config"
)

// ErrNotFound is returned for a key that holds no object.
var ErrNotFound = errors.New("storage: no such object")

// Object describes one stored object.
type Object struct {
	// Key is relative to the target (its prefix removed).
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag,omitempty"`
	Modified time.Time `json:"modified"`
}

// Target is one storage target.
type Target interface {
	// Name is the target's name in the config.
	Name() string
	// PutFile stores the file at path under key and returns once the
	// store has confirmed the object (checksums and size).
	PutFile(ctx context.Context, key, path, contentType string) (Object, error)
	// Put stores size bytes from r under key.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Object, error)
	// Open reads an object; the reader supports ranges through Seek.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error)
	// Stat describes an object, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes an object; deleting a missing key is no error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, in key
	// order, after startAfter (empty: from the first), at most max.
	List(ctx context.Context, prefix, startAfter string, max int) ([]Object, error)
	// URL is an address a player or ffmpeg can read the object from
	// without credentials: a presigned URL valid for the target's
	// presign_expiry, or, for a local target, the file's path.
	URL(ctx context.Context, key string) (string, error)
}

// Open makes the target t describes. Relative local dirs are resolved
// against dataDir. hc carries the transport for S3 (nil: the default).
func Open(t config.StorageTarget, dataDir string, hc *http.Client) (Target, error) {
	switch t.Kind {
	case config.StorageLocal:
		return newLocal(t, dataDir)
	case config.StorageS3:
		return newS3(t, hc)
	default:
		return nil, fmt.Errorf("storage target %s: unknown kind %q", t.Name, t.Kind)
	}
}

// Set is every configured target by name.
type Set struct {
	targets map[string]Target
}

// OpenAll opens every target of the storage section.
func OpenAll(s config.Storage, hc *http.Client) (*Set, error) {
	set := &Set{targets: map[string]Target{}}
	for _, t := range s.Targets {
		tg, err := Open(t, s.DataDir, hc)
		if err != nil {
			return nil, err
		}
		set.targets[t.Name] = tg
	}
	return set, nil
}

// Get returns the target called name.
func (s *Set) Get(name string) (Target, bool) {
	if s == nil {
		return nil, false
	}
	t, ok := s.targets[name]
	return t, ok
}

// ParseURL splits "s3://target/key" into the target name and the key. It
// reports false for any other string, so callers can try it first on a
// task input.
func ParseURL(s string) (target, key string, ok bool) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", false
	}
	target, key, ok = strings.Cut(rest, "/")
	if !ok || target == "" || key == "" || strings.HasSuffix(key, "/") {
		return "", "", false
	}
	return target, key, true
}

// checkKey refuses keys that could escape a local root or confuse a
// store: empty, absolute, with .. elements, backslashes or NULs.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("storage: invalid key %q", key)
	}
	for _, el := range strings.Split(key, "/") {
		if el == ".." || el == "." || el == "" {
			return fmt.Errorf("storage: invalid key %q", key)
		}
	}
	return nil
}
