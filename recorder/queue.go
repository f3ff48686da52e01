package recorder

import (
	"sync"

	"mps/internal/stream"
)

// unitOverhead is what a queued unit costs beyond its payload (the Unit
// struct, slice headers), so a queue of tiny audio units is bounded too.
const unitOverhead = 96

// item is one entry of the queue: a unit, or a gap telling the writer that
// units were lost here and the segment must be closed.
type item struct {
	u   *stream.Unit
	gap string // reason, when this item marks a loss
}

// queue is the recorder's bounded buffer between the ring reader, which
// must never wait, and the disk writer, which may. Bounded by bytes: when a
// push would exceed the bound the unit is dropped, a gap is queued, and
// every unit up to the next start point is dropped too, so what reaches the
// writer is always decodable.
type queue struct {
	max      int64
	hasVideo bool // start points are video keyframes

	mu       sync.Mutex
	items    []item
	head     int
	bytes    int64
	dropping bool
	closed   bool
	wake     chan struct{}

	c *counters // where losses are counted
}

func newQueue(max int64, hasVideo bool, c *counters) *queue {
	return &queue{max: max, hasVideo: hasVideo, wake: make(chan struct{}, 1), c: c}
}

func (q *queue) lose(units, bytes uint64) {
	q.c.lostUnits.Add(units)
	q.c.lostBytes.Add(bytes)
}

// isStart reports whether a recording may begin at u.
func isStart(u *stream.Unit, hasVideo bool) bool {
	return u.Key && (!hasVideo || u.Track.IsVideo())
}

func unitCost(u *stream.Unit) int64 { return int64(u.Size()) + unitOverhead }

// push appends u without ever blocking. It reports whether the queue
// overflowed with this unit (and so started dropping).
func (q *queue) push(u *stream.Unit) (overflowed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	cost := unitCost(u)
	if q.dropping {
		if !isStart(u, q.hasVideo) || q.bytes+cost > q.max {
			q.lose(1, uint64(u.Size()))
			return false
		}
		q.dropping = false
	} else if q.bytes+cost > q.max {
		q.dropping = true
		q.lose(1, uint64(u.Size()))
		q.append(item{gap: "queue overflow: disk too slow"})
		return true
	}
	q.bytes += cost
	q.append(item{u: u})
	return false
}

// pushGap records a loss that happened before the queue (a ring overrun);
// the next unit the reader hands over is a start point already.
func (q *queue) pushGap(reason string, units uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.lose(units, 0)
	q.append(item{gap: reason})
}

func (q *queue) append(it item) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.items = append(q.items, it)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop returns the oldest item, waiting for one. ok is false once the queue
// is closed and empty.
func (q *queue) pop() (it item, ok bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			it = q.items[q.head]
			q.items[q.head] = item{}
			q.head++
			if it.u != nil {
				q.bytes -= unitCost(it.u)
			}
			q.mu.Unlock()
			return it, true
		}
		if q.closed {
			q.mu.Unlock()
			return item{}, false
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// close lets the writer drain what is queued and then stop.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// queued returns the payload bytes waiting for the writer.
func (q *queue) queued() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
