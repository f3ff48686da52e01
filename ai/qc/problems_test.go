package qc

import (
	"testing"
	"time"

	"mps/internal/config"
)

func TestTracker(t *testing.T) {
	now := time.Now()
	k := newTracker(CheckBlack, time.Second)
	steps := []struct {
		bad   bool
		at    time.Duration
		start bool
		end   bool
	}{
		{true, 0, false, false},
		{true, 500 * time.Millisecond, false, false},
		{false, 600 * time.Millisecond, false, false}, // too short: no problem
		{true, 2 * time.Second, false, false},
		{true, 3 * time.Second, true, false}, // held for 1 s: starts, dated at 2 s
		{true, 4 * time.Second, false, false},
		{false, 5 * time.Second, false, true},
	}
	for i, s := range steps {
		ch, ok := k.observe(s.bad, s.at, now)
		if ok != (s.start || s.end) || ok && ch.start != s.start {
			t.Fatalf("step %d: change %+v %v", i, ch, ok)
		}
		if s.start && ch.at != 2*time.Second {
			t.Fatalf("problem dated %v, want 2s", ch.at)
		}
	}
	if k.count != 1 {
		t.Fatalf("count %d", k.count)
	}
}

func TestDefaults(t *testing.T) {
	r := WithDefaults(config.QC{Enabled: true, Black: config.Duration(3 * time.Second)})
	if r.Black.D() != 3*time.Second || r.Freeze.D() != defaultFreeze || r.Decode != config.QCDecodeKeyframes || r.FPSDrop != 0.8 {
		t.Fatalf("%+v", r)
	}
}
