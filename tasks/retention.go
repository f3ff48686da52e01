package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Retention: an ended task's record and outputs are deleted once its
// keep_for (the scheme's, or tasks.keep_for) has passed since it ended;
// an upload is deleted once tasks.keep_for has passed since it arrived and
// no kept task refers to it. The janitor goroutine does this on every node;
// deleting what another node already deleted is harmless.

// janitorLoop runs a retention pass at start and then every JanitorEvery.
func (s *Service) janitorLoop() {
	defer s.wg.Done()
	if err := s.index.wait(s.ctx); err != nil {
		return
	}
	t := time.NewTicker(s.cfg.JanitorEvery)
	defer t.Stop()
	for {
		s.sweep(s.ctx, time.Now())
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep deletes what has outlived its retention at now.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	inUse := map[string]bool{}   // upload ids referred to by kept tasks
	outputs := map[string]bool{} // output folders of kept tasks
	var old []*Task
	for _, id := range s.index.all() {
		t, _, err := s.load(ctx, id)
		if err != nil {
			if !errors.Is(err, ErrNotFound) && ctx.Err() == nil {
				s.log.Warn("retention: load task", "task", id, "error", err)
			}
			continue
		}
		if expired(t, now) {
			old = append(old, t)
			continue
		}
		outputs[t.Output] = true
		if up, ok := strings.CutPrefix(t.Input, uploadPrefix); ok {
			inUse[up] = true
		}
	}
	for _, t := range old {
		// A scheme's output.dir is shared by its tasks: the files there
		// belong to the newest, which is kept.
		if !outputs[t.Output] {
			s.removeOutputs(t)
		}
		if err := s.kv.Purge(ctx, taskKey(t.ID)); err != nil {
			s.log.Warn("retention: delete task", "task", t.ID, "error", err)
			continue
		}
		s.index.remove(t.ID)
		s.log.Info("retention: task deleted", "task", t.ID, "ended", t.Finished)
	}
	s.sweepUploads(now, inUse)
}

// expired reports whether an ended task has outlived its keep_for.
func expired(t *Task, now time.Time) bool {
	return t.Status.Terminal() && t.KeepFor > 0 && !t.Finished.IsZero() && now.Sub(t.Finished) >= t.KeepFor.D()
}

// removeOutputs deletes a task's operation folders, then its output folder
// and empty parents if nothing else is left in them.
func (s *Service) removeOutputs(t *Task) {
	root := filepath.Join(s.cfg.Tasks.OutputDir, filepath.FromSlash(t.Output))
	if !within(s.cfg.Tasks.OutputDir, root) || root == s.cfg.Tasks.OutputDir {
		return
	}
	for _, op := range t.Ops {
		if op.Dir == "" || strings.ContainsAny(op.Dir, `/\`) || op.Dir == ".." {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, op.Dir)); err != nil {
			s.log.Warn("retention: delete outputs", "task", t.ID, "error", err)
		}
	}
	// Remove the task's folder and empty parents up to the output root.
	for d := root; d != s.cfg.Tasks.OutputDir && within(s.cfg.Tasks.OutputDir, d); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
}

// sweepUploads deletes uploads older than tasks.keep_for that no kept task
// refers to.
func (s *Service) sweepUploads(now time.Time, inUse map[string]bool) {
	keep := s.cfg.Tasks.KeepFor.D()
	if keep <= 0 {
		return
	}
	dir := filepath.Join(s.cfg.DataDir, "uploads")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || inUse[e.Name()] || !validID(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			s.log.Warn("retention: delete upload", "upload", e.Name(), "error", err)
			continue
		}
		s.log.Info("retention: upload deleted", "upload", e.Name())
	}
}
