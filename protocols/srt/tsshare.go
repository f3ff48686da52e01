package srt

import (
	"bytes"
	"sync"

	"mps/internal/stream"
	"mps/internal/tsconv"
)

// shareUnits is how many recent units' MPEG-TS a tsShare keeps: about
// 3 s of a 30 fps stream with audio, enough for readers near the head and
// for late joiners starting at the last key frame. An older unit is muxed
// again (each reader writes its own continuity counters, so nothing
// depends on which copy it got).
const shareUnits = 256

// tsShare muxes the units of one stream into MPEG-TS once for all its SRT
// readers: one muxer per stream, and the TS packets of the recent units
// kept for the readers that send them after the first. A unit's packets
// are never modified once made; each reader copies them to write its own
// continuity counters.
type tsShare struct {
	mu    sync.Mutex
	refs  int
	mux   *tsconv.Muxer
	out   bytes.Buffer // what mux writes for the unit being muxed
	cache bool
	units map[*stream.Unit][]byte
	order [shareUnits]*stream.Unit
	next  int
}

// newTSShare makes a share for tracks; a share without cache muxes each
// unit as it comes (one reader, e.g. a push).
func newTSShare(tracks []*stream.Track, cache bool) (*tsShare, error) {
	s := &tsShare{cache: cache, units: make(map[*stream.Unit][]byte)}
	mux, err := tsconv.NewMuxer(&s.out, tracks)
	if err != nil {
		return nil, err
	}
	s.mux = mux
	return s, nil
}

// get returns the TS packets of u (none for a unit MPEG-TS does not carry).
func (s *tsShare) get(u *stream.Unit) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.units[u]; ok {
		return b, nil
	}
	s.out.Reset()
	if err := s.mux.WriteUnit(u); err != nil {
		return nil, err
	}
	b := bytes.Clone(s.out.Bytes())
	if !s.cache {
		return b, nil
	}
	if old := s.order[s.next]; old != nil {
		delete(s.units, old)
	}
	s.order[s.next] = u
	s.next = (s.next + 1) % shareUnits
	s.units[u] = b
	return b, nil
}

// tsShares gives the readers of one stream one tsShare, and drops it when
// the last of them leaves.
type tsShares struct {
	mu sync.Mutex
	m  map[*stream.Stream]*tsShare
}

func (ss *tsShares) acquire(st *stream.Stream) (*tsShare, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = make(map[*stream.Stream]*tsShare)
	}
	s := ss.m[st]
	if s == nil {
		var err error
		if s, err = newTSShare(st.Tracks(), true); err != nil {
			return nil, err
		}
		ss.m[st] = s
	}
	s.refs++
	return s, nil
}

func (ss *tsShares) release(st *stream.Stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.m[st]; s != nil {
		if s.refs--; s.refs == 0 {
			delete(ss.m, st)
		}
	}
}

// ccRewriter gives one reader its own continuity counters: the shared
// packets carry the stream muxer's, which jump where a reader joins or
// skips.
type ccRewriter struct{ next map[uint16]byte }

// rewrite sets the continuity counter of every 188-byte packet of ts.
func (c *ccRewriter) rewrite(ts []byte) {
	if c.next == nil {
		c.next = make(map[uint16]byte)
	}
	for p := ts; len(p) >= 188; p = p[188:] {
		pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
		cc := c.next[pid]
		if p[3]&0x10 == 0 { // no payload: the counter does not advance
			p[3] = p[3]&0xf0 | (cc-1)&0x0f
			continue
		}
		p[3] = p[3]&0xf0 | cc
		c.next[pid] = (cc + 1) & 0x0f
	}
}

// startsWithPAT tells whether ts opens with a PAT, where a reader can
// start.
func startsWithPAT(ts []byte) bool {
	return len(ts) >= 188 && ts[0] == 0x47 && ts[1]&0x1f == 0 && ts[2] == 0
}
