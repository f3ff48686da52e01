package rtmp

import (
	"sync"

	"mps/internal/stream"
)

// shareUnits is how many recent units' tag bodies a tagShare keeps: about
// 3 s of a 30 fps stream with audio, enough for players near the head and
// for late joiners starting at the last key frame; an older unit's bodies
// are simply built again.
const shareUnits = 256

// tagShare holds the FLV tag bodies made for a stream's recent units, so
// that all RTMP players of the stream build each body once and send the
// same bytes. Only bodies that depend on nothing but the unit go here;
// timestamps and sequence headers stay with each player's muxer.
type tagShare struct {
	mu     sync.Mutex
	refs   int
	bodies map[*stream.Unit][][]byte
	order  [shareUnits]*stream.Unit
	next   int
}

// get returns u's bodies, building them with build the first time.
// A nil share builds every time.
func (t *tagShare) get(u *stream.Unit, build func() [][]byte) [][]byte {
	if t == nil {
		return build()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.bodies[u]; ok {
		return b
	}
	b := build()
	if old := t.order[t.next]; old != nil {
		delete(t.bodies, old)
	}
	t.order[t.next] = u
	t.next = (t.next + 1) % shareUnits
	t.bodies[u] = b
	return b
}

// tagShares gives the players of one stream one tagShare, and drops it
// when the last of them leaves.
type tagShares struct {
	mu sync.Mutex
	m  map[*stream.Stream]*tagShare
}

func (ts *tagShares) acquire(s *stream.Stream) *tagShare {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = make(map[*stream.Stream]*tagShare)
	}
	t := ts.m[s]
	if t == nil {
		t = &tagShare{bodies: make(map[*stream.Unit][][]byte, shareUnits)}
		ts.m[s] = t
	}
	t.refs++
	return t
}

func (ts *tagShares) release(s *stream.Stream) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t := ts.m[s]; t != nil {
		if t.refs--; t.refs == 0 {
			delete(ts.m, s)
		}
	}
}
