package rtsp

import (
	"fmt"
	"strconv"

	"github.com/bluenviron/gortsplib/v4/pkg/description"

	"mps/internal/stream"
)

// describeSDP returns the SDP a DESCRIBE of a stream with tracks answers,
// and the tracks left out because RTSP cannot carry them.
//
// The answer is built here rather than from a ServerStream because each
// player gets its own ServerStream, created at its SETUP: a DESCRIBE must
// not hold anything. gortsplib accepts a DESCRIBE answered with a body and
// no stream, and it resolves the SETUP of a player by the "trackID=N"
// control of each media as an index into the medias of the stream that
// SETUP returns. So the medias are listed here exactly as newPacketizer
// lists them for that stream (same tracks, same order), with the controls
// gortsplib itself would give them.
func describeSDP(tracks []*stream.Track) ([]byte, []string, error) {
	pk, err := newPacketizer(tracks)
	if err != nil {
		return nil, nil, err
	}
	desc := &description.Session{Title: pk.desc.Title}
	for i, m := range pk.desc.Medias {
		desc.Medias = append(desc.Medias, &description.Media{
			Type:    m.Type,
			Control: "trackID=" + strconv.Itoa(i),
			Formats: m.Formats,
		})
	}
	b, err := desc.Marshal(false)
	if err != nil {
		return nil, nil, fmt.Errorf("session description: %w", err)
	}
	return b, pk.skipped, nil
}
