package tasks

import (
	"context"
	"fmt"
	"path/filepath"

	"mps/internal/vod"
)

// RunLocal runs operations on a file without a server or NATS, as the
// "mps process" command does: operation i writes into
// outDir/<NN>-<label>. It stops at the first failing operation.
// Template names inside operations (watermarks, enhancements) need
// [RunLocalWith].
func RunLocal(ctx context.Context, input string, ops []vod.Operation, outDir string, progress func(op string, pct float64)) ([]vod.Result, error) {
	return RunLocalWith(ctx, nil, input, ops, outDir, progress)
}

// RunLocalWith is RunLocal with a resolver for template names.
func RunLocalWith(ctx context.Context, env *vod.Env, input string, ops []vod.Operation, outDir string, progress func(op string, pct float64)) ([]vod.Result, error) {
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			return nil, fmt.Errorf("operation %d: %w", i+1, err)
		}
	}
	if err := checkSubtitleRenditions(ops); err != nil {
		return nil, err
	}
	done := make([]opOutcome, len(ops))
	for i, op := range ops {
		done[i] = opOutcome{op: op, dir: filepath.Join(outDir, opDir(i, op))}
	}
	for i, op := range ops {
		label := op.Label()
		res, err := op.Bind(env).Run(ctx, input, done[i].dir, func(pct float64) {
			if progress != nil {
				progress(label, pct)
			}
		})
		if err != nil {
			return resultsOf(done), fmt.Errorf("operation %d (%s): %w", i+1, label, err)
		}
		done[i].res = &res
		if k, err := joinSubtitles(ctx, done, i); err != nil {
			return resultsOf(done), fmt.Errorf("operation %d (%s): %w", k+1, ops[k].Label(), err)
		}
	}
	return resultsOf(done), nil
}

// resultsOf lists the results of the operations that ran, as they stand
// after the subtitle renditions were added.
func resultsOf(done []opOutcome) []vod.Result {
	var out []vod.Result
	for _, d := range done {
		if d.res != nil {
			out = append(out, *d.res)
		}
	}
	return out
}
