package tasks

import (
	"context"
	"errors"
	"fmt"

	"mps/internal/aispec"
	"mps/internal/vod"
)

// This file joins two operations of one task: when a task has both an
// adaptive operation (an HLS package) and a subtitles operation, in either
// order, the subtitles become WebVTT renditions of the package as soon as
// the later of the two has succeeded. The subtitles operation lists its
// files in Result.Subtitles; vod.AddSubtitles writes the renditions. A
// failed join is charged to the subtitles operation and leaves the
// package as the adaptive operation made it.

// opOutcome is one operation of a task as the join sees it: where it
// wrote and its result, nil unless it succeeded.
type opOutcome struct {
	op  vod.Operation
	dir string
	res *vod.Result
}

// errNoAdaptive refuses soft_track hls in a task that makes no package.
var errNoAdaptive = errors.New("subtitles soft_track hls needs an adaptive operation in the same task")

// checkSubtitleRenditions refuses a task whose subtitles operation asks
// for an HLS rendition (soft_track hls) without an adaptive operation.
func checkSubtitleRenditions(ops []vod.Operation) error {
	hasAdaptive := false
	for _, op := range ops {
		hasAdaptive = hasAdaptive || op.Type == vod.TypeAdaptive
	}
	for i, op := range ops {
		if op.Type == vod.TypeSubtitles && op.Subtitles != nil && op.Subtitles.SoftTrack == aispec.SoftTrackHLS && !hasAdaptive {
			return fmt.Errorf("operation %d: %w", i+1, errNoAdaptive)
		}
	}
	return nil
}

// joinSubtitles adds the renditions that operation i, just succeeded,
// completes: the task's first subtitles operation into every adaptive
// package. On failure it returns the subtitles operation's index.
func joinSubtitles(ctx context.Context, ops []opOutcome, i int) (int, error) {
	subs := -1
	for k, o := range ops {
		if o.op.Type == vod.TypeSubtitles {
			subs = k
			break
		}
	}
	if subs < 0 || ops[subs].res == nil {
		return 0, nil
	}
	var pkgs []int
	switch {
	case i == subs:
		for k, o := range ops {
			if o.op.Type == vod.TypeAdaptive && o.res != nil {
				pkgs = append(pkgs, k)
			}
		}
	case ops[i].op.Type == vod.TypeAdaptive && ops[i].res != nil:
		pkgs = []int{i}
	}
	for _, k := range pkgs {
		if err := vod.AddSubtitles(ctx, ops[k].dir, ops[k].res, ops[subs].dir, ops[subs].res.Subtitles); err != nil {
			return subs, fmt.Errorf("rendition in the adaptive package of operation %d: %w", k+1, err)
		}
	}
	return subs, nil
}
