package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// llhlsPart is one partial segment listed in a media playlist.
type llhlsPart struct {
	msn, idx int
	uri      string
}

// llhlsPlaylist is what an LL-HLS player needs from a media playlist: its
// parts in order, and the part that comes after the last one listed.
type llhlsPlaylist struct {
	parts             []llhlsPart
	nextMSN, nextPart int
}

// parseLLHLS reads the parts of a media playlist: #EXT-X-PART lines
// belong to the segment whose URI line closes them.
func parseLLHLS(r io.Reader) (llhlsPlaylist, error) {
	var pl llhlsPlaylist
	msn, idx, closed := 0, 0, false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
			n, err := strconv.Atoi(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"))
			if err != nil {
				return pl, fmt.Errorf("bad media sequence %q", l)
			}
			msn = n
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			_, rest, _ := strings.Cut(l, `URI="`)
			uri, _, _ := strings.Cut(rest, `"`)
			pl.parts = append(pl.parts, llhlsPart{msn: msn, idx: idx, uri: uri})
			idx++
			closed = false
		case l != "" && !strings.HasPrefix(l, "#"): // a segment's URI
			msn, idx, closed = msn+1, 0, true
		}
	}
	if len(pl.parts) == 0 {
		return pl, fmt.Errorf("playlist lists no part")
	}
	last := pl.parts[len(pl.parts)-1]
	pl.nextMSN, pl.nextPart = last.msn, last.idx+1
	if closed && last.msn < msn {
		pl.nextMSN, pl.nextPart = last.msn+1, 0
	}
	return pl, sc.Err()
}

// readLLHLS plays base+"stream.m3u8" as an LL-HLS player does: it takes the
// newest part, then asks for each next part with a blocking playlist
// reload (_HLS_msn/_HLS_part) and fetches it, counting the video frames
// of every part (the samples of fMP4 track 1, the video track of MPS's
// muxer).
func readLLHLS(ctx context.Context, base string, frames *atomic.Int64) error {
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return io.ReadAll(res.Body)
	}
	body, err := get(base + "stream.m3u8")
	if err != nil {
		return err
	}
	pl, err := parseLLHLS(strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	from := pl.parts[len(pl.parts)-1] // start at the live edge
	for ctx.Err() == nil {
		for _, p := range pl.parts {
			if p.msn < from.msn || p.msn == from.msn && p.idx < from.idx {
				continue
			}
			b, err := get(base + p.uri)
			if err != nil {
				return err
			}
			frames.Add(int64(fmp4Samples(b, 1)))
			from = llhlsPart{msn: p.msn, idx: p.idx + 1}
		}
		if pl.nextMSN > from.msn || pl.nextMSN == from.msn && pl.nextPart > from.idx {
			from = llhlsPart{msn: pl.nextMSN, idx: pl.nextPart}
		}
		body, err := get(fmt.Sprintf("%sstream.m3u8?_HLS_msn=%d&_HLS_part=%d", base, from.msn, from.idx))
		if err != nil {
			return err
		}
		if pl, err = parseLLHLS(strings.NewReader(string(body))); err != nil {
			return err
		}
	}
	return nil
}

// fmp4Samples counts the samples of track in the trun boxes of the moof
// boxes of an fMP4 fragment.
func fmp4Samples(b []byte, track uint32) int {
	n := 0
	walkBoxes(b, func(typ string, body []byte) {
		if typ != "moof" {
			return
		}
		walkBoxes(body, func(typ string, body []byte) {
			if typ != "traf" {
				return
			}
			var id uint32
			walkBoxes(body, func(typ string, body []byte) {
				switch {
				case typ == "tfhd" && len(body) >= 8:
					id = binary.BigEndian.Uint32(body[4:])
				case typ == "trun" && len(body) >= 8 && id == track:
					n += int(binary.BigEndian.Uint32(body[4:]))
				}
			})
		})
	})
	return n
}

// walkBoxes calls f with the type and body of each ISO BMFF box in b.
func walkBoxes(b []byte, f func(typ string, body []byte)) {
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			return
		}
		f(string(b[4:8]), b[8:size])
		b = b[size:]
	}
}
