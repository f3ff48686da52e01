package recorder

// Event types the recorder publishes on the events bus. Data carries "file"
// (relative to the recordings root) and, as they apply, "start" (RFC 3339),
// "duration" (seconds), "size" (bytes) and "error".
const (
	// EventSegmentStarted fires when a new segment file is opened.
	EventSegmentStarted = "record.segment_started"
	// EventSegmentCompleted fires when a segment file is closed and whole;
	// schemes hang "a finished recording" triggers on it.
	EventSegmentCompleted = "record.segment_completed"
	// EventError fires when recording stops or loses data: a disk error,
	// a queue overflow, a stream with nothing recordable.
	EventError = "record.error"
)
