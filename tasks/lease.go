package tasks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Leases: a node running a task renews the key lease.<id> every LeaseTTL/3.
// The queue only redelivers a task once its ack wait has passed, which is
// long; the lease tells readers much sooner that the node running it has
// gone: a PROCESSING task whose lease has lapsed is shown as ORPHANED
// (never stored), until a node takes it over or it is failed after
// MaxAttempts.

// StatusOrphaned is how a PROCESSING task whose node stopped renewing its
// lease is shown; it is retried when the queue hands it to another node.
const StatusOrphaned Status = "ORPHANED"

func leaseKey(id string) string { return "lease." + id }

// holdLease takes the lease of a task for this node and renews it until
// the returned stop is called, which also gives it up.
func (s *Service) holdLease(id string) (stop func()) {
	ctx, cancel := context.WithCancel(s.ctx)
	put := func() {
		if _, err := s.kv.Put(ctx, leaseKey(id), []byte(s.node)); err != nil && ctx.Err() == nil {
			s.log.Warn("renew task lease", "task", id, "error", err)
		}
	}
	put()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.cfg.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				put()
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		if s.ctx.Err() == nil {
			dctx, dcancel := context.WithTimeout(s.ctx, 5*time.Second)
			defer dcancel()
			_ = s.kv.Purge(dctx, leaseKey(id))
		}
	}
}

// view is a task as readers see it: a PROCESSING task whose lease has
// lapsed shows as ORPHANED, with the time the lease ran out.
func (s *Service) view(ctx context.Context, t *Task) (*Task, error) {
	if t.Status != StatusProcessing {
		return t, nil
	}
	e, err := s.kv.Get(ctx, leaseKey(t.ID))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		t.Status = StatusOrphaned
	case err != nil:
		return nil, fmt.Errorf("task %s lease: %w", t.ID, err)
	default:
		t.LeaseUntil = e.Created().Add(s.cfg.LeaseTTL).UTC()
		if time.Now().After(t.LeaseUntil) {
			t.Status = StatusOrphaned
		}
	}
	return t, nil
}
