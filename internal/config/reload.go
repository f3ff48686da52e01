package config

import (
	"reflect"
	"slices"
	"strings"
)

// Reload classes: how a changed key reaches the running server.
const (
	// Hot keys apply on reload: to the next client, publish or request.
	Hot = "hot"
	// Restart keys are read once when the server starts (listeners, the
	// task service, the queue); a reload keeps their running value and
	// says so.
	Restart = "restart"
)

// reloadClasses classifies every key by its longest listed prefix (a
// section, or section.key). TestEveryKeyHasAReloadClass fails when a new
// section or key is not covered, so adding a setting means deciding how
// it reloads; TestHeaderListsRestartKeys keeps the file's header in step.
var reloadClasses = map[string]string{
	"log.level":                 Hot,
	"log.format":                Restart,
	"http":                      Restart,
	"http.cors_origins":         Hot,
	"rtmp":                      Restart,
	"rtsp":                      Restart,
	"srt":                       Restart,
	"webrtc":                    Restart,
	"hls":                       Hot,
	"record":                    Hot,
	"record.directory":          Restart,
	"record.path":               Restart,
	"record.target":             Hot, // the segments closed after the reload
	"record.keep_local":         Hot, // likewise; uploaded files are not fetched back
	"storage":                   Restart,
	"stream":                    Hot,
	"api":                       Restart,
	"snapshots":                 Hot,
	"transcode":                 Hot,
	"transcode.max_transcoders": Restart,
	"watermarks":                Hot,
	"nats":                      Restart,
	"tasks":                     Restart,
	"templates":                 Restart,
	"schemes":                   Restart,
	"webhooks":                  Restart,
	"ai":                        Restart,
	"auth":                      Hot,
	"paths":                     Hot,
	"reload_allow_empty":        Hot,
}

// ReloadClass is the class (Hot or Restart) of a dotted key such as
// "srt.latency" or "paths".
func ReloadClass(key string) string {
	for k := key; ; {
		if c, ok := reloadClasses[k]; ok {
			return c
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return ""
		}
		k = k[:i]
	}
}

// RestartKeys lists the keys that are read only at start, in a stable
// order, for documentation and tests.
func RestartKeys() []string {
	var keys []string
	for k, c := range reloadClasses {
		if c == Restart {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Reconcile prepares a reload: it returns a copy of next in which every
// restart-only key keeps its running value, and the keys whose new value
// waits for a restart. The server stores the copy, so what it runs and
// what /api/v1/config shows are the same.
func Reconcile(running, next *Config) (*Config, []string) {
	out := *next
	var pending []string
	rv, ov := reflect.ValueOf(running).Elem(), reflect.ValueOf(&out).Elem()
	reconcileStruct(rv, ov, "", &pending)
	return &out, pending
}

// reconcileStruct walks the keys of a section (or of the whole config),
// copying running values into out for changed restart-only keys. It
// descends into a section only where the section holds keys of both
// classes.
func reconcileStruct(running, out reflect.Value, prefix string, pending *[]string) {
	for name, index := range yamlFields(running.Type()) {
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		rf, of := running.FieldByIndex(index), out.FieldByIndex(index)
		if reflect.DeepEqual(rf.Interface(), of.Interface()) {
			continue
		}
		if of.Kind() == reflect.Struct && mixedClasses(key) {
			reconcileStruct(rf, of, key, pending)
			continue
		}
		if ReloadClass(key) == Restart {
			of.Set(rf)
			*pending = append(*pending, key)
		}
	}
	slices.Sort(*pending)
}

// mixedClasses reports whether some key below key has a class of its own.
func mixedClasses(key string) bool {
	for k := range reloadClasses {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}
