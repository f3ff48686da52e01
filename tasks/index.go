package tasks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// taskIndex is this node's sorted list of the task ids in the store. It is
// read once from the store when the service starts and then kept current
// by a watch on the task keys (every node's writes and deletions), so a
// listing pages through it and loads only the tasks of its page instead of
// enumerating every key on each request.
type taskIndex struct {
	mu    sync.RWMutex
	ids   []string // ascending: ids are time-ordered
	ready chan struct{}
	once  sync.Once
}

func newTaskIndex() *taskIndex { return &taskIndex{ready: make(chan struct{})} }

func (x *taskIndex) add(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i, found := slices.BinarySearch(x.ids, id)
	if !found {
		x.ids = slices.Insert(x.ids, i, id)
	}
}

func (x *taskIndex) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, found := slices.BinarySearch(x.ids, id); found {
		x.ids = slices.Delete(x.ids, i, i+1)
	}
}

// markReady records that the initial read is complete.
func (x *taskIndex) markReady() { x.once.Do(func() { close(x.ready) }) }

// wait blocks until the initial read is complete.
func (x *taskIndex) wait(ctx context.Context) error {
	select {
	case <-x.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// before returns up to n ids older than after (all ids when after is
// empty), newest first.
func (x *taskIndex) before(after string, n int) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	end := len(x.ids)
	if after != "" {
		end = sort.SearchStrings(x.ids, after)
	}
	out := make([]string, 0, min(n, end))
	for i := end - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, x.ids[i])
	}
	return out
}

// all returns every id, oldest first.
func (x *taskIndex) all() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Clone(x.ids)
}

// watchIndex keeps the index current until ctx ends. The first nil entry
// of the watch marks the end of the initial values.
func (s *Service) watchIndex(ctx context.Context, w jetstream.KeyWatcher) {
	defer s.wg.Done()
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				s.index.markReady()
				continue
			}
			id := strings.TrimPrefix(e.Key(), "task.")
			if e.Operation() == jetstream.KeyValuePut {
				s.index.add(id)
			} else {
				s.index.remove(id)
			}
		}
	}
}

// startIndex starts the watch that builds and maintains the index.
func (s *Service) startIndex() error {
	s.index = newTaskIndex()
	return s.startIndexWatch()
}

// startIndexWatch (re)starts the watch feeding the index, stopping the
// previous one. Only Start and the store monitor call it.
func (s *Service) startIndexWatch() error {
	ctx, cancel := context.WithCancel(s.ctx)
	w, err := s.kv.Watch(ctx, "task.*", jetstream.MetaOnly())
	if err != nil {
		cancel()
		return fmt.Errorf("watch task keys: %w", err)
	}
	if s.stopIndex != nil {
		s.stopIndex()
	}
	s.stopIndex = cancel
	s.wg.Add(1)
	go s.watchIndex(ctx, w)
	return nil
}
