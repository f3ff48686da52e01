package srt

import (
	"fmt"
	"strconv"
	"strings"

	gosrt "github.com/datarhei/gosrt"
)

// rejectionNames names the rejection codes this package sends or is likely
// to receive, for logs and errors.
var rejectionNames = map[gosrt.RejectionReason]string{
	gosrt.REJ_PEER:           "REJ_PEER",
	gosrt.REJ_BACKLOG:        "REJ_BACKLOG",
	gosrt.REJ_BADSECRET:      "REJ_BADSECRET (wrong passphrase)",
	gosrt.REJ_UNSECURE:       "REJ_UNSECURE (passphrase required or unexpected)",
	gosrt.REJ_VERSION:        "REJ_VERSION",
	gosrt.REJX_BAD_REQUEST:   "REJX_BAD_REQUEST",
	gosrt.REJX_UNAUTHORIZED:  "REJX_UNAUTHORIZED",
	gosrt.REJX_FORBIDDEN:     "REJX_FORBIDDEN",
	gosrt.REJX_NOTFOUND:      "REJX_NOTFOUND (no stream on this path)",
	gosrt.REJX_BAD_MODE:      "REJX_BAD_MODE",
	gosrt.REJX_CONFLICT:      "REJX_CONFLICT (path busy)",
	gosrt.REJX_DOWN:          "REJX_DOWN",
	gosrt.REJX_ISE:           "REJX_ISE",
	gosrt.REJX_NOTSUP_MEDIA:  "REJX_NOTSUP_MEDIA",
	gosrt.REJX_UNACCEPTABLE:  "REJX_UNACCEPTABLE",
	gosrt.REJX_OVERLOAD:      "REJX_OVERLOAD",
	gosrt.REJX_LOCKED:        "REJX_LOCKED",
	gosrt.REJX_UNIMPLEMENTED: "REJX_UNIMPLEMENTED",
}

func rejectionName(code gosrt.RejectionReason) string {
	if n, ok := rejectionNames[code]; ok {
		return n
	}
	return strconv.FormatUint(uint64(code), 10)
}

// RejectionCode extracts the SRT rejection code from an error of Pull, Push
// or gosrt.Dial, and reports whether there was one. gosrt reports a
// rejection as "REJECT (code in base 32)".
func RejectionCode(err error) (gosrt.RejectionReason, bool) {
	if err == nil {
		return 0, false
	}
	msg := err.Error()
	i := strings.Index(msg, "REJECT (")
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len("REJECT ("):]
	j := strings.IndexByte(rest, ')')
	if j < 0 {
		return 0, false
	}
	n, perr := strconv.ParseUint(rest[:j], 32, 32)
	if perr != nil {
		return 0, false
	}
	return gosrt.RejectionReason(n), true
}

// explainDial adds the rejection's name to a dial error.
func explainDial(err error) error {
	if code, ok := RejectionCode(err); ok {
		return fmt.Errorf("%w: refused with %s", err, rejectionName(code))
	}
	return err
}
