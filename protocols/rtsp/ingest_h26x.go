package rtsp

import (
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"mps/internal/stream"
)

// h264Params tracks the newest SPS/PPS of an H.264 stream (from the SDP,
// then from in-band NAL units) so that every IDR can be made
// self-contained: downstream muxers and late-joining players need the
// parameter sets next to the key frame.
type h264Params struct{ sps, pps []byte }

// complete drops access unit delimiters and empty NAL units (muxers add
// their own AUDs), records in-band parameter sets and prepends the current
// ones to an IDR that lacks them.
func (p *h264Params) complete(au [][]byte) ([][]byte, bool) {
	out := make([][]byte, 0, len(au)+2)
	var hasSPS, hasPPS, idr bool
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		case h264.NALUTypeSPS:
			p.sps, hasSPS = n, true
		case h264.NALUTypePPS:
			p.pps, hasPPS = n, true
		case h264.NALUTypeIDR:
			idr = true
		}
		out = append(out, n)
	}
	if idr && (!hasSPS || !hasPPS) && p.sps != nil && p.pps != nil {
		out = append([][]byte{p.sps, p.pps}, stripParams264(out)...)
	}
	return out, idr
}

func stripParams264(au [][]byte) [][]byte {
	out := au[:0:0]
	for _, n := range au {
		t := h264.NALUType(n[0] & 0x1f)
		if t != h264.NALUTypeSPS && t != h264.NALUTypePPS {
			out = append(out, n)
		}
	}
	return out
}

func newH264Ingest(f *format.H264) (*ingestTrack, error) {
	sps, pps := f.SafeParams()
	tr, err := stream.NewH264Track(sps, pps)
	if err != nil {
		// An unreadable SPS in the SDP costs only the picture size; the
		// in-band one will be used for decoding.
		tr = &stream.Track{Codec: stream.CodecH264, ClockRate: 90000, SPS: sps, PPS: pps}
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.264 decoder: %w", err)
	}
	params := &h264Params{sps: sps, pps: pps}
	var dtsx h264.DTSExtractor
	dtsx.Initialize()
	var gate videoKeyGate
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		au, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		au, key := params.complete(au)
		au = dropEmptyNALUs(au) // also an empty parameter set from a malformed SDP
		if len(au) == 0 || !gate.pass(key) {
			return nil, nil
		}
		dts, err := dtsx.Extract(au, pts)
		if err != nil {
			return nil, fmt.Errorf("H.264 DTS: %w", err)
		}
		return []*stream.Unit{{
			Track: tr, PTS: ticksToDuration(pts, 90000), DTS: ticksToDuration(dts, 90000),
			Key: key, Payload: au, Time: now,
		}}, nil
	}}, nil
}

// h265Params is h264Params for H.265 (VPS, SPS, PPS).
type h265Params struct{ vps, sps, pps []byte }

func (p *h265Params) complete(au [][]byte) ([][]byte, bool) {
	out := make([][]byte, 0, len(au)+3)
	var hasVPS, hasSPS, hasPPS bool
	for _, n := range au {
		if len(n) < 2 {
			continue
		}
		switch h265.NALUType((n[0] >> 1) & 0x3f) {
		case h265.NALUType_AUD_NUT:
			continue
		case h265.NALUType_VPS_NUT:
			p.vps, hasVPS = n, true
		case h265.NALUType_SPS_NUT:
			p.sps, hasSPS = n, true
		case h265.NALUType_PPS_NUT:
			p.pps, hasPPS = n, true
		}
		out = append(out, n)
	}
	key := h265.IsRandomAccess(out)
	if key && (!hasVPS || !hasSPS || !hasPPS) && p.vps != nil && p.sps != nil && p.pps != nil {
		rest := out[:0:0]
		for _, n := range out {
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT:
			default:
				rest = append(rest, n)
			}
		}
		out = append([][]byte{p.vps, p.sps, p.pps}, rest...)
	}
	return out, key
}

func newH265Ingest(f *format.H265) (*ingestTrack, error) {
	vps, sps, pps := f.SafeParams()
	tr, err := stream.NewH265Track(vps, sps, pps)
	if err != nil {
		tr = &stream.Track{Codec: stream.CodecH265, ClockRate: 90000, VPS: vps, SPS: sps, PPS: pps}
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, fmt.Errorf("H.265 decoder: %w", err)
	}
	params := &h265Params{vps: vps, sps: sps, pps: pps}
	var dtsx h265.DTSExtractor
	dtsx.Initialize()
	var gate videoKeyGate
	return &ingestTrack{track: tr, decode: func(pkt *rtp.Packet, pts int64, now time.Time) ([]*stream.Unit, error) {
		au, err := dec.Decode(pkt)
		if err != nil {
			return nil, err
		}
		au, key := params.complete(au)
		au = dropEmptyNALUs(au) // also an empty parameter set from a malformed SDP
		if len(au) == 0 || !gate.pass(key) {
			return nil, nil
		}
		dts, err := dtsx.Extract(au, pts)
		if err != nil {
			return nil, fmt.Errorf("H.265 DTS: %w", err)
		}
		return []*stream.Unit{{
			Track: tr, PTS: ticksToDuration(pts, 90000), DTS: ticksToDuration(dts, 90000),
			Key: key, Payload: au, Time: now,
		}}, nil
	}}, nil
}

// dropEmptyNALUs removes zero-length NAL units, which a malformed
// aggregation packet can yield and which the codec helpers (parameter-set
// and DTS extraction) index without checking.
func dropEmptyNALUs(au [][]byte) [][]byte {
	out := au[:0]
	for _, n := range au {
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}
