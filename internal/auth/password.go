package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2idPrefix starts a password hash in the PHC string format:
// $argon2id$v=19$m=65536,t=3,p=2$SALT$HASH (salt and hash in unpadded
// standard base64).
const argon2idPrefix = "$argon2id$"

// IsHash reports whether a configured password is an argon2id PHC string
// rather than plain text.
func IsHash(pass string) bool { return strings.HasPrefix(pass, argon2idPrefix) }

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	hash    []byte
}

// parsePHC parses an argon2id PHC string, rejecting parameters that would
// make one login cost more than a second or a gigabyte.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errors.New("not an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return phc{}, fmt.Errorf("argon2id version %q: want v=%d", parts[2], argon2.Version)
	}
	var p phc
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return phc{}, fmt.Errorf("argon2id parameters %q: want m=KIB,t=PASSES,p=THREADS", parts[3])
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || threads < 1 || threads > 64 {
		return phc{}, fmt.Errorf("argon2id parameters %q out of range (m 8..1048576, t 1..16, p 1..64)", parts[3])
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return phc{}, errors.New("argon2id salt: want at least 8 bytes of unpadded base64")
	}
	if p.hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.hash) < 16 || len(p.hash) > 64 {
		return phc{}, errors.New("argon2id hash: want 16 to 64 bytes of unpadded base64")
	}
	return p, nil
}

// CheckHash reports an error when a configured argon2id string cannot be
// used, so the config is refused at load instead of at the first login.
func CheckHash(s string) error {
	_, err := parsePHC(s)
	return err
}

// verify reports whether pass matches the PHC string want.
func verifyHash(want, pass string) bool {
	p, err := parsePHC(want)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pass), p.salt, p.time, p.memory, p.threads, uint32(len(p.hash)))
	return subtle.ConstantTimeCompare(got, p.hash) == 1
}

// HashPassword returns pass as an argon2id PHC string with OWASP's
// minimum parameters for argon2id (19 MiB, 2 passes, 1 thread): every
// failed login costs the server one such check, so heavier parameters
// would hand attackers a cheap way to burn its CPU and memory.
func HashPassword(pass string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	const memory, passes, threads = 19 * 1024, 2, 1
	hash := argon2.IDKey([]byte(pass), salt, passes, memory, threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(hash)), nil
}

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
