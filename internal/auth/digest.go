package auth

import (
	"crypto/md5" //nolint:gosec // RTSP Digest (RFC 2617) is defined over MD5; clients offer nothing else
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"mps/internal/stream"
)

// DigestHA1 is the realm hash of a user's password for Digest logins:
// hex MD5 of "user:mps:password". A user configured with it (`digest`)
// can log in to RTSP with Digest while the server keeps no clear password;
// `mps hash-password -digest-user NAME` prints it.
func DigestHA1(user, pass string) string {
	return md5Hex(user + ":" + Realm + ":" + pass)
}

// CheckHA1 reports whether s looks like a realm hash (32 hex digits).
func CheckHA1(s string) error {
	if b, err := hex.DecodeString(s); err != nil || len(b) != md5.Size {
		return fmt.Errorf("digest: want the 32 hex digits of MD5(user:%s:password)", Realm)
	}
	return nil
}

// DigestOK reports whether a Digest answer proves the password behind
// ha1: the client's response must equal MD5(HA1:nonce:MD5(method:uri)).
func DigestOK(ha1 string, d *stream.DigestAuth) bool {
	if ha1 == "" || d == nil {
		return false
	}
	want := md5Hex(ha1 + ":" + d.Nonce + ":" + md5Hex(d.Method+":"+d.URI))
	return subtle.ConstantTimeCompare([]byte(want), []byte(d.Response)) == 1
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s)) //nolint:gosec // see the import
	return hex.EncodeToString(h[:])
}
