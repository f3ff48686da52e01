package config

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mpsYAML is the documented config users copy; it must be the embedded
// default byte for byte.
const mpsYAML = "../../configs/mps.yaml"

func TestConfigsFileIsDefault(t *testing.T) {
	data, err := os.ReadFile(mpsYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, defaultYAML) {
		t.Fatal("configs/mps.yaml differs from server/config/default.yaml: copy one onto the other (cp server/config/default.yaml configs/mps.yaml)")
	}
}

func TestDefaultsEqualLoadedFile(t *testing.T) {
	clearEnv(t)
	cfg, err := Load(mpsYAML)
	if err != nil {
		t.Fatal(err)
	}
	if d := Defaults(); !reflect.DeepEqual(d, cfg) {
		t.Fatalf("Defaults() = %+v\nLoad(configs/mps.yaml) = %+v", d, cfg)
	}
	// Each call is a fresh copy.
	a, b := Defaults(), Defaults()
	a.HTTP.CORSOrigins[0] = "changed"
	if b.HTTP.CORSOrigins[0] != "*" {
		t.Fatal("Defaults() copies share memory")
	}
}

func TestDefaultValues(t *testing.T) {
	c := Defaults()
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("log.level", c.Log.Level, "info")
	check("log.format", c.Log.Format, "text")
	check("http", c.HTTP, HTTP{Enabled: true, Address: ":8080", CORSOrigins: []string{"*"}})
	check("rtmp", c.RTMP, RTMP{Enabled: true, Address: ":1935"})
	check("rtsp", c.RTSP, RTSP{Enabled: true, Address: ":8554", UDPRTPAddress: ":8000", UDPRTCPAddress: ":8001", Transports: []string{"udp", "tcp"}})
	check("srt", c.SRT, SRT{Enabled: true, Address: ":8890", Latency: Duration(120 * time.Millisecond)})
	check("webrtc", c.WebRTC, WebRTC{Enabled: true, ICEUDPAddress: ":8189", ICETCPAddress: ":8189"})
	check("hls", c.HLS, HLS{Variant: HLSVariantLowLatency, SegmentDuration: Duration(time.Second), PartDuration: Duration(200 * time.Millisecond),
		SegmentCount: 7, CloseAfter: Duration(time.Minute), Directory: "hls"})
	check("record", c.Record, Record{Format: RecordFormatFMP4, SegmentDuration: Duration(time.Hour), PartDuration: Duration(time.Second),
		Directory: "recordings", Path: "%path/%Y-%m-%d_%H-%M-%S-%f", QueueBytes: 256 * MiB})
	check("storage", c.Storage, Storage{DataDir: "./data"})
	check("stream", c.Stream, Stream{RingSize: 1024})
	check("api", c.API, API{Enabled: true})
	check("paths", len(c.Paths), 0)
}

// TestDefaultYAMLDocumentsEveryKey checks that each section key appears in
// default.yaml with a comment right above it, and that the commented paths
// example shows every rule key.
func TestDefaultYAMLDocumentsEveryKey(t *testing.T) {
	lines := strings.Split(string(defaultYAML), "\n")
	keyRE := regexp.MustCompile(`^(\s*)([a-z_]+):`)
	section := ""
	documented := map[string]bool{}
	for i, l := range lines {
		m := keyRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] == "" {
			section = m[2]
			documented[section] = true
			continue
		}
		if prev := strings.TrimSpace(lines[i-1]); !strings.HasPrefix(prev, "#") {
			t.Errorf("default.yaml:%d: %s.%s has no comment above it", i+1, section, m[2])
		}
		documented[section+"."+m[2]] = true
	}
	ct := typeOf(Defaults())
	for _, sec := range fieldNames(ct) {
		if !documented[sec] {
			t.Errorf("section %s missing from default.yaml", sec)
		}
		st := ct.Field(yamlFields(ct)[sec]).Type
		if sec == "paths" {
			continue
		}
		for _, key := range fieldNames(st) {
			if !documented[sec+"."+key] {
				t.Errorf("key %s.%s missing from default.yaml", sec, key)
			}
		}
	}
	for _, key := range append(fieldNames(reflect.TypeFor[PathRule]()), "ladder") {
		if !regexp.MustCompile(`(?m)^#\s+(- )?` + key + `:`).Match(defaultYAML) {
			t.Errorf("path rule key %s missing from the commented example", key)
		}
	}
}

// TestPathsExampleParses uncomments the documented rule example and checks
// it is a valid config.
func TestPathsExampleParses(t *testing.T) {
	s := string(defaultYAML)
	i := strings.Index(s, "# paths:\n")
	if i < 0 {
		t.Fatal("no paths example")
	}
	var b strings.Builder
	for _, l := range strings.Split(s[i:], "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		l = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		b.WriteString(l + "\n")
	}
	cfg, err := Parse("example.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	r := cfg.Rule("live/cam1")
	if r.Match != "live/cam1" || !r.Record.Enabled || len(r.Ladder) != 2 || r.SourceOnDemandCloseAfter.D() != 10*time.Second {
		t.Fatalf("example rule = %+v", r)
	}
}
