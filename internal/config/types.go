package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("200ms",
// "1h30m") or as whole days ("7d"), because retention and segment lengths
// read better that way than as nanoseconds. Negative values are rejected
// when parsed: no setting means anything by a negative time.
type Duration time.Duration

// D returns d as a time.Duration for use with the time package.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d the way it is written in YAML; whole days print as "Nd".
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	// "1h0m0s" reads better as "1h".
	s := td.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// MarshalText makes Duration print as "200ms" in JSON and YAML.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration string; see ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses "0", a Go duration ("1h", "200ms") or whole days
// ("7d") and rejects negative values.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: days must be a whole number like \"7d\"", s)
		}
		if n < 0 {
			return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
		}
		if n > int64(math.MaxInt64/(24*time.Hour)) {
			return 0, fmt.Errorf("invalid duration %q: too large", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit such as 200ms, 10s, 1h or 7d", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return Duration(v), nil
}

// ByteSize is a number of bytes written either as an integer or with a unit
// (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024), so
// limits like "256MiB" need no arithmetic in the config file.
type ByteSize int64

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// String formats b with the largest binary unit that divides it exactly.
func (b ByteSize) String() string {
	for _, u := range []struct {
		n string
		v ByteSize
	}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b != 0 && b%u.v == 0 {
			return strconv.FormatInt(int64(b/u.v), 10) + u.n
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText makes ByteSize print as "256MiB" in JSON and YAML.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a size; see ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize parses "1048576", "256MiB", "1.5GB" (units are
// case-insensitive) and rejects negative values.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty size")
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		}
		return ByteSize(n), nil
	}
	lower := strings.ToLower(t)
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(lower, u.suffix)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			break
		}
		if f < 0 {
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		}
		v := f * u.mult
		if v >= math.MaxInt64 {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return ByteSize(v), nil
	}
	return 0, fmt.Errorf("invalid size %q: use bytes or a number with a unit such as 512KiB, 256MiB, 1GB", s)
}

// Bitrate is a rate in bits per second written as an integer ("800000") or
// with a decimal suffix, k (×1000) or M (×1000000): "2800k", "2.8M". Encoder
// settings are quoted that way everywhere, so the file reads like an ffmpeg
// command line. Negative values are rejected when parsed.
type Bitrate int64

// Bitrate units.
const (
	Kbps Bitrate = 1000
	Mbps Bitrate = 1000 * Kbps
)

// String formats b with the largest suffix that keeps it exact: "2800k",
// "6M", "800001".
func (b Bitrate) String() string {
	switch {
	case b != 0 && b%Mbps == 0:
		return strconv.FormatInt(int64(b/Mbps), 10) + "M"
	case b != 0 && b%Kbps == 0:
		return strconv.FormatInt(int64(b/Kbps), 10) + "k"
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText makes Bitrate print as "2800k" in JSON and YAML.
func (b Bitrate) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a bitrate; see ParseBitrate.
func (b *Bitrate) UnmarshalText(text []byte) error {
	v, err := ParseBitrate(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseBitrate parses "800000", "2800k", "2.8M" (k may also be written K)
// into bits per second, rounding to a whole bit, and rejects negative
// values.
func ParseBitrate(s string) (Bitrate, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty bitrate")
	}
	mult := 1.0
	switch t[len(t)-1] {
	case 'k', 'K':
		mult, t = 1e3, t[:len(t)-1]
	case 'M':
		mult, t = 1e6, t[:len(t)-1]
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil && mult == 1 {
		if n < 0 {
			return 0, fmt.Errorf("invalid bitrate %q: must not be negative", s)
		}
		return Bitrate(n), nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || t == "" {
		return 0, fmt.Errorf("invalid bitrate %q: use bits/s or a number with k or M, such as 800000, 2800k, 2.8M", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("invalid bitrate %q: must not be negative", s)
	}
	v := math.Round(f * mult)
	if v >= 1e15 { // far beyond any encoder; also keeps the int64 exact
		return 0, fmt.Errorf("invalid bitrate %q: too large", s)
	}
	return Bitrate(v), nil
}
