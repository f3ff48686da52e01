package config

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"200ms", 200 * time.Millisecond, true}, {"1h", time.Hour, true},
		{"2h", 2 * time.Hour, true}, {"1h30m", 90 * time.Minute, true}, {"7d", 7 * 24 * time.Hour, true},
		{" 10s ", 10 * time.Second, true},
		{"", 0, false}, {"10", 0, false}, {"-1s", 0, false}, {"-2d", 0, false}, {"1.5d", 0, false}, {"fast", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got.D() != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
	for d, s := range map[Duration]string{
		0: "0s", Duration(time.Hour): "1h", Duration(90 * time.Minute): "1h30m", Duration(time.Minute): "1m",
		Duration(200 * time.Millisecond): "200ms", Duration(48 * time.Hour): "2d",
	} {
		if d.String() != s {
			t.Errorf("%v.String() = %q, want %q", time.Duration(d), d.String(), s)
		}
		if back, err := ParseDuration(s); err != nil || back != d {
			t.Errorf("round trip %q: %v %v", s, back, err)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"0", 0, true}, {"1048576", 1 << 20, true}, {"256MiB", 256 << 20, true}, {"256mib", 256 << 20, true},
		{"1KiB", 1024, true}, {"1GiB", 1 << 30, true}, {"2TiB", 2 << 40, true}, {"1KB", 1000, true},
		{"1.5MB", 1500000, true}, {"3GB", 3e9, true}, {"10B", 10, true}, {"512 KiB", 512 << 10, true},
		{"", 0, false}, {"-1", 0, false}, {"-1MiB", 0, false}, {"12XB", 0, false}, {"MiB", 0, false},
		{"1e30GB", 0, false}, {"NaNMB", 0, false},
	} {
		got, err := ParseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v", tc.in, got, err)
		}
	}
	for b, s := range map[ByteSize]string{0: "0", 1000: "1000", 256 * MiB: "256MiB", 3 * GiB: "3GiB", 1536: "1536"} {
		if b.String() != s {
			t.Errorf("%d.String() = %q, want %q", b, b.String(), s)
		}
		if back, err := ParseByteSize(b.String()); err != nil || back != b {
			t.Errorf("round trip %d -> %q: %v %v", b, b.String(), back, err)
		}
	}
}

func TestTypesJSON(t *testing.T) {
	in := struct {
		D Duration
		B ByteSize
	}{Duration(1500 * time.Millisecond), 64 * MiB}
	data, err := json.Marshal(in)
	if err != nil || string(data) != `{"D":"1.5s","B":"64MiB"}` {
		t.Fatalf("%s %v", data, err)
	}
	var out struct {
		D Duration
		B ByteSize
	}
	if err := json.Unmarshal(data, &out); err != nil || out != in {
		t.Fatalf("%+v %v", out, err)
	}
}
