package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"MPS_RTMP_ADDRESS=127.0.0.1:19350",                           // string
		"MPS_HLS_PART_DURATION=100ms",                                // duration
		"MPS_RECORD_ENABLED=true",                                    // bool
		"MPS_HTTP_CORS_ORIGINS=https://a.example, https://b.example", // list
		"MPS_STREAM_RING_SIZE=2048",                                  // int
		"MPS_RECORD_QUEUE_BYTES=64MiB",                               // size
		"MPS_LOG_LEVEL=debug",
		"MPS_STORAGE_DATA_DIR=/x",
		"MPS_WEBRTC_STUN_SERVERS=",   // empty list
		"MPS_SOMETHING_ELSE=ignored", // not a config section
		"PATH=/usr/bin",              // not ours
	}
	file := "rtmp:\n  address: ':1'\nwebrtc:\n  stun_servers: [stun:a.example:3478]\n"
	cfg, err := ParseEnv("t.yaml", []byte(file), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RTMP.Address != "127.0.0.1:19350" {
		t.Errorf("string: %q (env must win over the file)", cfg.RTMP.Address)
	}
	if cfg.HLS.PartDuration.D() != 100*time.Millisecond {
		t.Errorf("duration: %v", cfg.HLS.PartDuration)
	}
	if !cfg.Record.Enabled {
		t.Error("bool not applied")
	}
	if !slices.Equal(cfg.HTTP.CORSOrigins, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("list: %q", cfg.HTTP.CORSOrigins)
	}
	if cfg.Stream.RingSize != 2048 {
		t.Errorf("int: %d", cfg.Stream.RingSize)
	}
	if cfg.Record.QueueBytes != 64*MiB {
		t.Errorf("size: %d", cfg.Record.QueueBytes)
	}
	if cfg.Log.Level != "debug" || cfg.Storage.DataDir != "/x" {
		t.Errorf("log/storage: %q %q", cfg.Log.Level, cfg.Storage.DataDir)
	}
	if len(cfg.WebRTC.STUNServers) != 0 {
		t.Errorf("empty list: %q", cfg.WebRTC.STUNServers)
	}
	// Parse (no env) is not affected.
	if cfg, _ := Parse("t.yaml", []byte(file)); cfg.RTMP.Address != ":1" {
		t.Errorf("Parse applied env: %q", cfg.RTMP.Address)
	}
}

func TestEnvFromProcess(t *testing.T) {
	clearEnv(t)
	t.Setenv("MPS_HLS_SEGMENT_COUNT", "9")
	t.Setenv("MPS_SRT_LATENCY", "250ms")
	cfg, _, err := LoadOrDefault("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HLS.SegmentCount != 9 || cfg.SRT.Latency.D() != 250*time.Millisecond {
		t.Fatalf("got %d %v", cfg.HLS.SegmentCount, cfg.SRT.Latency)
	}
}

func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"MPS_HLS_PART_DURATION=fast", `environment variable MPS_HLS_PART_DURATION: hls.part_duration: invalid duration "fast"`},
		{"MPS_RTMP_ENABLED=maybe", `environment variable MPS_RTMP_ENABLED: rtmp.enabled: invalid boolean "maybe"`},
		{"MPS_STREAM_RING_SIZE=big", `environment variable MPS_STREAM_RING_SIZE: stream.ring_size: invalid integer "big"`},
		{"MPS_RECORD_MAX_BYTES=lots", `environment variable MPS_RECORD_MAX_BYTES: record.max_bytes: invalid size "lots"`},
		{"MPS_RTMP_ADRESS=:1", `environment variable MPS_RTMP_ADRESS: unknown setting rtmp.adress (valid: MPS_RTMP_ENABLED, MPS_RTMP_ADDRESS, MPS_RTMP_READ_TIMEOUT, MPS_RTMP_WRITE_TIMEOUT, MPS_RTMP_MAX_CONNECTIONS, MPS_RTMP_MAX_CONNECTIONS_PER_IP, MPS_RTMP_TLS_CERT_FILE, MPS_RTMP_TLS_KEY_FILE)`},
		// Validation after the override names the variable too.
		{"MPS_RTMP_ADDRESS=abc", `environment variable MPS_RTMP_ADDRESS: rtmp.address: invalid address "abc"`},
		{"MPS_HLS_VARIANT=dash", `environment variable MPS_HLS_VARIANT: hls.variant: invalid value "dash"`},
		{"MPS_RTSP_TRANSPORTS=udp,quic", `environment variable MPS_RTSP_TRANSPORTS: rtsp.transports[1]: invalid value "quic"`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, err := ParseEnv("t.yaml", nil, []string{tc.env})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Env == "" {
				t.Fatalf("want *Error with Env, got %#v", err)
			}
		})
	}
}

// TestEnvCoversEveryKey checks that every key of every section can be set
// from the environment.
func TestEnvCoversEveryKey(t *testing.T) {
	cfg := Defaults()
	n := 0
	for _, sec := range fieldNames(typeOf(cfg)) {
		st := typeOf(cfg).FieldByIndex(yamlFields(typeOf(cfg))[sec]).Type
		if st.Kind() != reflect.Struct {
			continue // paths, webhooks, watermarks: file only
		}
		for _, key := range envKeys(st) {
			name := EnvPrefix + strings.ToUpper(sec+"_"+key)
			_, f, _, err := lookupEnv(valueOf(cfg), strings.TrimPrefix(name, EnvPrefix))
			if err != nil || !f.IsValid() {
				t.Fatalf("%s: not settable: %v", name, err)
			}
			// Setting the current value back as text must round-trip.
			var text string
			switch v := f.Addr().Interface().(type) {
			case encoding.TextMarshaler:
				b, _ := v.MarshalText()
				text = string(b)
			case *[]string:
				text = strings.Join(*v, ",")
			default:
				text = fmt.Sprint(f.Interface())
			}
			before := reflect.ValueOf(f.Interface())
			if err := setFromString(f, text); err != nil || !reflect.DeepEqual(before.Interface(), f.Interface()) {
				t.Errorf("%s=%q: %v, got %v", name, text, err, f.Interface())
			}
			n++
		}
	}
	if n < 54 {
		t.Fatalf("only %d keys found", n)
	}
}
