package transcripts

import (
	"context"
	"time"

	"mps/internal/events"
)

// segmentCompleted is the recorder's event type (recorder.EventSegmentCompleted);
// spelled here so this package does not depend on the recorder.
const segmentCompleted = "record.segment_completed"

// Watch records the stream path and start of every finished recording
// segment announced on sub (a subscription to the server's bus, made by
// the caller before any recording starts) until ctx ends, then closes sub.
// The caller owns the goroutine that runs it.
func (ix *Index) Watch(ctx context.Context, sub *events.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C:
			if ev.Type != segmentCompleted {
				continue
			}
			file, _ := ev.Data["file"].(string)
			st, _ := ev.Data["start"].(string)
			start, err := time.Parse(time.RFC3339Nano, st)
			if file == "" || err != nil {
				continue
			}
			if err := ix.AddSegment(ctx, file, ev.Path, start); err != nil && ctx.Err() == nil {
				ix.log.Error("index segment", "file", file, "error", err)
			}
		}
	}
}
