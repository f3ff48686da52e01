package stream

import (
	"sync"
	"sync/atomic"
)

// ring is a fixed-size, power-of-two array of unit pointers with one writer
// and any number of readers, each holding its own cursor (a sequence number).
// A slot holds the unit whose seq masks to it, with that seq beside it under
// a seqlock, so reading needs no lock and a reader detects that its slot was
// overwritten by comparing the slot's seq with its cursor. Keeping the seq in
// the slot, not the unit, lets one unit be written into several streams (a
// derived stream shares the source's video units). Locks are taken only to
// sleep and to wake sleepers.
type ring struct {
	slots []slot
	mask  uint64

	head    atomic.Uint64 // seq of the next unit to write
	lastKey atomic.Uint64 // seq+1 of the newest start point, 0 if none
	tail    uint64        // writer only: slots below it were released

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
	g.slots = make([]slot, n)
	g.mask = uint64(n - 1)
	g.data = sync.NewCond(mu)
	g.space = sync.NewCond(mu)
}

func (g *ring) size() uint64 { return g.mask + 1 }

// push publishes u as the next unit. key marks a unit readers may start at.
func (g *ring) push(u *Unit, key bool) {
	seq := g.head.Load()
	g.slots[seq&g.mask].store(seq, u)
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

// release drops the ring's references to units below seq low, so their
// payloads can be collected before the writer wraps around to them. Only
// the writer calls it, with a low no reader still needs.
func (g *ring) release(low uint64) {
	head := g.head.Load()
	if head > g.size() {
		g.tail = max(g.tail, head-g.size())
	}
	for ; g.tail < low; g.tail++ {
		g.slots[g.tail&g.mask].store(g.tail, nil)
	}
}

// slot is one ring position: a unit and its sequence number, published as a
// seqlock (seq is set to writing while the unit changes).
type slot struct {
	seq atomic.Uint64
	u   atomic.Pointer[Unit]
}

const writing = ^uint64(0)

func (s *slot) store(seq uint64, u *Unit) {
	s.seq.Store(writing)
	s.u.Store(u)
	s.seq.Store(seq)
}

// load returns the unit if the slot still holds sequence number seq.
func (s *slot) load(seq uint64) *Unit {
	if s.seq.Load() != seq {
		return nil
	}
	u := s.u.Load()
	if s.seq.Load() != seq {
		return nil
	}
	return u
}
