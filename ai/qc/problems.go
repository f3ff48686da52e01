package qc

import "time"

// Checks reported by live QC, as they appear in events and metrics.
const (
	CheckBlack            = "black"
	CheckFreeze           = "freeze"
	CheckSilence          = "silence"
	CheckLoudness         = "loudness"
	CheckFPSDrop          = "fps_drop"
	CheckPTSJump          = "pts_jump"
	CheckBitrateCollapse  = "bitrate_collapse"
	CheckKeyframeInterval = "keyframe_interval"
)

// AllChecks lists every check, for metrics that show each one.
var AllChecks = []string{CheckBlack, CheckFreeze, CheckSilence, CheckLoudness, CheckFPSDrop,
	CheckPTSJump, CheckBitrateCollapse, CheckKeyframeInterval}

// tracker turns a stream of good/bad observations into problem start and
// end: a problem starts once every observation for at least hold was bad,
// and ends at the first good one.
type tracker struct {
	check    string
	hold     time.Duration
	badSince time.Duration // stream time of the first bad observation; <0 when good
	active   bool
	startAt  time.Time // wall time the problem started
	count    uint64
}

func newTracker(check string, hold time.Duration) *tracker {
	return &tracker{check: check, hold: hold, badSince: -1}
}

// change is a problem starting or ending.
type change struct {
	check  string
	start  bool
	at     time.Duration // stream time the problem began (start) or ended (end)
	lasted time.Duration // wall time the problem was active (end only)
}

// observe records one observation at stream time t and returns a change
// when the problem starts or ends.
func (k *tracker) observe(bad bool, t time.Duration, now time.Time) (change, bool) {
	if !bad {
		k.badSince = -1
		if k.active {
			k.active = false
			return change{check: k.check, at: t, lasted: now.Sub(k.startAt)}, true
		}
		return change{}, false
	}
	if k.badSince < 0 || t < k.badSince {
		k.badSince = t
	}
	if !k.active && t-k.badSince >= k.hold {
		k.active = true
		k.startAt = now
		k.count++
		return change{check: k.check, start: true, at: k.badSince}, true
	}
	return change{}, false
}
