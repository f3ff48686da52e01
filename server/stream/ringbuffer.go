package stream

import (
	"sync"
	"sync/atomic"
)

// ring is a fixed-size, power-of-two array of unit pointers with one writer
// and any number of readers, each holding its own cursor (a sequence number).
// A slot holds the unit whose seq masks to it; a reader detects that its slot
// was overwritten by comparing the unit's seq with its cursor, so reading
// needs no lock. Locks are taken only to sleep and to wake sleepers.
type ring struct {
	slots []atomic.Pointer[Unit]
	mask  uint64

	head    atomic.Uint64 // seq of the next unit to write
	lastKey atomic.Uint64 // seq+1 of the newest start point, 0 if none

	data          *sync.Cond // readers wait here for new units
	space         *sync.Cond // a lossless writer waits here for readers
	waiting       atomic.Int32
	writerWaiting atomic.Bool
}

func (g *ring) init(size int, mu *sync.Mutex) {
	if size <= 0 {
		size = DefaultRingSize
	}
	n := 1
	for n < size {
		n <<= 1
	}
	g.slots = make([]atomic.Pointer[Unit], n)
	g.mask = uint64(n - 1)
	g.data = sync.NewCond(mu)
	g.space = sync.NewCond(mu)
}

func (g *ring) size() uint64 { return g.mask + 1 }

// push publishes u as the next unit. key marks a unit readers may start at.
func (g *ring) push(u *Unit, key bool) {
	seq := g.head.Load()
	u.seq = seq
	g.slots[seq&g.mask].Store(u)
	if key {
		g.lastKey.Store(seq + 1)
	}
	g.head.Store(seq + 1)
	if g.waiting.Load() > 0 {
		g.data.L.Lock()
		g.data.Broadcast()
		g.data.L.Unlock()
	}
}

// lastKeyInRing returns the seq of the newest start point if it has not
// been overwritten yet.
func (g *ring) lastKeyInRing(head uint64) (uint64, bool) {
	k := g.lastKey.Load()
	if k == 0 {
		return 0, false
	}
	k--
	if head-k >= g.size() {
		return 0, false
	}
	return k, true
}
