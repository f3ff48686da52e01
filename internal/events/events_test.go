package events

import "testing"

// TestBusNeverBlocks checks the bus's promise: a full subscriber misses
// events (counted) instead of stalling the publisher, others still get
// them, and a closed subscription gets nothing more.
func TestBusNeverBlocks(t *testing.T) {
	b := NewBus()
	slow := b.Subscribe(1)
	fast := b.Subscribe(10)
	for i := 0; i < 3; i++ {
		b.Publish(Event{Type: StreamPublished, Path: "live/a"})
	}
	if len(slow.C) != 1 || len(fast.C) != 3 || b.Dropped() != 2 {
		t.Fatalf("slow %d, fast %d, dropped %d; want 1, 3, 2", len(slow.C), len(fast.C), b.Dropped())
	}
	if e := <-fast.C; e.Time.IsZero() || e.Path != "live/a" {
		t.Fatalf("event %+v: time not set", e)
	}
	fast.Close()
	b.Publish(Event{Type: StreamUnpublished})
	if len(fast.C) != 2 {
		t.Fatalf("closed subscription received an event")
	}
}
