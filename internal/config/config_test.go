package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogHandler(t *testing.T) {
	for _, tc := range []struct {
		log  Log
		lvl  slog.Level
		json bool
	}{
		{Log{Level: "debug", Format: "json"}, slog.LevelDebug, true},
		{Log{Level: "info", Format: "text"}, slog.LevelInfo, false},
		{Log{Level: "warn"}, slog.LevelWarn, false},
		{Log{Level: "error"}, slog.LevelError, false},
	} {
		if tc.log.SlogLevel() != tc.lvl {
			t.Errorf("%+v: level %v", tc.log, tc.log.SlogLevel())
		}
		var buf bytes.Buffer
		slog.New(tc.log.Handler(&buf, nil)).Error("x")
		if got := strings.HasPrefix(buf.String(), "{"); got != tc.json {
			t.Errorf("%+v: output %q", tc.log, buf.String())
		}
	}
}

func TestScalarsAsStrings(t *testing.T) {
	cfg := mustParse(t, "paths:\n  - name: a\n    publish_user: 1\n    publish_pass: 12345\n    read_user: true\n    read_pass: |\n      multi\n")
	r := cfg.Rule("a")
	if r.PublishUser != "1" || r.PublishPass != "12345" || r.ReadUser != "true" || r.ReadPass != "multi\n" {
		t.Fatalf("%+v", r)
	}
	if !bytes.Equal(DefaultYAML(), defaultYAML) {
		t.Fatal("DefaultYAML")
	}
}
