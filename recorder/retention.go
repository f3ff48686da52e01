package recorder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Errors of segment operations, mapped to HTTP statuses by the API.
var (
	// ErrSegmentNotFound answers a name that is not in the index.
	ErrSegmentNotFound = errors.New("segment not found")
	// ErrSegmentBusy refuses to delete the segment being written.
	ErrSegmentBusy = errors.New("segment is being recorded")
)

// janitor applies retention periodically until the manager closes.
func (m *Manager) janitor() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.JanitorInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
			m.RunRetention()
		}
	}
}

// RunRetention deletes, for every path, the oldest segments that ended
// more than DeleteAfter ago or that put the path over MaxBytes (counting
// the segments kept only in a bucket), locally and in the bucket. The
// segment being written is never deleted. It returns how many went.
func (m *Manager) RunRetention() int {
	if !m.ix.complete() {
		return 0 // durations and totals are not known yet
	}
	now := time.Now()
	deleted := 0
	for _, p := range m.ix.pathNames() {
		rule := m.cfg.Rule(p)
		if rule.DeleteAfter <= 0 && rule.MaxBytes <= 0 {
			continue
		}
		segs := m.ix.snapshot(p)
		var total int64
		for _, s := range segs {
			total += s.Size
		}
		for _, s := range segs {
			if s.Recording {
				continue
			}
			expired := rule.DeleteAfter > 0 && now.Sub(s.End()) > rule.DeleteAfter
			over := rule.MaxBytes > 0 && total > rule.MaxBytes
			if !expired && !over {
				break
			}
			if err := m.DeleteSegment(p, s.Name); err != nil {
				m.log.Warn("retention could not delete a segment", "path", p, "segment", s.Name, "error", err)
				continue
			}
			total -= s.Size
			deleted++
			m.log.Info("segment deleted by retention", "path", p, "segment", s.Name, "expired", expired, "over_size", over)
		}
	}
	return deleted
}

// DeleteSegment removes one finished segment of path, from the disk and
// from the storage target it was uploaded to.
func (m *Manager) DeleteSegment(path, name string) error {
	seg, ok := m.ix.find(path, name)
	if !ok {
		return ErrSegmentNotFound
	}
	m.ix.mu.RLock()
	s := *seg
	m.ix.mu.RUnlock()
	if s.Recording {
		return ErrSegmentBusy
	}
	// The bucket copy goes first: if the store cannot be reached, nothing
	// is deleted and the next attempt finds the segment whole.
	if err := m.deleteStored(s); err != nil {
		return err
	}
	if err := os.Remove(seg.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete segment: %w", err)
	}
	m.ix.remove(seg)
	return nil
}
