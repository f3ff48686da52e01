package recorder

import (
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
const journalName = ".uploads.json"

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

// journal is the durable upload queue: every change is written to a
// temporary file, synced and renamed over journalName, so a crash (even a
// kill -9 in the middle of a write) leaves the previous or the new state,
// never half of one.
type journal struct {
	file string

	mu      sync.Mutex
	entries map[string]*upload
	wake    chan struct{}
}

// loadJournal reads the journal in dir; a missing file is an empty queue.
// Entries left "recording" by a crash are pending now: their files end at
// the crash, like any crashed segment.
func loadJournal(dir string) (*journal, error) {
	j := &journal{file: filepath.Join(dir, journalName), entries: map[string]*upload{}, wake: make(chan struct{}, 1)}
	b, err := os.ReadFile(j.file)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return j, fmt.Errorf("upload journal: %w", err)
	}
	var list []*upload
	if err := json.Unmarshal(b, &list); err != nil {
		return j, fmt.Errorf("upload journal %s: %w", j.file, err)
	}
	for _, u := range list {
		if u.File == "" {
			continue
		}
		if u.State == upRecording {
			u.State = upPending
		}
		j.entries[u.File] = u
	}
	return j, nil
}

// saveLocked writes the journal atomically; call with j.mu held.
func (j *journal) saveLocked() error {
	list := make([]*upload, 0, len(j.entries))
	for _, u := range j.entries {
		list = append(list, u)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].File < list[b].File })
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	dir := filepath.Dir(j.file)
	tmp, err := os.CreateTemp(dir, journalName+".tmp-*")
	if err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	_, err = tmp.Write(b)
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
	if err != nil {
		return fmt.Errorf("upload journal: %w", err)
	}
	return nil
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
	return true, j.saveLocked()
}

// put adds or replaces an entry and saves.
func (j *journal) put(u *upload) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries[u.File] = u
	err := j.saveLocked()
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
	return j.saveLocked()
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
