package livehl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"mps/ai/highlights"
	"mps/internal/events"
)

// Highlight is one clip of a path's rolling list.
type Highlight struct {
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Score   float64   `json:"score"`
	Reasons []string  `json:"reasons"`
	// URL is where the clip is served (relative to the server).
	URL string `json:"url"`
}

// Duration is the clip's length.
func (h Highlight) Duration() time.Duration { return h.End.Sub(h.Start) }

func (h Highlight) overlaps(o Highlight) bool { return h.Start.Before(o.End) && o.Start.Before(h.End) }

func sortBest(l []Highlight) {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Score > l[j].Score })
}

// clipTimeLayout names clip files by their start.
const clipTimeLayout = "20060102T150405.000Z"

// pick scores the last window and queues the clips that are over (their
// end a settling time before the latest measure, or any clip once the
// stream ended), do not overlap a clip already taken, and rank in the
// top of the window.
func (r *pathRun) pick(tl *highlights.Timeline, a *anchorTime, final bool) {
	measured := tl.Measured()
	if _, ok := a.at(0); !ok || measured <= 0 {
		return
	}
	settle := r.rule.MaxSeconds / 2
	if final {
		settle = 0
	}
	clips := tl.Pick(measured-r.rule.Window.Seconds(), measured, r.rule.Top, r.rule.MinSeconds, r.rule.MaxSeconds, r.takenSpans(a))
	for _, c := range clips {
		if c.End > measured-settle || c.Score < minClipScore {
			continue
		}
		start, _ := a.at(c.Start)
		end, _ := a.at(c.End)
		h := Highlight{Path: r.path, Start: start.UTC(), End: end.UTC(), Score: c.Score, Reasons: c.Reasons}
		if h.Reasons == nil {
			h.Reasons = []string{}
		}
		if r.taken(h) || !r.ranks(h) {
			continue
		}
		h.Name = h.Start.Format(clipTimeLayout) + ".mp4"
		h.URL = APIPrefix + r.path + "/clips/" + h.Name
		r.pending = append(r.pending, h)
	}
}

// minClipScore is the least mean score of a live clip: on calm footage
// the best second of a window is only noise, and a live list should stay
// empty rather than fill with it (a burst of motion and sound scores 0.8).
const minClipScore = 0.2

// takenSpans returns the clips listed and pending in stream time, so a
// pick works around them.
func (r *pathRun) takenSpans(a *anchorTime) [][2]float64 {
	origin, _ := a.at(0)
	var out [][2]float64
	add := func(h Highlight) {
		out = append(out, [2]float64{h.Start.Sub(origin).Seconds(), h.End.Sub(origin).Seconds()})
	}
	for _, p := range r.pending {
		add(p)
	}
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	for _, l := range r.m.lists[r.path] {
		add(l)
	}
	return out
}

// taken says whether h overlaps a clip listed or pending.
func (r *pathRun) taken(h Highlight) bool {
	for _, p := range r.pending {
		if p.overlaps(h) {
			return true
		}
	}
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	for _, l := range r.m.lists[r.path] {
		if l.overlaps(h) {
			return true
		}
	}
	return false
}

// ranks says whether h would enter the top of the window's list.
func (r *pathRun) ranks(h Highlight) bool {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	list := r.prune(h.End)
	if len(list)+len(r.pending) < r.rule.Top {
		return true
	}
	for _, l := range list {
		if h.Score > l.Score {
			return true
		}
	}
	return false
}

// prune drops (and deletes) the listed clips that ended a window before
// now; the caller holds m.mu.
func (r *pathRun) prune(now time.Time) []Highlight {
	list := r.m.lists[r.path]
	kept := list[:0]
	for _, l := range list {
		if now.Sub(l.End) > r.rule.Window {
			r.remove(l)
			continue
		}
		kept = append(kept, l)
	}
	r.m.lists[r.path] = kept
	return kept
}

func (r *pathRun) remove(h Highlight) {
	if err := os.Remove(r.file(h.Name)); err != nil && !os.IsNotExist(err) {
		r.m.cfg.Log.Warn("live highlight not deleted", "path", r.path, "name", h.Name, "error", err)
	}
}

func (r *pathRun) file(name string) string {
	return filepath.Join(r.m.cfg.Dir, filepath.FromSlash(r.path), name)
}

// cutReady cuts the pending clips whose recording is complete, lists
// them (the lowest-scored clip leaves a full list) and announces them.
func (r *pathRun) cutReady(ctx context.Context) {
	until := r.m.cfg.Recording.RecordedUntil(r.path)
	var still []Highlight
	for _, h := range r.pending {
		if until.Before(h.End) {
			if time.Since(h.End) > r.rule.Window {
				r.m.cfg.Log.Warn("live highlight dropped: not recorded (is record enabled for the path?)",
					"path", r.path, "start", h.Start)
				continue
			}
			still = append(still, h)
			continue
		}
		if err := r.cut(ctx, h); err != nil {
			if ctx.Err() == nil {
				r.m.cfg.Log.Warn("live highlight not cut", "path", r.path, "start", h.Start, "error", err)
			}
			continue
		}
		r.add(h)
		r.m.cfg.Bus.Publish(events.Event{Type: HighlightCreated, Path: r.path, Data: map[string]any{
			"name": h.Name, "start": h.Start.Format(time.RFC3339Nano), "end": h.End.Format(time.RFC3339Nano),
			"duration": h.Duration().Seconds(), "score": h.Score, "reasons": h.Reasons, "url": h.URL,
		}})
	}
	r.pending = still
}

// add lists h, evicting the lowest-scored clips beyond Top.
func (r *pathRun) add(h Highlight) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	list := append(r.prune(h.End), h)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Score > list[j].Score })
	for len(list) > r.rule.Top {
		r.remove(list[len(list)-1])
		list = list[:len(list)-1]
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	r.m.lists[r.path] = list
}

// cut exports the clip's range from the recording (stream copy, which
// starts at a keyframe) and encodes exactly [start, end) of it into the
// clip file, so the clip has its picked length whatever the GOP.
func (r *pathRun) cut(ctx context.Context, h Highlight) error {
	out := r.file(h.Name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Beside the clip, so the final rename stays on one file system.
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".cut-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	raw := filepath.Join(tmp, "range.mp4")
	if err := r.m.cfg.Recording.Export(ctx, r.path, h.Start, h.Duration(), raw); err != nil {
		return fmt.Errorf("export the recording: %w", err)
	}
	part := filepath.Join(tmp, "clip.mp4")
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-i", raw,
		"-t", strconv.FormatFloat(h.Duration().Seconds(), 'f', 3, 64),
		"-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", part}
	cmd := exec.CommandContext(ctx, r.m.cfg.FFmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("encode the clip: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return os.Rename(part, out)
}
