package vod

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Offset is a point or length in a file: seconds ("3.5", "3.5s", "1m30s"),
// a clock ("00:01:02.5") or a share of the duration ("10%"). It is a string
// so it reads the same in YAML and JSON; JSON numbers are accepted too.
type Offset string

// UnmarshalJSON accepts a string or a number of seconds.
func (o *Offset) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = Offset(s)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("offset: want a string or a number, got %s", b)
	}
	*o = Offset(ftoa(f))
	return nil
}

// UnmarshalText accepts an offset as written in a config file ("1.5",
// "2.5s", "00:01:02", "10%") and checks its syntax, so a bad value is
// reported where it was written rather than when the operation runs. An
// empty text is the zero offset.
func (o *Offset) UnmarshalText(b []byte) error {
	v := Offset(strings.TrimSpace(string(b)))
	if _, err := v.Seconds(100); err != nil { // syntax only: 100 is a nominal duration
		return err
	}
	*o = v
	return nil
}

// IsPercent reports whether o is a share of the duration.
func (o Offset) IsPercent() bool { return strings.HasSuffix(strings.TrimSpace(string(o)), "%") }

// Seconds resolves o against a duration in seconds.
func (o Offset) Seconds(duration float64) (float64, error) {
	v, err := o.seconds(duration)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0) || v < 0) {
		return 0, fmt.Errorf("bad offset %q", string(o))
	}
	return v, err
}

func (o Offset) seconds(duration float64) (float64, error) {
	s := strings.TrimSpace(string(o))
	if s == "" {
		return 0, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 {
			return 0, fmt.Errorf("bad percentage %q", s)
		}
		return duration * f / 100, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("negative offset %q", s)
		}
		return f, nil
	}
	if strings.Contains(s, ":") {
		var total float64
		for _, part := range strings.Split(s, ":") {
			f, err := strconv.ParseFloat(part, 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("bad clock offset %q", s)
			}
			total = total*60 + f
		}
		return total, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad offset %q (want 3.5s, 00:01:02, or 10%%)", s)
	}
	return d.Seconds(), nil
}

// validate checks the syntax (with a nominal duration).
func (o Offset) validate(what string) error {
	if _, err := o.Seconds(100); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// window resolves a start/end pair against duration: end 0 means the end
// of the file. It fails on an empty or inverted window.
func window(start, end Offset, duration float64) (float64, float64, error) {
	a, err := start.Seconds(duration)
	if err != nil {
		return 0, 0, fmt.Errorf("start: %w", err)
	}
	b, err := end.Seconds(duration)
	if err != nil {
		return 0, 0, fmt.Errorf("end: %w", err)
	}
	if b == 0 || (duration > 0 && b > duration) {
		b = duration
	}
	if duration > 0 && a >= duration {
		return 0, 0, fmt.Errorf("start %.3fs is past the end of the input (%.3fs)", a, duration)
	}
	if b > 0 && b <= a {
		return 0, 0, fmt.Errorf("end %.3fs is not after start %.3fs", b, a)
	}
	return a, b, nil
}
