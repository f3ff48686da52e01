// Package events is the in-process bus on which MPS parts announce what
// happened — a stream published, a recording segment completed, a task
// finished — so that other parts (webhooks, the queue, schemes, metrics) can
// react without the announcer knowing them.
package events

import (
	"sync"
	"sync/atomic"
	"time"
)

// Event types published by the server's parts.
const (
	StreamPublished   = "stream.published"
	StreamUnpublished = "stream.unpublished"
)

// Event is one thing that happened. Data holds type-specific fields and is
// marshalled as is into webhook bodies.
type Event struct {
	Type string         `json:"type"`
	Time time.Time      `json:"time"`
	Path string         `json:"path,omitempty"`
	Data map[string]any `json:"data,omitempty"`
}

// Bus fans events out to subscribers. Publishing never blocks: a subscriber
// whose buffer is full misses the event, and the miss is counted, because a
// stuck webhook must not stall a publisher.
type Bus struct {
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	dropped atomic.Uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: make(map[*Subscription]struct{})} }

// Subscription receives events on C until Close.
type Subscription struct {
	// C delivers the events, in publishing order.
	C   <-chan Event
	c   chan Event
	bus *Bus
}

// Subscribe returns a subscription with a buffer of n events.
func (b *Bus) Subscribe(n int) *Subscription {
	c := make(chan Event, n)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close stops delivery; C is not closed so a reader in select never sees a
// zero Event.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
}

// Publish delivers e to every subscriber that has room. A zero Time is set
// to now.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Dropped returns how many deliveries were missed by full subscribers.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }
