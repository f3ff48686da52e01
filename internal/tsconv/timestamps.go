package tsconv

import "time"

const (
	// clockRate is the MPEG-TS timestamp clock.
	clockRate = 90000
	// tsMask keeps the 33 bits a PES timestamp has room for.
	tsMask = 1<<33 - 1
)

// durationToTicks converts a core timestamp to 90 kHz ticks, rounded to the
// nearest tick so that ticks -> duration -> ticks is exact. It splits off
// whole seconds first so that streams running for days do not overflow.
func durationToTicks(d time.Duration) int64 {
	sec, rem := int64(d)/int64(time.Second), int64(d)%int64(time.Second)
	if rem < 0 {
		sec--
		rem += int64(time.Second)
	}
	return sec*clockRate + (rem*clockRate+int64(time.Second)/2)/int64(time.Second)
}

// ticksToDuration converts unwrapped 90 kHz ticks to a core timestamp.
func ticksToDuration(t int64) time.Duration {
	sec, rem := t/clockRate, t%clockRate
	if rem < 0 {
		sec--
		rem += clockRate
	}
	return time.Duration(sec*int64(time.Second) + (rem*int64(time.Second)+clockRate/2)/clockRate)
}
