package rtsp

import "time"

// ticksToDuration converts a count of clock-rate ticks into a duration
// without overflowing for long sessions or high clock rates.
func ticksToDuration(ticks int64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	r := int64(rate)
	return time.Duration(ticks/r)*time.Second + time.Duration((ticks%r)*int64(time.Second)/r)
}

// durationToTicks converts a duration into clock-rate ticks, the inverse of
// ticksToDuration.
func durationToTicks(d time.Duration, rate int) int64 {
	r := int64(rate)
	return int64(d/time.Second)*r + int64(d%time.Second)*r/int64(time.Second)
}
