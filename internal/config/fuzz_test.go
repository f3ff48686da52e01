package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the config parser: it never panics, an
// error names the file, and an accepted config validates again, redacts
// and compares equal to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "rtmp:\n  address: :0\n", "paths:\n  - name: live/a\n    read_user: u\n    read_pass: p\n",
		"http:\n  cors_origins: [\"*\"]\n  max_body_size: 1KiB\n", "tasks:\n  url_allowlist: [10.0.0.0/8, \"h:1\"]\n",
		"a: &x [*x]\n", "paths: [{pattern: \"~^(a\"}]\n", "log: {level: 3}\n", "record:\n  path: \"%path/%Y%\"\n",
		"schemes:\n  - name: s\n    operations: [{template: nope}]\n", "hls:\n  segment_duration: 7d\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if again := *c; !c.Equal(&again) {
			t.Fatal("config not equal to itself")
		}
		_ = c.Redacted()
	})
}
