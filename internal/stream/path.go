package stream

import (
	"fmt"
	"regexp"
	"strings"
)

var pathNameRE = regexp.MustCompile(`^[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*$`)

// ValidPath reports whether p is usable as a stream path name ("live/cam1"):
// letters, digits and _ . ~ - in /-separated elements, none of them "." or
// "..", at most 512 bytes. Every package that turns a client-supplied path
// into a file name or map key checks it with this one rule, so no path can
// escape its root.
func ValidPath(p string) error {
	if !pathNameRE.MatchString(p) || len(p) > 512 {
		return fmt.Errorf("invalid path name %q: use letters, digits, _ . ~ - in /-separated elements", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("invalid path name %q: . and .. elements are not allowed", p)
		}
	}
	return nil
}
