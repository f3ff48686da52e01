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
	var results []vod.Result
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			return results, fmt.Errorf("operation %d: %w", i+1, err)
		}
	}
	for i, op := range ops {
		label := op.Label()
		res, err := op.Bind(env).Run(ctx, input, filepath.Join(outDir, opDir(i, op)), func(pct float64) {
			if progress != nil {
				progress(label, pct)
			}
		})
		if err != nil {
			return results, fmt.Errorf("operation %d (%s): %w", i+1, label, err)
		}
		results = append(results, res)
	}
	return results, nil
}
