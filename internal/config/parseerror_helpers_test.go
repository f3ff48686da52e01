package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// parseErrorCase is a config that must be rejected with an error naming
// file t.yaml, line and key, and containing msg.
type parseErrorCase struct {
	name string
	yaml string
	line int
	key  string
	msg  string
}

// runParseErrorCases parses each case and checks both the message prefix
// "t.yaml:LINE: KEY: " and the *Error fields, so every error class of every
// section is held to the same file:line:key promise.
func runParseErrorCases(t *testing.T, cases []parseErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.yaml)
			}
			want := fmt.Sprintf("t.yaml:%d: %s: ", tc.line, tc.key)
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q\nwant prefix %q and %q", err, want, tc.msg)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "t.yaml" || ce.Line != tc.line || ce.Key != tc.key {
				t.Fatalf("error fields = %+v", ce)
			}
		})
	}
}
