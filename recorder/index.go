package recorder

import (
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
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

	file     string // absolute file name
	initSize int64  // fMP4 init block length
}

// End returns when the segment's media ends.
func (s Segment) End() time.Time { return s.Start.Add(s.Duration) }

// index is the in-memory list of segments per path, sorted by start, so
// listings never touch the disk. It is rebuilt from the directory at start
// and kept current by the writers and the janitor.
type index struct {
	mu    sync.RWMutex
	paths map[string][]*Segment
}

func newIndex() *index { return &index{paths: map[string][]*Segment{}} }

// scan rebuilds the index from the files under root, reading each file's
// duration from its structure.
func (ix *index) scan(root string, tpl *template, log *slog.Logger) {
	found := map[string][]*Segment{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return nil
		}
		sp, ok := tpl.streamPath(filepath.ToSlash(rel))
		if !ok || stream.ValidPath(sp) != nil {
			return nil
		}
		start, format, ok := tpl.parseFile(d.Name())
		if !ok {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		seg := &Segment{Path: sp, Name: d.Name(), Start: start, Size: fi.Size(), Format: format, file: p}
		if pi, err := probeFile(p, format); err == nil {
			seg.Duration, seg.initSize = pi.duration, pi.initSize
		} else {
			log.Warn("recording segment unreadable", "file", p, "error", err)
		}
		found[sp] = append(found[sp], seg)
		return nil
	})
	for _, segs := range found {
		sort.Slice(segs, func(i, j int) bool { return segs[i].Start.Before(segs[j].Start) })
	}
	ix.mu.Lock()
	ix.paths = found
	ix.mu.Unlock()
}

// add inserts a new segment, keeping the path's list sorted.
func (ix *index) add(seg *Segment) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
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

// remove drops a segment from the index.
func (ix *index) remove(seg *Segment) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
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
