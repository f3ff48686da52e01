package vod

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mps/internal/aispec"
	"mps/internal/watermark"
)

// Operation types. The Type field of an [Operation] holds one of these and
// selects which of its per-type fields is read.
const (
	TypeTranscode = "transcode"
	TypeAdaptive  = "adaptive"
	TypeSnapshot  = "snapshot"
	TypeSample    = "sample"
	TypeSprite    = "sprite"
	TypeAnimated  = "animated"
	TypeWatermark = "watermark"
	TypeEnhance   = "enhance"
	TypeRemux     = "remux"
	TypeProbe     = "probe"

	// Media-AI operations, run through [Env.Extensions].
	TypeHighlights = "highlights"
	TypeSummary    = "summary"
	TypeROI        = "roi"
	TypeErase      = "erase"
	// TypeSubtitles is speech to subtitles, run by the ai package.
	TypeSubtitles = "subtitles"
	// TypeAudit and TypeQuality are run by ai/ through Env.Extensions.
	TypeAudit   = "audit"
	TypeQuality = "quality"
)

// Operation is one thing to do to a file. It is a tagged union: Type names
// the operation and only the matching field (Transcode for "transcode", and
// so on) is read, so a template in YAML and an inline operation in a JSON
// task request look the same:
//
//	{"type": "snapshot", "snapshot": {"times": ["1s", "50%"]}}
type Operation struct {
	// Type is one of the Type* constants.
	Type string `json:"type" yaml:"type"`
	// Name labels the operation's outputs (a template name, say); empty
	// uses Type.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`

	Transcode *TranscodeSpec `json:"transcode,omitempty" yaml:"transcode,omitempty"`
	Adaptive  *AdaptiveSpec  `json:"adaptive,omitempty" yaml:"adaptive,omitempty"`
	Snapshot  *SnapshotSpec  `json:"snapshot,omitempty" yaml:"snapshot,omitempty"`
	Sample    *SampleSpec    `json:"sample,omitempty" yaml:"sample,omitempty"`
	Sprite    *SpriteSpec    `json:"sprite,omitempty" yaml:"sprite,omitempty"`
	Animated  *AnimatedSpec  `json:"animated,omitempty" yaml:"animated,omitempty"`
	Watermark *WatermarkSpec `json:"watermark,omitempty" yaml:"watermark,omitempty"`
	Enhance   *EnhanceSpec   `json:"enhance,omitempty" yaml:"enhance,omitempty"`
	Remux     *RemuxSpec     `json:"remux,omitempty" yaml:"remux,omitempty"`
	// Subtitles is read by the "subtitles" extension; nil uses defaults.
	Subtitles *aispec.Subtitles `json:"subtitles,omitempty" yaml:"subtitles,omitempty"`

	Highlights *aispec.Highlights `json:"highlights,omitempty" yaml:"highlights,omitempty"`
	Summary    *aispec.Summary    `json:"summary,omitempty" yaml:"summary,omitempty"`
	ROI        *aispec.ROI        `json:"roi,omitempty" yaml:"roi,omitempty"`
	Erase      *aispec.Erase      `json:"erase,omitempty" yaml:"erase,omitempty"`

	Audit   *aispec.AuditSpec   `json:"audit,omitempty" yaml:"audit,omitempty"`
	Quality *aispec.QualitySpec `json:"quality,omitempty" yaml:"quality,omitempty"`

	env *Env
}

// Env resolves the names an operation refers to (watermark templates,
// enhancement templates). It is bound at run time with [Operation.Bind] so
// an operation stays a plain value that travels through a queue as JSON.
type Env struct {
	// Watermark returns the watermark template for a name.
	Watermark func(name string) (watermark.Template, error)
	// Enhancement returns the enhancement settings for a template name.
	Enhancement func(name string) (EnhanceSpec, error)
	// Extensions run the operation types this package only describes (the
	// media-AI operations, implemented in ai/ above the foundation), keyed
	// by type. The composition root fills it; a type without an entry fails
	// at run time with a clear error, after validating like any other.
	Extensions map[string]Extension
}

// Extension runs one operation type that is implemented outside this
// package. It receives the bound operation, so it can read its own spec
// field and resolve names through the same Env.
type Extension interface {
	Run(ctx context.Context, op Operation, input, outDir string, progress func(pct float64)) (Result, error)
}

// Bind returns a copy of op that resolves names through env.
func (op Operation) Bind(env *Env) Operation {
	op.env = env
	return op
}

// Label is the name used for the operation's outputs.
func (op Operation) Label() string {
	if op.Name != "" {
		return op.Name
	}
	return op.Type
}

// Validate checks the operation without touching any file, so that a bad
// request is refused before it is queued.
func (op Operation) Validate() error {
	switch op.Type {
	case TypeTranscode:
		if op.Transcode == nil {
			return fmt.Errorf("transcode: missing \"transcode\" settings")
		}
		return op.Transcode.validate()
	case TypeAdaptive:
		if op.Adaptive == nil {
			return fmt.Errorf("adaptive: missing \"adaptive\" settings")
		}
		return op.Adaptive.validate()
	case TypeSnapshot:
		if op.Snapshot == nil || len(op.Snapshot.Times) == 0 {
			return fmt.Errorf("snapshot: no times")
		}
		return op.Snapshot.validate()
	case TypeSample:
		if op.Sample == nil || op.Sample.Every == "" {
			return fmt.Errorf("sample: missing \"every\"")
		}
		return op.Sample.validate()
	case TypeSprite:
		if op.Sprite == nil {
			return nil
		}
		return op.Sprite.validate()
	case TypeAnimated:
		if op.Animated == nil {
			return nil
		}
		return op.Animated.validate()
	case TypeWatermark:
		if op.Watermark == nil || len(op.Watermark.Names) == 0 {
			return fmt.Errorf("watermark: no watermark names")
		}
		return op.Watermark.validate()
	case TypeEnhance:
		if op.Enhance == nil {
			return fmt.Errorf("enhance: missing \"enhance\" settings")
		}
		return op.Enhance.validate()
	case TypeRemux:
		if op.Remux == nil {
			return fmt.Errorf("remux: missing \"remux\" settings")
		}
		return op.Remux.validate()
	case TypeProbe:
		return nil
	case TypeHighlights:
		if op.Highlights == nil {
			return nil
		}
		return wrapSpec(op.Type, op.Highlights.Validate())
	case TypeSummary:
		if op.Summary == nil {
			return fmt.Errorf("summary: missing \"summary\" settings")
		}
		return wrapSpec(op.Type, op.Summary.Validate())
	case TypeROI:
		if op.ROI == nil {
			return nil
		}
		return wrapSpec(op.Type, op.ROI.Validate())
	case TypeErase:
		if op.Erase == nil {
			return fmt.Errorf("erase: missing \"erase\" settings")
		}
		return wrapSpec(op.Type, op.Erase.Validate())
	case TypeSubtitles:
		if err := op.Subtitles.Validate(); err != nil {
			return fmt.Errorf("subtitles: %w", err)
		}
		return nil
	case TypeAudit:
		if op.Audit == nil {
			return nil
		}
		return op.Audit.Validate()
	case TypeQuality:
		if op.Quality == nil {
			return nil
		}
		return op.Quality.Validate()
	case "":
		return fmt.Errorf("operation without a type")
	default:
		return fmt.Errorf("unknown operation type %q", op.Type)
	}
}

// wrapSpec names the operation type in a spec's validation error.
func wrapSpec(typ string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	return nil
}

// Run performs the operation on input, writing into outDir (created if
// missing), and reports progress in percent. Cancelling ctx kills ffmpeg.
func (op Operation) Run(ctx context.Context, input, outDir string, progress func(pct float64)) (Result, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	if err := op.Validate(); err != nil {
		return Result{}, err
	}
	// A failed run leaves nothing behind: no 0-byte or half-written file a
	// user or a later step could take for a result.
	before, existed := dirNames(outDir)
	res, err := op.run(ctx, input, outDir, progress)
	if err != nil {
		removeNew(outDir, before, existed)
	}
	return res, err
}

// run is Run after validation.
func (op Operation) run(ctx context.Context, input, outDir string, progress func(pct float64)) (Result, error) {
	var info *MediaInfo
	if builtin(op.Type) {
		var err error
		if info, err = Probe(ctx, input); err != nil {
			return Result{}, err
		}
	}
	if err := mkdirAll(outDir); err != nil {
		return Result{}, err
	}
	if !builtin(op.Type) {
		return op.runExtension(ctx, input, outDir, progress)
	}
	j := &job{ctx: ctx, op: op, input: input, outDir: outDir, in: info, progress: progress}
	res, err := j.dispatch()
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", op.Type, err)
	}
	res.Operation = op.Type
	progress(100)
	return res, nil
}

// dirNames lists the entries of dir and whether it exists.
func dirNames(dir string) (map[string]bool, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names, true
}

// removeNew deletes what a failed run added to dir: the entries not in
// before, or dir itself when the run created it.
func removeNew(dir string, before map[string]bool, existed bool) {
	if !existed {
		_ = os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !before[e.Name()] {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// job is one run of an operation: its input, where it writes and what the
// input holds.
type job struct {
	ctx      context.Context
	op       Operation
	input    string
	outDir   string
	in       *MediaInfo
	progress func(float64)
	// exec runs ffmpeg; nil is runFFmpeg. The golden tests set it to
	// capture the arguments an operation builds.
	exec func(ctx context.Context, args []string, dur float64, progress func(float64)) error
}

// ffmpeg runs ffmpeg with args for this job.
func (j *job) ffmpeg(args []string, dur float64, progress func(float64)) error {
	if j.exec != nil {
		return j.exec(j.ctx, args, dur, progress)
	}
	return runFFmpeg(j.ctx, args, dur, progress)
}

// dispatch runs the built-in operation of the job's type.
func (j *job) dispatch() (Result, error) {
	switch j.op.Type {
	case TypeTranscode:
		return j.transcode()
	case TypeAdaptive:
		return j.adaptive()
	case TypeSnapshot:
		return j.snapshot()
	case TypeSample:
		return j.sample()
	case TypeSprite:
		return j.sprite()
	case TypeAnimated:
		return j.animated()
	case TypeWatermark:
		return j.watermark()
	case TypeEnhance:
		return j.enhance()
	case TypeRemux:
		return j.remux()
	case TypeProbe:
		return j.probe()
	}
	return Result{}, fmt.Errorf("operation %q is not built in", j.op.Type)
}

// base is the file-name stem of the operation's outputs.
func (j *job) base() string {
	return sanitizeName(j.op.Label())
}

// sanitizeName keeps a label usable as a file name.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "output"
	}
	return out
}

// builtin reports whether this package runs operations of type t itself.
func builtin(t string) bool {
	switch t {
	case TypeTranscode, TypeAdaptive, TypeSnapshot, TypeSample, TypeSprite,
		TypeAnimated, TypeWatermark, TypeEnhance, TypeRemux, TypeProbe:
		return true
	}
	return false
}

// runExtension hands an operation this package only describes to the
// extension the environment registers for its type.
func (op Operation) runExtension(ctx context.Context, input, outDir string, progress func(float64)) (Result, error) {
	var ext Extension
	if op.env != nil {
		ext = op.env.Extensions[op.Type]
	}
	if ext == nil {
		return Result{}, fmt.Errorf("%s: operation not available on this node", op.Type)
	}
	res, err := ext.Run(ctx, op, input, outDir, progress)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", op.Type, err)
	}
	res.Operation = op.Type
	progress(100)
	return res, nil
}
