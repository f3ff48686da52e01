package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mps/internal/redact"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"mps/internal/config"
	"mps/internal/vod"
)

// Request is a task submission (the body of POST /api/v1/tasks).
type Request struct {
	// Input is an absolute path under an allowed root, "upload:<id>" from
	// POST /api/v1/uploads, or an http(s) URL.
	Input string `json:"input"`
	// Operations are inline operations or {"template": "name"}; or set
	// Scheme to run a scheme's operations.
	Operations []config.OpRef      `json:"operations,omitempty"`
	Scheme     string              `json:"scheme,omitempty"`
	Output     config.SchemeOutput `json:"output,omitzero"`
	// Priority > 0 runs before normal (0) tasks, < 0 after.
	Priority int           `json:"priority,omitempty"`
	Notify   RequestNotify `json:"notify,omitzero"`
	// SessionID de-duplicates: a repeated submission with the same id
	// returns the task the first one created.
	SessionID string `json:"session_id,omitempty"`
}

// RequestNotify is a task request's notify: the keys of a scheme's notify
// (mode, webhooks, secret), plus url, the single webhook earlier API
// clients send, kept as an alias of one more entry in webhooks.
type RequestNotify struct {
	config.SchemeNotify
	URL string `json:"url,omitempty"`
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
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	t := &Task{ID: s.newID(), SessionID: req.SessionID, Input: strings.TrimSpace(req.Input), Priority: req.Priority,
		Notify: req.Notify.SchemeNotify, Status: StatusWaiting, Created: time.Now().UTC()}
	if req.Notify.URL != "" {
		t.Notify.Webhooks = append(append([]string(nil), t.Notify.Webhooks...), req.Notify.URL)
	}
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
		if output == (config.SchemeOutput{}) {
			output = sc.Output
			if output.Dir == "" && output.Prefix == "" {
				output.Prefix = sc.Name
			}
		}
		if t.Notify.Mode == "" {
			t.Notify.Mode = sc.Notify.Mode
		}
		if len(t.Notify.Webhooks) == 0 {
			t.Notify.Webhooks, t.Notify.Secret = sc.Notify.Webhooks, sc.Notify.Secret
		}
		if req.Priority == 0 {
			t.Priority = sc.Priority
		}
		t.KeepFor = sc.KeepFor
	}
	if t.KeepFor == 0 {
		t.KeepFor = s.cfg.Tasks.KeepFor
	}
	if t.Notify.Mode == "" {
		t.Notify.Mode = config.NotifyFinish
	}
	if err := validNotify(t.Notify); err != nil {
		return nil, false, badRequest("%v", err)
	}
	if len(t.Notify.Webhooks) > 10 {
		return nil, false, badRequest("too many notify webhooks (%d > 10)", len(t.Notify.Webhooks))
	}
	for _, w := range t.Notify.Webhooks {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, false, badRequest("notify webhook %q must be an http(s) URL", w)
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
	if err := checkSubtitleRenditions(t.Operations); err != nil {
		return nil, false, badRequest("%v", err)
	}
	if err := s.checkInput(t.Input); err != nil {
		return nil, false, err
	}
	out, err := outputDir(output, t.ID)
	if err != nil {
		return nil, false, err
	}
	t.Output = out
	if output.Target != "" {
		if _, ok := s.cfg.Storage.Get(output.Target); !ok {
			return nil, false, badRequest("output target %q: no such storage target", output.Target)
		}
		t.Target = output.Target
	}

	if req.SessionID != "" {
		key := "session." + sessionHash(req.SessionID)
		if _, err := s.kv.Create(ctx, key, []byte(t.ID)); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return nil, false, fmt.Errorf("session: %w", s.storeErr(err))
			}
			e, err := s.kv.Get(ctx, key)
			if err != nil {
				return nil, false, fmt.Errorf("session: %w", s.storeErr(err))
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
		return nil, false, fmt.Errorf("store task: %w", s.storeErr(err))
	}
	s.index.add(t.ID)
	// task.created goes out before the task is queued: once queued, a
	// worker may start it at once, and its task.started must follow.
	s.emit(t, "task.created", nil, true)
	if _, err := s.js.Publish(ctx, prioritySubject(t.Priority), []byte(t.ID), jetstream.WithMsgID(t.ID)); err != nil {
		s.unstore(t) //nolint:contextcheck // removing the record must not depend on the failed request's context
		err = fmt.Errorf("queue task: %w", s.storeErr(err))
		// Receivers told of the task hear that it ended.
		t.Status, t.Error = StatusFail, err.Error()
		s.emit(t, "task.failed", nil, true)
		return nil, false, err
	}
	s.log.Info("task queued", "task", t.ID, "scheme", t.Scheme, "input", redact.URL(t.Input), "ops", len(t.Operations))
	return t, true, nil
}

// unstore removes a task record that could not be queued (best effort:
// the store may be failing), so a refused submission leaves no task
// waiting for ever and the client can submit again.
func (s *Service) unstore(t *Task) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.StoreTimeout)
	defer cancel()
	if err := s.kv.Purge(ctx, taskKey(t.ID)); err != nil {
		s.log.Warn("remove unqueued task", "task", t.ID, "error", err)
		return
	}
	s.index.remove(t.ID)
	if t.SessionID != "" {
		_ = s.kv.Purge(ctx, "session."+sessionHash(t.SessionID))
	}
}

func sessionHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

// resolveOp expands a template reference and validates the operation.
func (s *Service) resolveOp(r config.OpRef) (vod.Operation, error) {
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
	if err := s.checkFileRefs(op); err != nil {
		return op, err
	}
	for _, name := range namesOf(op) {
		if name.watermark && s.cfg.Watermarks == nil {
			return op, fmt.Errorf("watermark %q: no watermark templates configured", name.n)
		}
		if name.watermark {
			if _, err := s.cfg.Watermarks(name.n); err != nil {
				return op, fmt.Errorf("watermark %q: %w", name.n, err)
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
func outputDir(o config.SchemeOutput, id string) (string, error) {
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

// Get returns a task as readers see it (see [StatusOrphaned]).
func (s *Service) Get(ctx context.Context, id string) (*Task, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	t, _, err := s.load(ctx, id)
	if err == nil {
		t, err = s.view(ctx, t)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, s.storeErr(err)
	}
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
	// Cursor (the API's "after") continues after the last id of the
	// previous page; Offset skips that many matches instead.
	Cursor string
	Offset int
}

// List returns tasks newest first and the cursor of the next page ("" at
// the end). It walks the node's index of task ids from the cursor and
// loads only as many tasks as the page (and its filters) needs.
func (s *Service) List(ctx context.Context, o ListOptions) ([]Task, string, error) {
	if o.Limit <= 0 {
		o.Limit = 50
	}
	o.Limit = min(o.Limit, 500)
	if s.index == nil {
		return nil, "", fmt.Errorf("tasks: service not started")
	}
	if err := s.index.wait(ctx); err != nil {
		return nil, "", fmt.Errorf("list tasks: %w", err)
	}
	var out []Task
	skipped := 0
	cursor := o.Cursor
	for {
		ids := s.index.before(cursor, o.Limit+1)
		if len(ids) == 0 {
			return out, "", nil
		}
		for _, id := range ids {
			cursor = id
			t, _, err := s.load(ctx, id)
			if errors.Is(err, ErrNotFound) {
				continue // deleted since the index saw it
			}
			if err == nil {
				t, err = s.view(ctx, t)
			}
			if err != nil {
				return nil, "", fmt.Errorf("list tasks: %w", s.storeErr(err))
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
	}
}

// checkFileRefs holds the files an operation reads besides its input (a
// quality reference, an audit transcript given as an absolute path) to
// the same allowed roots as inputs, so a request cannot make the server
// read any file it can see.
func (s *Service) checkFileRefs(op vod.Operation) error {
	if op.Quality != nil && op.Quality.Reference != "" {
		if _, err := s.localPath(op.Quality.Reference); err != nil {
			return fmt.Errorf("quality.reference: %w", err)
		}
	}
	if op.Audit != nil && filepath.IsAbs(op.Audit.Transcript) {
		if _, err := s.localPath(op.Audit.Transcript); err != nil {
			return fmt.Errorf("audit.transcript: %w", err)
		}
	}
	return nil
}
