package recorder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"mps/internal/events"
	"mps/internal/storage"
)

// key is a segment's name relative to the recordings root, with /
// separators: its key in a storage target (under the target's prefix).
func (m *Manager) key(file string) string {
	rel, err := filepath.Rel(m.cfg.Dir, file)
	if err != nil {
		return filepath.ToSlash(file)
	}
	return filepath.ToSlash(rel)
}

// journalSegment enters a segment that has just been opened in the upload
// journal when its rule names a target, so that even a crash before it is
// finished leaves it queued.
func (m *Manager) journalSegment(seg *Segment, rule Rule) {
	if rule.Target == "" || m.up == nil {
		return
	}
	err := m.up.put(&upload{
		File: m.key(seg.file), Path: seg.Path, Start: seg.Start, Format: seg.Format,
		Target: rule.Target, KeepLocal: rule.KeepLocal, State: upRecording, Local: true,
	})
	if err != nil {
		m.log.Error("upload journal not written; the segment is uploaded only if the server keeps running", "file", seg.file, "error", err)
	}
}

// segmentDone queues a finished segment for upload (size > 0) or forgets
// it (an empty file was removed).
func (m *Manager) segmentDone(seg *Segment, size int64) {
	if m.up == nil {
		return
	}
	file := m.key(seg.file)
	var err error
	if size == 0 {
		err = m.up.drop(file)
	} else {
		_, err = m.up.update(file, func(u *upload) bool {
			u.State, u.Size = upPending, size
			return true
		})
		m.up.signal()
	}
	if err != nil {
		m.log.Error("upload journal not written", "file", seg.file, "error", err)
	}
}

// uploadLoop uploads pending segments one at a time until the manager
// closes, waiting out each entry's backoff after a failure.
func (m *Manager) uploadLoop() {
	defer m.wg.Done()
	for m.ctx.Err() == nil {
		u, wait := m.up.next(time.Now())
		if u != nil {
			m.uploadOne(u)
			continue
		}
		if wait <= 0 {
			wait = time.Hour
		}
		t := time.NewTimer(wait)
		select {
		case <-m.ctx.Done():
			t.Stop()
			return
		case <-m.up.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// uploadOne uploads one segment and records the outcome. The local file
// is deleted (keep_local false) only after the store has confirmed the
// object and the journal says so.
func (m *Manager) uploadOne(u *upload) {
	abs := filepath.Join(m.cfg.Dir, filepath.FromSlash(u.File))
	log := m.log.With("path", u.Path, "file", u.File, "target", u.Target)
	pi, err := probeFile(abs, u.Format) //nolint:contextcheck // bounded by the file
	if errors.Is(err, fs.ErrNotExist) {
		log.Error("segment to upload is gone from the disk; nothing to upload")
		m.forget(u.File)
		return
	}
	if err != nil {
		log.Warn("segment to upload is unreadable; uploading it as it is", "error", err)
	}
	o, err := m.put(u, abs)
	if err != nil {
		m.uploadFailed(u, err, log)
		return
	}
	exists, jerr := m.up.update(u.File, func(e *upload) bool {
		e.State, e.Size, e.Duration, e.InitSize, e.Error, e.busy = upUploaded, o.Size, pi.duration, pi.initSize, "", false
		return true
	})
	if !exists {
		// Deleted (by retention or the API) while it was being uploaded.
		if tg, err := m.target(u.Target); err == nil {
			_ = tg.Delete(m.ctx, u.File)
		}
		return
	}
	if jerr != nil {
		log.Error("upload journal not written; keeping the local file", "error", jerr)
		return
	}
	m.ix.uploaded(abs, u.Target, pi)
	m.lockedCounters(u.Path).uploads.Add(1)
	log.Info("segment uploaded", "size", o.Size, "attempts", u.Attempts+1)
	m.bus.Publish(events.Event{Type: EventSegmentUploaded, Path: u.Path, Data: map[string]any{
		"file": u.File, "target": u.Target, "key": u.File, "size": o.Size,
	}})
	if !u.KeepLocal {
		m.dropLocal(u.File, abs, log)
	}
}

// put uploads abs under its key, bounded by UploadTimeout.
func (m *Manager) put(u *upload, abs string) (storage.Object, error) {
	tg, err := m.target(u.Target)
	if err != nil {
		return storage.Object{}, err
	}
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.UploadTimeout)
	defer cancel()
	return tg.PutFile(ctx, u.File, abs, contentType(u.Format))
}

// dropLocal deletes an uploaded segment's local file and marks it as
// stored only in the bucket.
func (m *Manager) dropLocal(file, abs string, log *slog.Logger) {
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Error("uploaded segment's local file not deleted", "error", err)
		return
	}
	m.ix.localGone(abs)
	if _, err := m.up.update(file, func(e *upload) bool { e.Local = false; return true }); err != nil {
		log.Error("upload journal not written", "error", err)
	}
}

// uploadFailed keeps the local file, schedules the next attempt with
// backoff and tells of the first failure of a run.
func (m *Manager) uploadFailed(u *upload, err error, log *slog.Logger) {
	if m.ctx.Err() != nil {
		m.up.update(u.File, func(e *upload) bool { e.busy = false; return false }) //nolint:errcheck // nothing written
		return
	}
	backoff := m.cfg.UploadRetryMin << min(u.Attempts, 20)
	backoff = min(backoff, m.cfg.UploadRetryMax)
	_, jerr := m.up.update(u.File, func(e *upload) bool {
		e.Attempts++
		e.Error = err.Error()
		e.busy = false
		e.retryAt = time.Now().Add(backoff)
		return true
	})
	m.lockedCounters(u.Path).uploadErrors.Add(1)
	if u.Attempts == 0 {
		log.Error("segment upload failed; the local file stays, retrying", "error", err, "retry_in", backoff, "journal_error", jerr)
		m.bus.Publish(events.Event{Type: EventUploadError, Path: u.Path, Data: map[string]any{
			"file": u.File, "target": u.Target, "error": err.Error(),
		}})
		return
	}
	log.Warn("segment upload still failing", "error", err, "attempts", u.Attempts+1, "retry_in", backoff)
}

// lockedCounters is countersFor for callers not holding m.mu.
func (m *Manager) lockedCounters(path string) *counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.countersFor(path)
}

// forget drops a journal entry whose segment is gone.
func (m *Manager) forget(file string) {
	if err := m.up.drop(file); err != nil {
		m.log.Error("upload journal not written", "file", file, "error", err)
	}
}

// restoreUploaded puts the journal's uploaded segments in the index, with
// the durations recorded at upload, before the disk is scanned: those
// whose local file is gone are then listed from the bucket alone.
func (m *Manager) restoreUploaded() {
	for _, u := range m.up.all() {
		if u.State != upUploaded {
			continue
		}
		abs := filepath.Join(m.cfg.Dir, filepath.FromSlash(u.File))
		if _, _, ok := m.tpl.parseFile(filepath.Base(abs)); !ok {
			continue
		}
		m.ix.add(&Segment{
			Path: u.Path, Name: filepath.Base(abs), Start: u.Start, Duration: u.Duration, Size: u.Size,
			Format: u.Format, Target: u.Target, remoteOnly: !u.Local, file: abs, initSize: u.InitSize,
		})
	}
}

// uploadState returns path's finished segments waiting for an upload
// and the last error of one.
func (m *Manager) uploadState(path string) (pending int, lastErr string) {
	if m.up == nil {
		return 0, ""
	}
	return m.up.pending(path)
}

// deleteStored removes an uploaded segment's copy from its target and
// its journal entry; the local file is the caller's.
func (m *Manager) deleteStored(seg Segment) error {
	if m.up == nil {
		return nil
	}
	file := m.key(seg.file)
	if seg.Target != "" {
		tg, err := m.target(seg.Target)
		if err != nil {
			return err
		}
		if err := tg.Delete(m.ctx, file); err != nil {
			return fmt.Errorf("delete segment from %s: %w", seg.Target, err)
		}
	}
	return m.up.drop(file)
}
