package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mps/internal/redact"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"mps/internal/vod"
)

// Request is a task submission (the body of POST /api/v1/tasks).
type Request struct {
	// Input is an absolute path under an allowed root, "upload:<id>" from
	// POST /api/v1/uploads, or an http(s) URL.
	Input string `json:"input"`
	// Operations are inline operations or {"template": "name"}; or set
	// Scheme to run a scheme's operations.
	Operations []OpRef `json:"operations,omitempty"`
	Scheme     string  `json:"scheme,omitempty"`
	Output     Output  `json:"output,omitzero"`
	// Priority > 0 runs before normal (0) tasks, < 0 after.
	Priority int    `json:"priority,omitempty"`
	Notify   Notify `json:"notify,omitzero"`
	// SessionID de-duplicates: a repeated submission with the same id
	// returns the task the first one created.
	SessionID string `json:"session_id,omitempty"`
}

// BadRequestError is a submission refused for its content (HTTP 400).
type BadRequestError struct{ Msg string }

func (e *BadRequestError) Error() string { return e.Msg }

func badRequest(format string, a ...any) error {
	return &BadRequestError{Msg: fmt.Sprintf(format, a...)}
}

// ErrSchemeDisabled refuses work for a scheme switched off (HTTP 409).
var ErrSchemeDisabled = errors.New("scheme is disabled")

// Submit validates and queues a task. created is false when SessionID
// matched an earlier submission, whose task is returned.
func (s *Service) Submit(ctx context.Context, req Request) (task *Task, created bool, err error) {
	if s.kv == nil {
		return nil, false, fmt.Errorf("tasks: service not started")
	}
	t := &Task{ID: s.newID(), SessionID: req.SessionID, Input: strings.TrimSpace(req.Input), Priority: req.Priority,
		Notify: req.Notify, Status: StatusWaiting, Created: time.Now().UTC()}
	if len(req.SessionID) > 256 {
		return nil, false, badRequest("session_id longer than 256 bytes")
	}
	refs := req.Operations
	output := req.Output
	if req.Scheme != "" {
		sc, ok := s.schemes[req.Scheme]
		if !ok {
			return nil, false, badRequest("unknown scheme %q", req.Scheme)
		}
		if !s.schemeEnabled(ctx, sc) {
			return nil, false, fmt.Errorf("scheme %s: %w", sc.Name, ErrSchemeDisabled)
		}
		t.Scheme = sc.Name
		if len(refs) == 0 {
			refs = sc.Operations
		}
		if output == (Output{}) {
			output = sc.Output
			if output.Dir == "" && output.Prefix == "" {
				output.Prefix = sc.Name
			}
		}
		if t.Notify.Mode == "" {
			t.Notify.Mode = sc.Notify.Mode
		}
		if t.Notify.URL == "" {
			t.Notify.URL, t.Notify.Secret = sc.Notify.URL, sc.Notify.Secret
		}
		if req.Priority == 0 {
			t.Priority = sc.Priority
		}
	}
	if t.Notify.Mode == "" {
		t.Notify.Mode = NotifyFinish
	}
	if err := validNotify(t.Notify); err != nil {
		return nil, false, badRequest("%v", err)
	}
	if t.Notify.URL != "" {
		if u, err := url.Parse(t.Notify.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, false, badRequest("notify url must be http(s)")
		}
	}
	if len(refs) == 0 {
		return nil, false, badRequest("no operations (give operations or a scheme)")
	}
	if len(refs) > 50 {
		return nil, false, badRequest("too many operations (%d > 50)", len(refs))
	}
	for i, r := range refs {
		op, err := s.resolveOp(r)
		if err != nil {
			return nil, false, badRequest("operation %d: %v", i+1, err)
		}
		t.Operations = append(t.Operations, op)
		t.Ops = append(t.Ops, OpState{Type: op.Type, Name: op.Name, State: StatusWaiting, Dir: opDir(i, op)})
	}
	if err := s.checkInput(t.Input); err != nil {
		return nil, false, err
	}
	out, err := outputDir(output, t.ID)
	if err != nil {
		return nil, false, err
	}
	t.Output = out

	if req.SessionID != "" {
		key := "session." + sessionHash(req.SessionID)
		if _, err := s.kv.Create(ctx, key, []byte(t.ID)); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return nil, false, fmt.Errorf("session: %w", err)
			}
			e, err := s.kv.Get(ctx, key)
			if err != nil {
				return nil, false, fmt.Errorf("session: %w", err)
			}
			// The first submitter may still be writing the task.
			for range 50 {
				prev, _, err := s.load(ctx, string(e.Value()))
				if err == nil {
					return prev, false, nil
				}
				time.Sleep(20 * time.Millisecond)
			}
			return nil, false, fmt.Errorf("session %q: earlier task %s not found", req.SessionID, e.Value())
		}
	}
	if _, err := s.save(ctx, t, 0); err != nil {
		return nil, false, fmt.Errorf("store task: %w", err)
	}
	if _, err := s.js.Publish(ctx, prioritySubject(t.Priority), []byte(t.ID), jetstream.WithMsgID(t.ID)); err != nil {
		return nil, false, fmt.Errorf("queue task: %w", err)
	}
	s.log.Info("task queued", "task", t.ID, "scheme", t.Scheme, "input", redact.URL(t.Input), "ops", len(t.Operations))
	s.emit(t, "task.created", nil, true)
	return t, true, nil
}

func sessionHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

// resolveOp expands a template reference and validates the operation.
func (s *Service) resolveOp(r OpRef) (vod.Operation, error) {
	op := r.Operation
	if r.Template != "" {
		if op.Type != "" {
			return op, fmt.Errorf("give either a template or an inline operation, not both")
		}
		tpl, ok := s.cfg.Templates[r.Template]
		if !ok {
			return op, fmt.Errorf("unknown template %q", r.Template)
		}
		op = tpl
		if op.Name == "" {
			op.Name = r.Template
		}
	}
	if err := op.Validate(); err != nil {
		return op, err
	}
	for _, name := range namesOf(op) {
		if name.watermark && s.cfg.Watermarks == nil {
			return op, fmt.Errorf("watermark %q: no watermark templates configured", name.n)
		}
		if name.watermark {
			if _, err := s.cfg.Watermarks(name.n); err != nil {
				return op, fmt.Errorf("watermark %q: %v", name.n, err)
			}
		} else if _, err := s.enhancement(name.n); err != nil {
			return op, err
		}
	}
	return op, nil
}

type nameRef struct {
	n         string
	watermark bool
}

// namesOf lists the template names an operation refers to.
func namesOf(op vod.Operation) []nameRef {
	var out []nameRef
	if op.Transcode != nil {
		for _, n := range op.Transcode.Watermarks {
			out = append(out, nameRef{n, true})
		}
		for _, n := range op.Transcode.Enhancements {
			out = append(out, nameRef{n, false})
		}
	}
	if op.Watermark != nil {
		for _, n := range op.Watermark.Names {
			out = append(out, nameRef{n, true})
		}
	}
	return out
}

// outputDir validates the requested output and returns it relative to
// DataDir/outputs, in slash form.
func outputDir(o Output, id string) (string, error) {
	check := func(what, p string) (string, error) {
		if p == "" {
			return "", nil
		}
		if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) || (len(p) > 1 && p[1] == ':') {
			return "", badRequest("output %s %q must be a relative path", what, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." {
				return "", badRequest("output %s %q must not contain ..", what, p)
			}
		}
		c := path.Clean(p)
		if c == "." {
			return "", nil
		}
		if len(c) > 200 {
			return "", badRequest("output %s too long", what)
		}
		return c, nil
	}
	if o.Dir != "" && o.Prefix != "" {
		return "", badRequest("give output dir or prefix, not both")
	}
	dir, err := check("dir", o.Dir)
	if err != nil {
		return "", err
	}
	if dir != "" {
		return dir, nil
	}
	prefix, err := check("prefix", o.Prefix)
	if err != nil {
		return "", err
	}
	return path.Join(prefix, id), nil
}

// Get returns a task.
func (s *Service) Get(ctx context.Context, id string) (*Task, error) {
	t, _, err := s.load(ctx, id)
	return t, err
}

// ErrFinished refuses to cancel a task that has ended (HTTP 409).
var ErrFinished = errors.New("task already ended")

// Cancel marks a task CANCELED and stops it wherever it runs (the node
// running it kills its ffmpeg).
func (s *Service) Cancel(ctx context.Context, id string) (*Task, error) {
	ended := false
	t, _, err := s.mutate(ctx, id, func(t *Task) bool {
		if t.Status.Terminal() {
			ended = true
			return false
		}
		t.Status, t.Finished = StatusCanceled, time.Now().UTC()
		return true
	})
	if err != nil {
		return nil, err
	}
	if ended {
		return t, ErrFinished
	}
	_ = s.nc.Publish(cancelPrefix+id, nil)
	s.log.Info("task canceled", "task", id)
	return t, nil
}

// ListOptions filter and page a task listing.
type ListOptions struct {
	Status Status
	Scheme string
	// Limit caps the page (default 50, max 500).
	Limit int
	// Cursor continues after the last id of the previous page; Offset
	// skips that many matches instead.
	Cursor string
	Offset int
}

// List returns tasks newest first and the cursor of the next page ("" at
// the end).
func (s *Service) List(ctx context.Context, o ListOptions) ([]Task, string, error) {
	if o.Limit <= 0 {
		o.Limit = 50
	}
	o.Limit = min(o.Limit, 500)
	lister, err := s.kv.ListKeysFiltered(ctx, "task.*")
	if err != nil {
		return nil, "", fmt.Errorf("list tasks: %w", err)
	}
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, strings.TrimPrefix(k, "task."))
	}
	_ = lister.Stop()
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	var out []Task
	skipped := 0
	for _, id := range ids {
		if o.Cursor != "" && id >= o.Cursor {
			continue
		}
		t, _, err := s.load(ctx, id)
		if err != nil {
			continue
		}
		if (o.Status != "" && t.Status != o.Status) || (o.Scheme != "" && t.Scheme != o.Scheme) {
			continue
		}
		if skipped < o.Offset {
			skipped++
			continue
		}
		if len(out) == o.Limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, t.public())
	}
	return out, "", nil
}

// marshal is json.Marshal for API bodies.
func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
