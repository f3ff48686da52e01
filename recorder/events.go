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
	// EventSegmentUploaded fires when a segment's upload to its storage
	// target is confirmed; Data adds "target" and "key".
	EventSegmentUploaded = "record.segment_uploaded"
	// EventUploadError fires at the first failed attempt to upload a
	// segment (later attempts are retried with backoff and logged); the
	// local file stays. Data adds "target".
	EventUploadError = "record.upload_error"
)
