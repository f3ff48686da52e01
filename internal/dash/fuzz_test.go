package dash

import "testing"

// FuzzParse feeds arbitrary bytes to Parse and every timeline it finds to
// Expand, then writes the expansion back: nothing may panic, and a
// timeline that expands must compress to the same segments.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period id="0"><AdaptationSet id="0" mimeType="video/mp4"><Representation id="a" bandwidth="1"><SegmentTemplate timescale="1000" media="s$Number$" startNumber="0"><SegmentTimeline><S t="0" d="2000" r="2"/><S d="5"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>`))
	f.Add([]byte(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation><SegmentTemplate><SegmentTimeline><S d="1" r="-1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		for _, p := range m.Periods {
			for _, as := range p.AdaptationSets {
				for _, r := range as.Representations {
					if r.SegmentTemplate == nil || r.SegmentTemplate.SegmentTimeline == nil {
						continue
					}
					segs, err := Expand(r.SegmentTemplate.SegmentTimeline.S)
					if err != nil {
						continue
					}
					again, err := Expand(Timeline(segs))
					if err != nil || len(again) != len(segs) {
						t.Fatalf("re-expanded %d segments (%v), want %d", len(again), err, len(segs))
					}
					for i := range segs {
						if again[i] != segs[i] {
							t.Fatalf("segment %d: %v, want %v", i, again[i], segs[i])
						}
					}
				}
			}
		}
	})
}
