package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/vod"
)

var (
	errCanceled = errors.New("task canceled")
	errShutdown = errors.New("node shutting down")
)

// workLoop takes tasks from the queue, high priority first, while a slot is
// free; a core-NATS subscription on the task subjects wakes it early.
func (s *Service) workLoop() {
	defer s.wg.Done()
	slots := make(chan struct{}, s.cfg.Tasks.Concurrency)
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		msg := s.fetch()
		idle := time.Second
		for msg == nil {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
				// The wake-up (core NATS) can overtake the stream's copy
				// of the message: look at once, then again soon after,
				// backing off, so a new task starts within milliseconds.
				idle = 5 * time.Millisecond
			case <-time.After(idle):
				idle = min(2*idle, time.Second)
			}
			msg = s.fetch()
		}
		running.Add(1)
		go func() {
			defer running.Done()
			defer func() { <-slots }()
			s.handle(msg)
		}()
		s.poke() // look for more while slots remain
	}
}

// fetch returns the next message by priority, or nil.
func (s *Service) fetch() jetstream.Msg {
	for _, c := range s.consumers {
		batch, err := c.FetchNoWait(1)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("fetch tasks", "error", err)
			}
			continue
		}
		for m := range batch.Messages() {
			return m
		}
	}
	return nil
}

// handle settles one delivery: runs the task unless its state says it has
// already ended, notifies the end once, and acks.
func (s *Service) handle(msg jetstream.Msg) {
	id := string(msg.Data())
	ctx := s.ctx
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	go func() {
		t := time.NewTicker(s.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	t, _, err := s.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		s.log.Warn("queued task has no state; dropping", "task", id)
		_ = msg.Term()
		return
	}
	if err != nil {
		s.log.Warn("load task", "task", id, "error", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if !t.Status.Terminal() {
		t = s.run(id)
		if t == nil {
			// Shutting down mid-task: hand it back for another node.
			_ = msg.Nak()
			return
		}
	}
	if !t.Notified {
		s.notifyEnd(t)
	}
	if err := msg.Ack(); err != nil && ctx.Err() == nil {
		s.log.Warn("ack task", "task", id, "error", err)
	}
}

// run claims a task, runs its operations and records the end state. It
// returns nil when the node is shutting down (the task stays PROCESSING
// and is redelivered).
func (s *Service) run(id string) *Task {
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()

	stopLease := s.holdLease(id)
	defer stopLease()
	gaveUp := false
	t, rev, err := s.mutate(s.ctx, id, func(t *Task) bool {
		if t.Status.Terminal() {
			return false
		}
		t.Attempts++
		t.Node, t.Started, t.Progress, t.Error = s.node, time.Now().UTC(), 0, ""
		t.Status = StatusProcessing
		for i := range t.Ops {
			t.Ops[i] = OpState{Type: t.Ops[i].Type, Name: t.Ops[i].Name, State: StatusWaiting, Dir: t.Ops[i].Dir}
		}
		if t.Attempts > s.cfg.MaxAttempts {
			gaveUp = true
			t.Status, t.Finished = StatusFail, time.Now().UTC()
			t.Error = fmt.Sprintf("gave up after %d attempts (the node running it stopped each time)", t.Attempts-1)
		}
		return true
	})
	if err != nil {
		if s.ctx.Err() != nil {
			return nil
		}
		s.log.Error("claim task", "task", id, "error", err)
		return &Task{ID: id, Status: StatusFail, Notified: true}
	}
	if t.Status.Terminal() {
		return t
	}
	if gaveUp {
		return t
	}
	if s.runHook != nil {
		s.runHook(id)
	}
	s.log.Info("task started", "task", id, "attempt", t.Attempts)
	s.emit(t, "task.started", nil, true)

	tr := &taskRun{s: s, t: t, rev: rev, ctx: ctx, cancel: cancel}
	tr.execute()
	if t.Target != "" && ctx.Err() == nil {
		tr.upload()
	}
	if s.ctx.Err() != nil && !errors.Is(context.Cause(ctx), errCanceled) {
		return nil
	}
	return tr.finish()
}

// taskRun is one attempt at a task on this node. Its state writes are
// CAS updates; a conflict means someone else wrote (a cancel), which is
// re-read and honoured.
type taskRun struct {
	s      *Service
	t      *Task
	rev    uint64
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	lastWrite time.Time
}

// write saves the task, keeping a concurrent CANCELED.
func (tr *taskRun) write() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for range 10 {
		rev, err := tr.s.save(tr.s.ctx, tr.t, tr.rev)
		if err == nil {
			tr.rev = rev
			tr.lastWrite = time.Now()
			return
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
			tr.s.log.Warn("save task", "task", tr.t.ID, "error", err)
			return
		}
		cur, rev, err := tr.s.load(tr.s.ctx, tr.t.ID)
		if err != nil {
			return
		}
		tr.rev = rev
		if cur.Status == StatusCanceled {
			tr.t.Status, tr.t.Finished = StatusCanceled, cur.Finished
			tr.cancel(errCanceled)
		}
	}
}

// execute resolves the input and runs each operation in order.
func (tr *taskRun) execute() {
	t, s := tr.t, tr.s
	input, cleanup, err := s.resolveInput(tr.ctx, t)
	if err != nil {
		t.Error = err.Error()
		return
	}
	defer cleanup()
	outRoot := filepath.Join(s.cfg.Tasks.OutputDir, filepath.FromSlash(t.Output))
	n := len(t.Operations)
	for i, op := range t.Operations {
		if tr.ctx.Err() != nil {
			break
		}
		st := &t.Ops[i]
		dir := filepath.Join(outRoot, filepath.FromSlash(st.Dir))
		// A re-run starts from scratch: drop what a dead attempt left.
		if err := os.RemoveAll(dir); err != nil {
			st.State, st.Error = StatusFail, err.Error()
			continue
		}
		tr.mu.Lock()
		st.State = StatusProcessing
		tr.mu.Unlock()
		res, err := op.Bind(s.env).Run(tr.ctx, input, dir, func(pct float64) {
			tr.mu.Lock()
			st.Progress = pct
			t.Progress = (float64(i) + pct/100) / float64(n) * 100
			due := time.Since(tr.lastWrite) >= time.Second
			tr.mu.Unlock()
			if due {
				tr.write()
				s.emit(t, "task.progress", map[string]any{"progress": t.Progress}, false)
			}
		})
		tr.mu.Lock()
		if err != nil {
			st.State, st.Error = StatusFail, err.Error()
			if tr.ctx.Err() != nil {
				st.State, st.Error = StatusCanceled, context.Cause(tr.ctx).Error()
			}
		} else {
			st.State, st.Progress = StatusSuccess, 100
			st.Result = &res
		}
		t.Progress = float64(i+1) / float64(n) * 100
		tr.mu.Unlock()
		if err == nil {
			tr.joinSubtitles(outRoot, i)
		}
		tr.write()
		s.emit(t, "task.progress", map[string]any{"op": i, "type": op.Type, "state": st.State, "error": st.Error}, true)
		if labels, blocked := auditBlocked(st); blocked {
			tr.skipAfter(i)
			s.emit(t, "task.audit_blocked", map[string]any{"op": i, "labels": labels}, true)
			break
		}
	}
}

// joinSubtitles adds the subtitle renditions operation i completes to the
// task's adaptive packages (subtitle_rendition.go), charging a failure to
// the subtitles operation, then turns the results' file paths into URLs.
func (tr *taskRun) joinSubtitles(outRoot string, i int) {
	t := tr.t
	ops := make([]opOutcome, len(t.Operations))
	for k, op := range t.Operations {
		ops[k] = opOutcome{op: op, dir: filepath.Join(outRoot, filepath.FromSlash(t.Ops[k].Dir))}
		if t.Ops[k].State == StatusSuccess {
			ops[k].res = t.Ops[k].Result
		}
	}
	k, err := joinSubtitles(tr.ctx, ops, i)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if err != nil {
		// Its own files stay listed: only the rendition failed.
		t.Ops[k].State, t.Ops[k].Error = StatusFail, err.Error()
	}
	for k := range t.Ops {
		if r := t.Ops[k].Result; r != nil {
			urls(r, "/outputs/"+t.Output+"/"+t.Ops[k].Dir)
		}
	}
}

// auditBlocked reports whether an operation was a content audit whose
// verdict is "block", with the labels that made it: the task's later
// operations must not publish the file.
func auditBlocked(st *OpState) (labels any, blocked bool) {
	if st.Type != vod.TypeAudit || st.State != StatusSuccess || st.Result == nil || len(st.Result.Report) == 0 {
		return nil, false
	}
	var rep struct {
		Suggestion string `json:"suggestion"`
		Labels     any    `json:"labels"`
	}
	if json.Unmarshal(st.Result.Report, &rep) != nil || rep.Suggestion != "block" {
		return nil, false
	}
	return rep.Labels, true
}

// skipAfter marks every operation after i as skipped.
func (tr *taskRun) skipAfter(i int) {
	tr.mu.Lock()
	for j := i + 1; j < len(tr.t.Ops); j++ {
		tr.t.Ops[j].State = StatusSkipped
	}
	tr.t.Progress = 100
	tr.mu.Unlock()
	tr.write()
}

// urls turns result file paths into URL paths under base.
func urls(r *vod.Result, base string) {
	for i := range r.Files {
		r.Files[i].Path = base + "/" + r.Files[i].Name
	}
}

// finish records the end state.
func (tr *taskRun) finish() *Task {
	t := tr.t
	tr.mu.Lock()
	failed := 0
	for i := range t.Ops {
		switch t.Ops[i].State {
		case StatusSuccess, StatusSkipped:
		case StatusWaiting, StatusProcessing:
			t.Ops[i].State = StatusCanceled
			failed++
		default:
			failed++
		}
	}
	switch {
	case t.Status == StatusCanceled || errors.Is(context.Cause(tr.ctx), errCanceled):
		t.Status = StatusCanceled
	case t.Error != "" || failed > 0:
		t.Status = StatusFail
		if t.Error == "" {
			t.Error = fmt.Sprintf("%d of %d operations failed", failed, len(t.Ops))
		}
	default:
		t.Status, t.Progress = StatusFinish, 100
	}
	if t.Finished.IsZero() {
		t.Finished = time.Now().UTC()
	}
	tr.mu.Unlock()
	tr.write()
	tr.s.log.Info("task ended", "task", t.ID, "status", t.Status, "error", t.Error)
	return t
}

// notifyEnd sends the end-of-task event (webhooks synchronously, bounded)
// and records that it went out, so a redelivery does not send it again.
func (s *Service) notifyEnd(t *Task) {
	typ := map[Status]string{StatusFinish: "task.completed", StatusFail: "task.failed", StatusCanceled: "task.canceled"}[t.Status]
	if typ != "" {
		ev := s.taskEvent(t, typ, nil)
		s.publish(ev)
		s.deliverNow(t, ev)
	}
	if _, _, err := s.mutate(s.ctx, t.ID, func(cur *Task) bool {
		if cur.Notified {
			return false
		}
		cur.Notified = true
		return true
	}); err != nil {
		s.log.Warn("record notified", "task", t.ID, "error", err)
	}
}

// taskEvent is the event for a task state.
func (s *Service) taskEvent(t *Task, typ string, extra map[string]any) events.Event {
	data := map[string]any{"id": t.ID, "status": t.Status, "input": t.Input, "output": "/outputs/" + t.Output + "/",
		"progress": t.Progress, "node": s.node}
	if t.Scheme != "" {
		data["scheme"] = t.Scheme
	}
	if t.Error != "" {
		data["error"] = t.Error
	}
	if t.Status.Terminal() {
		data["ops"] = t.Ops
	}
	for k, v := range extra {
		data[k] = v
	}
	return events.Event{Type: typ, Time: time.Now().UTC(), Data: data}
}

// emit sends a non-final task event to NATS and the bus, and when hook is
// set and the task's notify mode is "change" (or, for task.audit_blocked,
// "finish"), to webhooks.
func (s *Service) emit(t *Task, typ string, extra map[string]any, hook bool) {
	ev := s.taskEvent(t, typ, extra)
	s.publish(ev)
	// A blocked audit is news in every mode but none: it stops the task.
	if hook && (t.Notify.Mode == config.NotifyChange || typ == "task.audit_blocked" && t.Notify.Mode != config.NotifyNone) {
		s.deliverLater(t, ev)
	}
}
