package main

import (
	"strings"
	"testing"
)

// An MPS live playlist: closed segments with their parts, then parts of
// the open segment and a preload hint; the next part follows the last
// listed one, in the next segment when the last segment is closed.
func TestParseLLHLS(t *testing.T) {
	head := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-MAP:URI=\"init.mp4\"\n" +
		"seg_4.mp4\n" + // an old segment whose parts are gone
		"#EXT-X-PART:DURATION=0.2,URI=\"part_5_0.mp4\",INDEPENDENT=YES\n" +
		"#EXT-X-PART:DURATION=0.2,URI=\"part_5_1.mp4\"\n#EXTINF:0.4,\nseg_5.mp4\n"
	for _, tc := range []struct {
		name, tail     string
		last           string
		nextMSN, nextP int
	}{
		{"open segment", "#EXT-X-PART:DURATION=0.2,URI=\"part_6_0.mp4\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part_6_1.mp4\"\n", "part_6_0.mp4", 6, 1},
		{"closed segment", "", "part_5_1.mp4", 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := parseLLHLS(strings.NewReader(head + tc.tail))
			if err != nil {
				t.Fatal(err)
			}
			last := pl.parts[len(pl.parts)-1]
			if last.uri != tc.last || pl.nextMSN != tc.nextMSN || pl.nextPart != tc.nextP {
				t.Fatalf("last %+v next %d/%d, want %s next %d/%d", last, pl.nextMSN, pl.nextPart, tc.last, tc.nextMSN, tc.nextP)
			}
			if p := pl.parts[0]; p.msn != 5 || p.idx != 0 {
				t.Fatalf("first part %+v, want msn 5 part 0", p)
			}
		})
	}
}
