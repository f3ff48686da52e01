package rtsp

import (
	"encoding/binary"
	"sync"
	"time"

	"mps/internal/stream"
)

// shareUnits is how many recent units' RTP packets an rtpShare keeps:
// about 3 s of a 30 fps stream with audio, enough for players near the
// head and for late joiners starting at the last key frame. An older
// unit's packets are simply made again (their sequence numbers and SSRC
// are each player's own, so nothing depends on which copy a player got).
const shareUnits = 256

// Offsets in a framed packet: the 4-byte interleaved frame header ($,
// channel, length), then the RTP header with its sequence number at 2 and
// its SSRC at 8.
const (
	frameHeader = 4
	frameCh     = 1
	frameSeq    = frameHeader + 2
	frameSSRC   = frameHeader + 8
)

// rtpUnit is one unit packetized into RTP, as the bytes an RTSP/TCP player
// is sent: each packet in an interleaved frame, back to back. Channel,
// sequence number and SSRC are left zero; each player writes its own into
// its copy. Its contents are never modified once built, so all players
// of a stream read the same rtpUnit.
type rtpUnit struct {
	data    []byte
	offs    []int // start of each frame in data
	payload int   // RTP payload bytes, for sender reports
	ts      uint32
	ntp     time.Time
}

// frame returns the i-th framed packet.
func (r *rtpUnit) frame(i int) []byte {
	end := len(r.data)
	if i+1 < len(r.offs) {
		end = r.offs[i+1]
	}
	return r.data[r.offs[i]:end]
}

// rtpShare packetizes the units of one stream once for all its RTSP
// players: one packetizer per stream (its parameter-set state follows
// the stream), and the packets of the recent units kept for the players
// that read them after the first.
type rtpShare struct {
	mu    sync.Mutex
	refs  int
	pk    *packetizer
	units map[*stream.Unit]*rtpUnit
	order [shareUnits]*stream.Unit
	next  int
}

// get returns the packets of u, made the first time a player asks. A
// unit of a track RTSP does not carry gives nil.
func (s *rtpShare) get(u *stream.Unit) (*rtpUnit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.units[u]; ok {
		return r, nil
	}
	r, err := s.build(u)
	if err != nil {
		return nil, err
	}
	if old := s.order[s.next]; old != nil {
		delete(s.units, old)
	}
	s.order[s.next] = u
	s.next = (s.next + 1) % shareUnits
	s.units[u] = r
	return r, nil
}

func (s *rtpShare) build(u *stream.Unit) (*rtpUnit, error) {
	medi, pkts, ntp, err := s.pk.packets(u)
	if err != nil || medi == nil {
		return nil, err
	}
	r := &rtpUnit{ntp: ntp, offs: make([]int, len(pkts))}
	size := 0
	for _, p := range pkts {
		size += frameHeader + p.MarshalSize()
	}
	r.data = make([]byte, size)
	at := 0
	for i, p := range pkts {
		n, err := p.MarshalTo(r.data[at+frameHeader:])
		if err != nil {
			return nil, err
		}
		r.data[at] = '$'
		binary.BigEndian.PutUint16(r.data[at+2:], uint16(n))
		r.offs[i] = at
		at += frameHeader + n
		r.payload += len(p.Payload)
	}
	if len(pkts) > 0 {
		r.ts = pkts[0].Timestamp
	}
	return r, nil
}

// rtpShares gives the players of one stream one rtpShare, and drops it
// when the last of them leaves.
type rtpShares struct {
	mu sync.Mutex
	m  map[*stream.Stream]*rtpShare
}

func (ss *rtpShares) acquire(st *stream.Stream) (*rtpShare, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = make(map[*stream.Stream]*rtpShare)
	}
	s := ss.m[st]
	if s == nil {
		pk, err := newPacketizer(st.Tracks())
		if err != nil {
			return nil, err
		}
		s = &rtpShare{pk: pk, units: make(map[*stream.Unit]*rtpUnit, shareUnits)}
		ss.m[st] = s
	}
	s.refs++
	return s, nil
}

func (ss *rtpShares) release(st *stream.Stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.m[st]; s != nil {
		if s.refs--; s.refs == 0 {
			delete(ss.m, st)
		}
	}
}
