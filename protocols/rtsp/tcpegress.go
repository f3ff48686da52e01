package rtsp

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/pion/rtcp"

	"mps/internal/stream"
)

// senderReportPeriod is how often a player gets an RTCP sender report per
// track, gortsplib's own period.
const senderReportPeriod = 10 * time.Second

// tcpTrack is one track of an RTSP/TCP player: its interleaved channel
// and the sequence numbers, SSRC and counts of its RTP flow.
type tcpTrack struct {
	ch           byte
	ssrc         uint32
	seq          uint16
	pkts, octets uint32
	lastSR       time.Time
}

// tcpEgress writes a player's RTP over its RTSP/TCP connection itself,
// past gortsplib's per-packet write queue: each unit's packets, framed
// once for the whole stream (rtpShare), are copied into one buffer with
// the player's channels, sequence numbers and SSRC, and sent in one write
// from the player's own goroutine. A sender report rides in the same
// write when it is due.
//
// gortsplib still writes RTSP responses on the same connection (keep
// alive requests during play); a socket write is atomic with respect to
// other writes, so each of ours stays whole.
type tcpEgress struct {
	conn    net.Conn
	timeout time.Duration
	tracks  map[*stream.Track]*tcpTrack
	bufs    *sync.Pool
}

// write sends unit r of track t; a track the player did not set up is
// skipped.
func (e *tcpEgress) write(t *stream.Track, r *rtpUnit) error {
	tt := e.tracks[t]
	if tt == nil || len(r.offs) == 0 {
		return nil
	}
	bp := e.bufs.Get().(*[]byte)
	buf := (*bp)[:0]
	now := time.Now()
	if tt.pkts > 0 && now.Sub(tt.lastSR) >= senderReportPeriod {
		buf = tt.appendSenderReport(buf, r)
		tt.lastSR = now
	} else if tt.pkts == 0 {
		tt.lastSR = now
	}
	start := len(buf)
	buf = append(buf, r.data...)
	for _, o := range r.offs {
		f := buf[start+o:]
		f[frameCh] = tt.ch
		binary.BigEndian.PutUint16(f[frameSeq:], tt.seq)
		binary.BigEndian.PutUint32(f[frameSSRC:], tt.ssrc)
		tt.seq++
	}
	tt.pkts += uint32(len(r.offs))
	tt.octets += uint32(r.payload)
	_ = e.conn.SetWriteDeadline(now.Add(e.timeout))
	_, err := e.conn.Write(buf)
	*bp = buf[:0]
	e.bufs.Put(bp)
	return err
}

// appendSenderReport appends an RTCP sender report for the track, tying
// the RTP time of r to its wall-clock time, on the track's RTCP channel.
func (tt *tcpTrack) appendSenderReport(buf []byte, r *rtpUnit) []byte {
	sr := rtcp.SenderReport{
		SSRC:        tt.ssrc,
		NTPTime:     ntpTime(r.ntp),
		RTPTime:     r.ts,
		PacketCount: tt.pkts,
		OctetCount:  tt.octets,
	}
	b, err := sr.Marshal()
	if err != nil {
		return buf
	}
	buf = append(buf, '$', tt.ch+1, 0, 0)
	binary.BigEndian.PutUint16(buf[len(buf)-2:], uint16(len(b)))
	return append(buf, b...)
}

// ntpTime is t in the NTP format of RTCP: seconds since 1900 in the high
// 32 bits, the fraction in the low ones.
func ntpTime(t time.Time) uint64 {
	s := uint64(t.UnixNano()) + 2208988800*1e9
	return (s/1e9)<<32 | ((s%1e9)<<32)/1e9
}
