package recorder

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mps/internal/stream"
)

// Segment describes one recorded file.
type Segment struct {
	// Path is the stream path the segment belongs to.
	Path string `json:"-"`
	// Name is the file's base name, as used in segment URLs.
	Name string `json:"name"`
	// Start is the wall-clock time of the segment's first frame.
	Start time.Time `json:"start"`
	// Duration is the media time the file holds.
	Duration time.Duration `json:"-"`
	// Size is the file size in bytes.
	Size int64 `json:"size"`
	// Format is FormatFMP4 or FormatMPEGTS.
	Format string `json:"format"`
	// Recording is true while the file is still being written.
	Recording bool `json:"recording"`
	// Target is the storage target holding a confirmed copy, if any.
	Target string `json:"target,omitempty"`

	remoteOnly bool   // the local file was deleted after its upload
	file       string // absolute file name (also when remoteOnly)
	initSize   int64  // fMP4 init block length
}

// End returns when the segment's media ends.
func (s Segment) End() time.Time { return s.Start.Add(s.Duration) }

// index is the in-memory list of segments per path, sorted by start, so
// listings never touch the disk. It is rebuilt from the directory in the
// background when the manager starts (so a server with a hundred thousand
// segments on disk listens at once) and kept current by the writers and
// the janitor. Until the rebuild is complete, listings may miss segments
// and durations: callers say so (complete) or wait (wait).
type index struct {
	mu     sync.RWMutex
	paths  map[string][]*Segment
	byFile map[string]*Segment
	// ready is closed once every file on disk is listed with its
	// duration.
	ready chan struct{}
}

func newIndex() *index {
	return &index{paths: map[string][]*Segment{}, byFile: map[string]*Segment{}, ready: make(chan struct{})}
}

// complete reports whether the rebuild has finished.
func (ix *index) complete() bool {
	select {
	case <-ix.ready:
		return true
	default:
		return false
	}
}

// wait blocks until the rebuild has finished, ctx ends or timeout passes,
// and reports whether it finished.
func (ix *index) wait(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ix.ready:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// scanBatch is how many files the rebuild lists before publishing them.
const scanBatch = 4096

// rebuild fills the index from the files under root in two passes: first
// every file by its name (start time, format, size), published in batches
// so listings fill up at once; then each file's duration read from its
// structure. Segments the writers add meanwhile are kept. It closes ready
// when done, or returns early when ctx ends.
func (ix *index) rebuild(ctx context.Context, root string, tpl *template, log *slog.Logger, afterListing func()) {
	defer close(ix.ready)
	var todo []*Segment
	batch := map[string][]*Segment{}
	n := 0
	flush := func() {
		for sp, segs := range batch {
			todo = append(todo, ix.merge(sp, segs)...)
		}
		clear(batch)
		n = 0
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		seg, ok := scanEntry(root, p, d, tpl)
		if !ok {
			return nil
		}
		batch[seg.Path] = append(batch[seg.Path], seg)
		if n++; n >= scanBatch {
			flush()
		}
		return nil
	})
	flush()
	if afterListing != nil {
		afterListing()
	}
	ix.probeAll(ctx, todo, log)
}

// probeWorkers is how many files the rebuild probes at once. Once a file
// is read whole the probe is CPU-bound; two workers measured no faster
// than one on a 2-core machine.
const probeWorkers = 1

// probeAll reads the durations of segs and sets them on the entries that
// are still in the index.
func (ix *index) probeAll(ctx context.Context, segs []*Segment, log *slog.Logger) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range probeWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(segs) {
					return
				}
				seg := segs[i]
				pi, err := probeFile(seg.file, seg.Format) //nolint:contextcheck // probing a file is bounded by the file, not a request
				if err != nil {
					log.Warn("recording segment unreadable", "file", seg.file, "error", err)
					continue
				}
				ix.mu.Lock()
				if ix.byFile[seg.file] == seg {
					seg.Duration, seg.initSize = pi.duration, pi.initSize
				}
				ix.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// scanEntry makes the index entry of file p from its name, or reports
// that p is not a segment.
func scanEntry(root, p string, d fs.DirEntry, tpl *template) (*Segment, bool) {
	rel, err := filepath.Rel(root, filepath.Dir(p))
	if err != nil {
		return nil, false
	}
	sp, ok := tpl.streamPath(filepath.ToSlash(rel))
	if !ok || stream.ValidPath(sp) != nil {
		return nil, false
	}
	start, format, ok := tpl.parseFile(d.Name())
	if !ok {
		return nil, false
	}
	fi, err := d.Info()
	if err != nil {
		return nil, false
	}
	return &Segment{Path: sp, Name: d.Name(), Start: start, Size: fi.Size(), Format: format, file: p}, true
}

// merge adds scanned segments of one path, skipping files the index
// already holds, and returns those it added.
func (ix *index) merge(path string, segs []*Segment) []*Segment {
	sort.Slice(segs, func(i, j int) bool { return segs[i].Start.Before(segs[j].Start) })
	ix.mu.Lock()
	defer ix.mu.Unlock()
	added := segs[:0:0]
	for _, s := range segs {
		if _, ok := ix.byFile[s.file]; !ok {
			ix.byFile[s.file] = s
			added = append(added, s)
		}
	}
	old := ix.paths[path]
	out := make([]*Segment, 0, len(old)+len(added))
	i, j := 0, 0
	for i < len(old) || j < len(added) {
		if j >= len(added) || i < len(old) && !added[j].Start.Before(old[i].Start) {
			out = append(out, old[i])
			i++
		} else {
			out = append(out, added[j])
			j++
		}
	}
	ix.paths[path] = out
	return added
}

// add inserts a new segment (a writer's), keeping the path's list sorted;
// an entry the rebuild made for the same file gives way to it.
func (ix *index) add(seg *Segment) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.byFile[seg.file]; ok {
		ix.removeLocked(old)
	}
	ix.byFile[seg.file] = seg
	segs := ix.paths[seg.Path]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Start.After(seg.Start) })
	segs = append(segs, nil)
	copy(segs[i+1:], segs[i:])
	segs[i] = seg
	ix.paths[seg.Path] = segs
}

// update changes a segment's growing fields under the lock.
func (ix *index) update(seg *Segment, size int64, dur time.Duration, initSize int64, recording bool) {
	ix.mu.Lock()
	seg.Size, seg.Duration, seg.initSize, seg.Recording = size, dur, initSize, recording
	ix.mu.Unlock()
}

// uploaded marks the segment of file as copied to target, filling in the
// durations the upload probed when the index lacks them.
func (ix *index) uploaded(file, target string, pi probeInfo) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if seg, ok := ix.byFile[file]; ok {
		seg.Target = target
		if seg.Duration <= 0 {
			seg.Duration, seg.initSize = pi.duration, pi.initSize
		}
	}
}

// localGone marks the segment of file as stored in its target only.
func (ix *index) localGone(file string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if seg, ok := ix.byFile[file]; ok {
		seg.remoteOnly = true
	}
}

// remove drops a segment from the index.
func (ix *index) remove(seg *Segment) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(seg)
}

func (ix *index) removeLocked(seg *Segment) {
	if ix.byFile[seg.file] == seg {
		delete(ix.byFile, seg.file)
	}
	segs := ix.paths[seg.Path]
	for i, s := range segs {
		if s == seg {
			segs = append(segs[:i], segs[i+1:]...)
			break
		}
	}
	if len(segs) == 0 {
		delete(ix.paths, seg.Path)
	} else {
		ix.paths[seg.Path] = segs
	}
}

// list returns copies of path's segments that overlap [start, end); a zero
// bound is open.
func (ix *index) list(path string, start, end time.Time) []Segment {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	segs := ix.paths[path]
	// Segments are sorted by start; the first candidate is the last one
	// starting at or before start.
	i := 0
	if !start.IsZero() {
		i = sort.Search(len(segs), func(i int) bool { return segs[i].Start.After(start) })
		if i > 0 {
			i--
		}
	}
	var out []Segment
	if end.IsZero() {
		out = make([]Segment, 0, len(segs)-i)
	}
	for ; i < len(segs); i++ {
		s := segs[i]
		if !end.IsZero() && !s.Start.Before(end) {
			break
		}
		if !start.IsZero() && !s.End().After(start) && !s.Recording {
			continue
		}
		out = append(out, *s)
	}
	return out
}

// find returns the live entry of path's segment name.
func (ix *index) find(path, name string) (*Segment, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, s := range ix.paths[path] {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// snapshot returns copies of all of path's segments.
func (ix *index) snapshot(path string) []Segment {
	return ix.list(path, time.Time{}, time.Time{})
}

// pathNames returns every path with segments.
func (ix *index) pathNames() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, 0, len(ix.paths))
	for p := range ix.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// totals returns the number and bytes of path's segments.
func (ix *index) totals(path string) (n int, bytes int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, s := range ix.paths[path] {
		n++
		bytes += s.Size
	}
	return n, bytes
}
