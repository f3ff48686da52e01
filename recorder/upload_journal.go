package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// journalName is the upload queue's file in the recordings root. Its
// leading dot keeps it out of the index and of templates' file names.
const journalName = ".uploads.jsonl"

// Upload states of a journal entry.
const (
	upRecording = "recording" // the segment is being written
	upPending   = "pending"   // finished, not yet confirmed by the store
	upUploaded  = "uploaded"  // the store confirmed it (size and checksums)
)

// upload is one segment bound for a storage target. Entries outlive the
// upload: an uploaded segment's entry says where its copy is (and, with
// Local false, that it is the only one), so listings, playback and
// retention find it after a restart.
type upload struct {
	// File is the segment's name relative to the recordings root, with /
	// separators; it is also its key in the target.
	File      string        `json:"file"`
	Path      string        `json:"path"`
	Start     time.Time     `json:"start"`
	Format    string        `json:"format"`
	Target    string        `json:"target"`
	KeepLocal bool          `json:"keep_local"`
	State     string        `json:"state"`
	Local     bool          `json:"local"`
	Size      int64         `json:"size,omitempty"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
	InitSize  int64         `json:"init_size,omitempty"`
	Attempts  int           `json:"attempts,omitempty"`
	Error     string        `json:"error,omitempty"`

	retryAt time.Time // in memory: when the next attempt is due
	busy    bool      // in memory: being uploaded now
}

// journal is the durable upload queue: an append-only log of entry
// states, one JSON line each, synced before the change counts, so a
// crash (even a kill -9 in the middle of a write) loses at most the line
// being written, never an earlier one. Loading replays the log (the last
// line of an entry wins; a torn last line is ignored) and rewrites it
// compacted, atomically (temporary file, sync, rename), so it does not
// grow without bound and appends start on a clean line. A change costs
// one small append whatever the number of entries.
type journal struct {
	file string

	mu      sync.Mutex
	f       *os.File // open for appending
	entries map[string]*upload
	wake    chan struct{}
}

// logLine is one line of the journal: an entry's state, or its removal.
type logLine struct {
	upload
	Deleted bool `json:"deleted,omitempty"`
}

// loadJournal reads the journal in dir; a missing file is an empty queue.
// Entries left "recording" by a crash are pending now: their files end at
// the crash, like any crashed segment.
func loadJournal(dir string) (*journal, error) {
	j := &journal{file: filepath.Join(dir, journalName), entries: map[string]*upload{}, wake: make(chan struct{}, 1)}
	b, err := os.ReadFile(j.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return j, fmt.Errorf("upload journal: %w", err)
	}
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(line, &l); err != nil || l.File == "" {
			if i == len(lines)-1 {
				break // the line a crash cut short
			}
			return j, fmt.Errorf("upload journal %s: line %d: unreadable", j.file, i+1)
		}
		if l.Deleted {
			delete(j.entries, l.File)
			continue
		}
		if l.State == upRecording {
			l.State = upPending
		}
		u := l.upload
		j.entries[l.File] = &u
	}
	if err := j.compact(); err != nil {
		return j, err
	}
	return j, nil
}

// compact rewrites the journal as one line per entry and opens it for
// appending.
func (j *journal) compact() error {
	list := make([]*upload, 0, len(j.entries))
	for _, u := range j.entries {
		list = append(list, u)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].File < list[b].File })
	var buf bytes.Buffer
	for _, u := range list {
		b, err := json.Marshal(logLine{upload: *u})
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	dir := filepath.Dir(j.file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	tmp, err := os.CreateTemp(dir, journalName+".tmp-*")
	if err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	_, err = tmp.Write(buf.Bytes())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.file)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		j.f, err = os.OpenFile(j.file, os.O_WRONLY|os.O_APPEND, 0o644)
	}
	if err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	return nil
}

// appendLocked logs an entry's state (or its removal) and syncs; call
// with j.mu held.
func (j *journal) appendLocked(l logLine) error {
	if j.f == nil {
		return fmt.Errorf("upload journal %s: not open", j.file)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	return nil
}

// close closes the log file.
func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// update changes the entry of file (if any) with fn and saves; fn
// returning false leaves the journal as it was. It reports whether the
// entry exists.
func (j *journal) update(file string, fn func(u *upload) bool) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	u, ok := j.entries[file]
	if !ok {
		return false, nil
	}
	if !fn(u) {
		return true, nil
	}
	return true, j.appendLocked(logLine{upload: *u})
}

// put adds or replaces an entry and saves.
func (j *journal) put(u *upload) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries[u.File] = u
	err := j.appendLocked(logLine{upload: *u})
	j.signal()
	return err
}

// drop removes the entry of file and saves.
func (j *journal) drop(file string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.entries[file]; !ok {
		return nil
	}
	delete(j.entries, file)
	return j.appendLocked(logLine{upload: upload{File: file}, Deleted: true})
}

// signal wakes the uploader; call with j.mu held or not.
func (j *journal) signal() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// next claims the pending entry due first; when none is due it returns
// how long until one is (0: none is waiting at all).
func (j *journal) next(now time.Time) (*upload, time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var best *upload
	for _, u := range j.entries {
		if u.State != upPending || u.busy {
			continue
		}
		if best == nil || u.retryAt.Before(best.retryAt) || u.retryAt.Equal(best.retryAt) && u.File < best.File {
			best = u
		}
	}
	if best == nil {
		return nil, 0
	}
	if d := best.retryAt.Sub(now); d > 0 {
		return nil, d
	}
	best.busy = true
	c := *best
	return &c, 0
}

// pending counts path's finished segments not yet uploaded and returns
// the last error of one.
func (j *journal) pending(path string) (n int, lastErr string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, u := range j.entries {
		if u.Path == path && u.State == upPending {
			n++
			if u.Error != "" {
				lastErr = u.Error
			}
		}
	}
	return n, lastErr
}

// all returns copies of every entry.
func (j *journal) all() []upload {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]upload, 0, len(j.entries))
	for _, u := range j.entries {
		out = append(out, *u)
	}
	return out
}
