package recorder

import (
	"io"
	"strconv"
	"time"

	"mps/internal/storage"
	"mps/internal/stream"
)

// Container formats a Rule can ask for.
const (
	// FormatFMP4 writes fragmented MP4 (.mp4): plays in browsers and in
	// HLS, and a crash costs at most one part.
	FormatFMP4 = "fmp4"
	// FormatMPEGTS writes MPEG transport stream (.ts).
	FormatMPEGTS = "mpegts"
)

// Defaults applied to the zero fields of a Rule.
const (
	DefaultSegmentDuration = time.Hour
	DefaultPartDuration    = time.Second
	DefaultPathTemplate    = "%path/%Y-%m-%d_%H-%M-%S-%f"
	DefaultQueueBytes      = 256 << 20
)

// Rule is a path's recording settings. The server maps the YAML config of
// the path onto it; the recorder asks Config.Rule again whenever it needs
// it, so a config reload applies to the next decision without a restart.
type Rule struct {
	// Enabled records the path whenever it is published (unless a runtime
	// Stop override says otherwise).
	Enabled bool
	// Format is FormatFMP4 (default) or FormatMPEGTS.
	Format string
	// SegmentDuration is how long a file grows before it is cut, on the
	// first keyframe after it. Default 1 h.
	SegmentDuration time.Duration
	// PartDuration is how much media is buffered in memory before it is
	// written to disk: the most a crash may lose. Default 1 s.
	PartDuration time.Duration
	// DeleteAfter removes segments that ended longer ago than this (0: keep).
	DeleteAfter time.Duration
	// MaxBytes caps the disk space of the path's segments; the oldest go
	// first (0: no cap).
	MaxBytes int64
	// Tracks selects the tracks to record, each entry being "video",
	// "audio", a codec name ("h264", "aac") or a track index ("0"). Empty
	// records every track the container can hold.
	Tracks []string
	// QueueBytes bounds the payload waiting for the disk. Default 256 MiB.
	QueueBytes int64
	// Target names the storage target (Config.Targets) finished segments
	// are uploaded to; empty keeps them on the local disk only. Read when
	// a segment is opened.
	Target string
	// KeepLocal keeps the local file once its upload is confirmed; false
	// deletes it and the segment is read from the target from then on.
	KeepLocal bool
}

func (r Rule) withDefaults() Rule {
	if r.Format == "" {
		r.Format = FormatFMP4
	}
	if r.SegmentDuration <= 0 {
		r.SegmentDuration = DefaultSegmentDuration
	}
	if r.PartDuration <= 0 {
		r.PartDuration = DefaultPartDuration
	}
	if r.QueueBytes <= 0 {
		r.QueueBytes = DefaultQueueBytes
	}
	return r
}

// wantsTrack reports whether the rule's track filter selects t.
func (r Rule) wantsTrack(t *stream.Track) bool {
	if len(r.Tracks) == 0 {
		return true
	}
	for _, sel := range r.Tracks {
		switch {
		case sel == "video" && t.IsVideo(), sel == "audio" && !t.IsVideo():
			return true
		case sel == string(t.Codec):
			return true
		case sel == strconv.Itoa(t.ID):
			return true
		}
	}
	return false
}

// Config configures a Manager.
type Config struct {
	// Dir is the recordings root (storage.data_dir/recordings). Every file
	// the recorder writes, lists or serves lies under it.
	Dir string
	// PathTemplate names segment files relative to Dir, without extension:
	// %path is the stream path, %Y %m %d %H %M %S the start time and %f
	// its microseconds. %path must appear only in the directory part and
	// the time fields only in the file name. Default DefaultPathTemplate.
	PathTemplate string
	// Rule returns the recording rule of a path. Nil records nothing
	// unless started through the API.
	Rule func(path string) Rule
	// Location is the time zone of file names (default time.Local).
	Location *time.Location
	// FFmpeg is the ffmpeg binary used to stitch playback ranges
	// (default "ffmpeg" from PATH).
	FFmpeg string
	// RetryMin and RetryMax bound the backoff between attempts to resume
	// after a disk error (defaults 1 s and 30 s).
	RetryMin, RetryMax time.Duration
	// JanitorInterval is how often retention runs (default 1 min).
	JanitorInterval time.Duration
	// WrapWriter, if set, wraps every segment file's writer. Tests use it
	// to throttle the disk; it could also count or encrypt.
	WrapWriter func(file string, w io.Writer) io.Writer
	// MaxPlaybacks bounds concurrent ffmpeg stitching processes (default 2).
	MaxPlaybacks int
	// Targets returns the storage target a Rule names (nil: none are
	// configured, and a rule's Target fails its uploads with an error).
	Targets func(name string) (storage.Target, bool)
	// UploadRetryMin and UploadRetryMax bound the backoff between attempts
	// to upload a segment (defaults 2 s and 5 min); UploadTimeout bounds
	// one attempt (default 30 min).
	UploadRetryMin, UploadRetryMax, UploadTimeout time.Duration

	// afterListing, in tests, runs when the index rebuild has listed the
	// files and before it reads their durations.
	afterListing func()
}

func (c Config) withDefaults() Config {
	if c.PathTemplate == "" {
		c.PathTemplate = DefaultPathTemplate
	}
	if c.Rule == nil {
		c.Rule = func(string) Rule { return Rule{} }
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.RetryMin <= 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.JanitorInterval <= 0 {
		c.JanitorInterval = time.Minute
	}
	if c.MaxPlaybacks <= 0 {
		c.MaxPlaybacks = 2
	}
	if c.UploadRetryMin <= 0 {
		c.UploadRetryMin = 2 * time.Second
	}
	if c.UploadRetryMax < c.UploadRetryMin {
		c.UploadRetryMax = max(c.UploadRetryMin, 5*time.Minute)
	}
	if c.UploadTimeout <= 0 {
		c.UploadTimeout = 30 * time.Minute
	}
	return c
}
