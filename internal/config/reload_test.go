package config

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEveryKeyHasAReloadClass walks every key of the config, down into
// sections, and fails for a key no class covers: a new setting must say
// whether a reload applies it.
func TestEveryKeyHasAReloadClass(t *testing.T) {
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for _, name := range fieldNames(typ) {
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			ft := typ.FieldByIndex(yamlFields(typ)[name]).Type
			if ft.Kind() == reflect.Struct && mixedClasses(key) {
				walk(ft, key)
				continue
			}
			if ReloadClass(key) == "" {
				t.Errorf("key %s has no reload class: add it to reloadClasses", key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	for k := range reloadClasses {
		if !keyExists(k) {
			t.Errorf("reloadClasses lists %s, which is no key", k)
		}
	}
}

// keyExists reports whether a dotted key names a field of Config.
func keyExists(key string) bool {
	typ := reflect.TypeFor[Config]()
	for _, part := range strings.Split(key, ".") {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return false
		}
		idx, ok := yamlFields(typ)[part]
		if !ok {
			return false
		}
		typ = typ.FieldByIndex(idx).Type
	}
	return true
}

// TestHeaderListsRestartKeys keeps the file's header honest: it names every
// key that needs a restart.
func TestHeaderListsRestartKeys(t *testing.T) {
	header, _, _ := strings.Cut(string(defaultYAML), "\nlog:")
	for _, k := range RestartKeys() {
		if !regexp.MustCompile(`(?m)[\s,(` + "`" + `]` + regexp.QuoteMeta(k) + `[\s,.)` + "`" + `]`).MatchString(header) {
			t.Errorf("the header of default.yaml does not name restart-only key %s", k)
		}
	}
}

func TestReconcile(t *testing.T) {
	running := Defaults()
	for _, tc := range []struct {
		name        string
		edit        func(c *Config)
		wantPending []string
		check       func(t *testing.T, got *Config)
	}{
		{"nothing changed", func(*Config) {}, nil, nil},
		{"hot keys apply", func(c *Config) {
			c.Log.Level = LogLevelDebug
			c.HTTP.CORSOrigins = []string{"https://a.example"}
			c.HLS.SegmentCount = 9
			c.Paths = []PathRule{{Name: "live/a"}}
		}, nil, func(t *testing.T, got *Config) {
			if got.Log.Level != LogLevelDebug || got.HLS.SegmentCount != 9 || len(got.Paths) != 1 || got.HTTP.CORSOrigins[0] != "https://a.example" {
				t.Fatalf("hot keys not applied: %+v", got)
			}
		}},
		{"restart keys keep running values", func(c *Config) {
			c.SRT.Latency = Duration(900 * time.Millisecond)
			c.WebRTC.STUNServers = []string{"stun:stun.example:3478"}
			c.Tasks.Concurrency = 4
			c.NATS.URL = "nats://127.0.0.1:4222"
			c.Log.Format = LogFormatJSON
			c.HTTP.Address = "127.0.0.1:9999"
		}, []string{"http.address", "log.format", "nats", "srt", "tasks", "webrtc"}, func(t *testing.T, got *Config) {
			if got.SRT.Latency != running.SRT.Latency || got.Tasks.Concurrency != running.Tasks.Concurrency ||
				got.NATS.URL != running.NATS.URL || got.Log.Format != running.Log.Format ||
				got.HTTP.Address != running.HTTP.Address || len(got.WebRTC.STUNServers) != len(running.WebRTC.STUNServers) {
				t.Fatalf("a restart-only key changed the running config: %+v", got)
			}
		}},
		{"mixed section splits", func(c *Config) {
			c.Record.Directory = "elsewhere"
			c.Record.Format = RecordFormatMPEGTS
		}, []string{"record.directory"}, func(t *testing.T, got *Config) {
			if got.Record.Directory != running.Record.Directory || got.Record.Format != RecordFormatMPEGTS {
				t.Fatalf("record section not split: %+v", got.Record)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := Defaults()
			tc.edit(next)
			got, pending := Reconcile(running, next)
			if !slices.Equal(pending, tc.wantPending) {
				t.Fatalf("pending = %v, want %v", pending, tc.wantPending)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}
