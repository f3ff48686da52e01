package config

import "mps/internal/vod"

// This file holds the VOD workflow settings: schemes (what fires a batch of
// operations on a file, where the results go, who is told). Templates are
// vod.Operation values as they are (Config.Templates), so a template in the
// file and an inline operation in a task request read the same.
//
// These types are the only definition of a scheme: the task service takes
// them as they are (tasks imports config, never the reverse), so what the
// file accepts is exactly what runs.

// Scheme is a named VOD workflow: what fires it, the operations it runs on
// each input, where the results go and how the outcome is reported.
type Scheme struct {
	// Name identifies the scheme in task requests and events: 1 to 64
	// letters, digits, _ or -, unique.
	Name string `yaml:"name" json:"name"`
	// Enabled starts the scheme switched on (default); a disabled one
	// refuses work until the API enables it.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Priority orders its tasks: above 0 runs before normal tasks, below
	// after.
	Priority int `yaml:"priority" json:"priority,omitempty"`
	// Trigger says what fires the scheme; with no trigger it runs only
	// when a task request names it.
	Trigger SchemeTrigger `yaml:"trigger" json:"trigger"`
	// Operations run on each input, in order.
	Operations []OpRef `yaml:"operations" json:"operations"`
	// Output places the results under tasks.output_dir.
	Output SchemeOutput `yaml:"output" json:"output"`
	// Notify says which task webhooks are sent.
	Notify SchemeNotify `yaml:"notify" json:"notify"`
	// KeepFor overrides tasks.keep_for for this scheme's tasks; 0 (or
	// absent) takes tasks.keep_for.
	KeepFor Duration `yaml:"keep_for" json:"keep_for,omitempty"`
}

// setDefaults gives a scheme decoded from the file its defaults.
func (s *Scheme) setDefaults() { *s = Scheme{Enabled: true, Notify: SchemeNotify{Mode: NotifyFinish}} }

// SchemeTrigger says what fires a scheme. Both triggers may be set.
type SchemeTrigger struct {
	// Watch fires on each new file in a directory.
	Watch *WatchTrigger `yaml:"watch" json:"watch,omitempty"`
	// Recording fires on each finished recording segment.
	Recording *RecordingTrigger `yaml:"recording" json:"recording,omitempty"`
	// Bucket fires on each new object in a storage target.
	Bucket *BucketTrigger `yaml:"bucket" json:"bucket,omitempty"`
}

// BucketTrigger fires a scheme once per new object (each version of a key)
// under Prefix in a storage target whose name matches Glob. New objects are
// found by listing the target every Interval, and at once from the store's
// notifications where it sends them: to the webhook
// POST /api/v1/schemes/NAME/bucket-events, or on NATSSubject. A restart
// neither misses nor repeats an object.
type BucketTrigger struct {
	// Target names an entry of storage.targets.
	Target string `yaml:"target" json:"target"`
	// Prefix limits the watch to keys starting with it.
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// Glob is a path.Match pattern on the key's last element; empty
	// matches every object.
	Glob string `yaml:"glob" json:"glob,omitempty"`
	// Interval between listings (default 10s); a negative one lists only
	// at start and relies on notifications.
	Interval Duration `yaml:"interval" json:"interval,omitempty"`
	// NATSSubject, when set, is subscribed on the task service's NATS for
	// the store's bucket notifications (MinIO's and SeaweedFS's S3 event
	// format).
	NATSSubject string `yaml:"nats_subject" json:"nats_subject,omitempty"`
}

// WatchTrigger fires a scheme on each new file in Dir whose name matches
// Glob, once it has arrived: closed by its writer (on Linux) or renamed
// into the folder, and unchanged for Settle. Temporary names (.part, .tmp,
// a ~ suffix, dot files) are ignored.
type WatchTrigger struct {
	// Dir is the watched directory; a relative path is under
	// storage.data_dir (see Config.DataPath).
	Dir string `yaml:"dir" json:"dir"`
	// Glob is a path.Match pattern on the file name ("*.mp4"); empty
	// matches every file.
	Glob string `yaml:"glob" json:"glob,omitempty"`
	// Settle is how long an arrived file must stay unchanged before it
	// fires (default 2s); where close events are not available it is the
	// quiet time that counts as the end of a copy.
	Settle Duration `yaml:"settle" json:"settle,omitempty"`
}

// RecordingTrigger fires a scheme on each finished recording segment of
// the stream paths matching Path.
type RecordingTrigger struct {
	// Path is a path.Match pattern on the stream path ("live/*"); empty
	// matches every recorded path.
	Path string `yaml:"path" json:"path,omitempty"`
}

// OpRef is one operation of a scheme: either the name of a template
// (Template) or an operation written inline, with the keys of a template
// (type, name, transcode, snapshot, …) — never both.
type OpRef struct {
	// Template names an entry of the templates section.
	Template      string `yaml:"template" json:"template,omitempty"`
	vod.Operation `yaml:",inline"`
}

// SchemeOutput says where a scheme's results go, always under
// tasks.output_dir: Dir exactly, or Prefix/<task id> (the default prefix
// is the scheme name). Both are relative /-separated paths without "..".
type SchemeOutput struct {
	Dir    string `yaml:"dir" json:"dir,omitempty"`
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// Target, when set, names a storage target the results are uploaded
	// to, under the same relative path; the results then carry presigned
	// URLs. The local copies stay until retention removes them.
	Target string `yaml:"target" json:"target,omitempty"`
}

// SchemeNotify says how a scheme's tasks are reported: Mode applies to the
// webhooks section and to Webhooks, extra endpoints of this scheme only,
// signed with Secret.
type SchemeNotify struct {
	// Mode is finish (default: only the end of a task), change (every state
	// change) or none.
	Mode string `yaml:"mode" json:"mode"`
	// Webhooks are http(s) URLs told about this scheme's tasks only.
	Webhooks []string `yaml:"webhooks" json:"webhooks,omitempty"`
	// Secret signs the requests to Webhooks; empty sends them unsigned.
	Secret string `yaml:"secret" json:"secret,omitempty"`
}

// Notify modes accepted in a scheme's notify.mode.
const (
	NotifyFinish = "finish"
	NotifyChange = "change"
	NotifyNone   = "none"
)
