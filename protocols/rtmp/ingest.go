package rtmp

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/vp9"

	"mps/internal/stream"
)

// maxQueuedUnits bounds the units held while the tracks are not all known.
const maxQueuedUnits = 512

// publishError wraps the hub's refusal so the caller can answer the client
// with the matching status before hanging up.
type publishError struct{ err error }

func (e *publishError) Error() string { return e.err.Error() }
func (e *publishError) Unwrap() error { return e.err }

// ingest turns a publisher's FLV tags into stream units. It learns the
// tracks from the sequence headers, waits for every track onMetaData
// announces (or, without metadata, for audio and video) at most wait after
// the first media tag, then publishes to the hub and writes what it held.
// It is used by one goroutine: a server connection's or a Pull's.
type ingest struct {
	hub  stream.Hub
	req  stream.Request
	log  *slog.Logger
	wait time.Duration

	first                time.Time
	wantVideo, wantAudio bool

	video, audio *stream.Track
	nalLen       int      // NAL unit length prefix size of the video frames
	paramSets    [][]byte // changed parameter sets, for the next key frame
	queue        []*stream.Unit
	s            *stream.Stream
	dropped      int
}

func newIngest(hub stream.Hub, req stream.Request, wait time.Duration, log *slog.Logger) *ingest {
	return &ingest{hub: hub, req: req, log: log, wait: wait, wantVideo: true, wantAudio: true, nalLen: 4}
}

// stream returns the published stream, nil before publication.
func (in *ingest) stream() *stream.Stream { return in.s }

// onMetadata reads which tracks to wait for from onMetaData properties.
func (in *ingest) onMetadata(meta map[string]any) {
	_, v := meta["videocodecid"]
	_, a := meta["audiocodecid"]
	if !v && !a {
		return
	}
	in.wantVideo = v && nonZero(meta["videocodecid"])
	in.wantAudio = a && nonZero(meta["audiocodecid"])
}

func nonZero(v any) bool {
	switch x := v.(type) {
	case float64:
		return x != 0
	case string:
		return x != ""
	case bool:
		return x
	}
	return v != nil
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// onVideo handles one video message body with its RTMP timestamp.
func (in *ingest) onVideo(ctx context.Context, ts uint32, body []byte) error {
	t, err := parseVideoTag(body)
	if err != nil {
		in.drop("bad video tag", err)
		return nil
	}
	if t.Codec == "" || t.FrameType == frameCommand {
		return nil
	}
	if in.first.IsZero() {
		in.first = time.Now()
	}
	if in.video != nil && in.video.Codec != t.Codec {
		if in.s != nil {
			return fmt.Errorf("video codec changed from %s to %s", in.video.Codec, t.Codec)
		}
		in.video = nil
	}
	switch t.PacketType {
	case pktSequenceStart:
		return in.videoConfig(ctx, t)
	case pktCodedFrames:
		return in.videoFrame(ctx, ts, t)
	}
	return nil
}

func (in *ingest) videoConfig(ctx context.Context, t videoTag) error {
	var tr *stream.Track
	var sets [][]byte
	var err error
	nalLen := 4
	switch t.Codec {
	case stream.CodecH264:
		var sps, pps [][]byte
		if sps, pps, nalLen, err = parseAVCC(t.Data); err == nil {
			tr, err = stream.NewH264Track(sps[0], pps[0])
			sets = [][]byte{sps[0], pps[0]}
		}
	case stream.CodecH265:
		var vps, sps, pps [][]byte
		if vps, sps, pps, nalLen, err = parseHVCC(t.Data); err == nil {
			tr, err = stream.NewH265Track(vps[0], sps[0], pps[0])
			sets = [][]byte{vps[0], sps[0], pps[0]}
		}
	case stream.CodecAV1:
		var seq []byte
		if seq, err = parseAV1C(t.Data); err == nil {
			tr, err = newAV1Track(seq)
			sets = [][]byte{seq}
		}
	case stream.CodecVP9:
		tr = &stream.Track{Codec: stream.CodecVP9, ClockRate: 90000, CodecData: append([]byte(nil), t.Data...)}
	}
	if err != nil {
		in.drop("bad video sequence header", err)
		return nil
	}
	in.setVideo(tr, sets)
	in.nalLen = nalLen
	return in.maybePublish(ctx)
}

func newAV1Track(seq []byte) (*stream.Track, error) {
	var h av1.SequenceHeader
	if err := h.Unmarshal(seq); err != nil {
		return nil, fmt.Errorf("av1 sequence header: %w", err)
	}
	return &stream.Track{Codec: stream.CodecAV1, ClockRate: 90000, Width: h.Width(), Height: h.Height(), CodecData: seq}, nil
}

// setVideo installs a video track learnt from a sequence header. Before
// publication the track may still change in place; afterwards tracks are
// immutable, so new parameter sets travel in band with the next key frame.
func (in *ingest) setVideo(tr *stream.Track, sets [][]byte) {
	switch {
	case in.video == nil && in.s != nil:
		// A track that was not announced in time: the stream's track list
		// is fixed, so it is left out.
	case in.video == nil:
		in.video = tr
	case in.s == nil:
		*in.video = *tr
	case !sameSets(in.video, tr):
		in.paramSets = sets
	}
}

func sameSets(a, b *stream.Track) bool {
	return string(a.VPS) == string(b.VPS) && string(a.SPS) == string(b.SPS) &&
		string(a.PPS) == string(b.PPS) && string(a.CodecData) == string(b.CodecData)
}

func (in *ingest) videoFrame(ctx context.Context, ts uint32, t videoTag) error {
	key := t.FrameType == frameKey
	var payload [][]byte
	var err error
	switch t.Codec {
	case stream.CodecH264, stream.CodecH265:
		if in.video == nil {
			return nil
		}
		payload, err = splitNALUs(t.Data, in.nalLen)
	case stream.CodecAV1:
		var bs av1.Bitstream
		if err = bs.Unmarshal(t.Data); err == nil {
			for _, obu := range bs {
				if av1.OBUType((obu[0]>>3)&0x0f) != av1.OBUTypeTemporalDelimiter {
					payload = append(payload, obu)
				}
			}
			if in.video == nil && key {
				// No sequence start: take the sequence header in band.
				if seq, e := findAV1SequenceHeader(t.Data); e == nil {
					if tr, e := newAV1Track(seq); e == nil {
						in.setVideo(tr, nil)
					}
				}
			}
		}
		if err == nil && key && in.video != nil && !av1.IsRandomAccess2(payload) {
			payload = append([][]byte{in.video.CodecData}, payload...)
		}
	case stream.CodecVP9:
		if key && (in.video == nil || (in.s == nil && in.video.Width == 0)) {
			// The picture size is only in the frames: learn it before publishing.
			var h vp9.Header
			if h.Unmarshal(t.Data) == nil {
				tr := &stream.Track{Codec: stream.CodecVP9, ClockRate: 90000, Width: h.Width(), Height: h.Height()}
				if in.video != nil {
					tr.CodecData = in.video.CodecData
				}
				in.setVideo(tr, nil)
			}
		}
		payload = [][]byte{t.Data}
	}
	if err != nil {
		in.drop("bad video frame", err)
		return nil
	}
	if in.video == nil || len(payload) == 0 {
		return nil
	}
	if key && len(in.paramSets) > 0 {
		payload = append(append([][]byte(nil), in.paramSets...), payload...)
		in.paramSets = nil
	} else if key {
		payload = in.video.WithParams(payload) // every keyframe decodable on its own
	}
	dts := ms(int64(ts))
	return in.write(ctx, &stream.Unit{
		Track: in.video, DTS: dts, PTS: dts + ms(int64(t.CompositionTime)),
		Key: key, Payload: payload, Time: time.Now(),
	})
}

// onAudio handles one audio message body with its RTMP timestamp.
func (in *ingest) onAudio(ctx context.Context, ts uint32, body []byte) error {
	t, err := parseAudioTag(body)
	if err != nil {
		in.drop("bad audio tag", err)
		return nil
	}
	if t.Codec == "" {
		return nil
	}
	if in.first.IsZero() {
		in.first = time.Now()
	}
	if in.audio != nil && in.audio.Codec != t.Codec {
		if in.s != nil {
			return fmt.Errorf("audio codec changed from %s to %s", in.audio.Codec, t.Codec)
		}
		in.audio = nil
	}
	switch t.PacketType {
	case pktSequenceStart:
		var tr *stream.Track
		switch t.Codec {
		case stream.CodecAAC:
			tr, err = stream.NewAACTrack(append([]byte(nil), t.Data...))
		case stream.CodecOpus:
			tr, err = newOpusTrack(t.Data)
		default:
			return nil
		}
		if err != nil {
			in.drop("bad audio sequence header", err)
			return nil
		}
		switch {
		case in.audio == nil && in.s != nil: // too late to join the stream
		case in.audio == nil:
			in.audio = tr
		case in.s == nil:
			*in.audio = *tr
		}
		return in.maybePublish(ctx)
	case pktCodedFrames:
		if in.audio == nil && in.s == nil && (t.Codec == stream.CodecPCMA || t.Codec == stream.CodecPCMU) {
			in.audio = &stream.Track{Codec: t.Codec, ClockRate: 8000, SampleRate: 8000, Channels: 1}
		}
		if in.audio == nil || len(t.Data) == 0 {
			return nil
		}
		d := ms(int64(ts))
		return in.write(ctx, &stream.Unit{Track: in.audio, DTS: d, PTS: d, Key: true, Payload: [][]byte{t.Data}, Time: time.Now()})
	}
	return nil
}

func newOpusTrack(head []byte) (*stream.Track, error) {
	if len(head) < 19 || string(head[:8]) != "OpusHead" {
		return nil, fmt.Errorf("bad OpusHead")
	}
	return &stream.Track{Codec: stream.CodecOpus, ClockRate: 48000, SampleRate: 48000, Channels: int(head[9]),
		CodecData: append([]byte(nil), head...)}, nil
}

func (in *ingest) write(ctx context.Context, u *stream.Unit) error {
	if in.s != nil {
		return in.s.Write(u)
	}
	if len(in.queue) >= maxQueuedUnits {
		in.queue = in.queue[1:]
	}
	in.queue = append(in.queue, u)
	return in.maybePublish(ctx)
}

func (in *ingest) ready() bool {
	if in.video == nil && in.audio == nil {
		return false
	}
	videoKnown := in.video != nil && (in.video.Codec != stream.CodecVP9 || in.video.Width > 0)
	if (videoKnown || !in.wantVideo) && (in.audio != nil || !in.wantAudio) {
		return true
	}
	return time.Since(in.first) >= in.wait || len(in.queue) >= maxQueuedUnits
}

func (in *ingest) maybePublish(ctx context.Context) error {
	if in.s != nil || !in.ready() {
		return nil
	}
	var tracks []*stream.Track
	for _, t := range []*stream.Track{in.video, in.audio} {
		if t != nil {
			tracks = append(tracks, t)
		}
	}
	s, err := in.hub.Publish(ctx, in.req, tracks, stream.Options{})
	if err != nil {
		return &publishError{err}
	}
	in.s = s
	in.log.Info("rtmp publishing", "path", in.req.Path, "tracks", len(tracks))
	q := in.queue
	in.queue = nil
	for _, u := range q {
		if err := s.Write(u); err != nil {
			return err
		}
	}
	return nil
}

// close ends the published stream, if any.
func (in *ingest) close() {
	if in.s != nil {
		in.s.Close()
	}
}

func (in *ingest) drop(what string, err error) {
	in.dropped++
	if in.dropped <= 5 || in.dropped%1000 == 0 {
		in.log.Warn("rtmp: dropped "+what, "path", in.req.Path, "error", err, "dropped", in.dropped)
	}
}
