package dash

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTimelineRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []Segment
		want string
	}{
		{"empty", nil, ""},
		{"equal", []Segment{{0, 90}, {90, 90}, {180, 90}}, "t0 d90 r2"},
		{"offset start", []Segment{{1000, 90}, {1090, 90}, {1180, 45}}, "t1000 d90 r1|d45"},
		{"gap", []Segment{{0, 90}, {100, 90}}, "t0 d90|t100 d90"},
		{"varying", []Segment{{0, 90}, {90, 80}, {170, 80}, {250, 90}}, "t0 d90|d80 r1|d90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := Timeline(tc.segs)
			var parts []string
			for _, s := range ts {
				p := ""
				if s.T != nil {
					p = "t" + itoa(*s.T) + " "
				}
				p += "d" + itoa(s.D)
				if s.R > 0 {
					p += " r" + itoa(uint64(s.R))
				}
				parts = append(parts, p)
			}
			if got := strings.Join(parts, "|"); got != tc.want {
				t.Errorf("timeline %q, want %q", got, tc.want)
			}
			back, err := Expand(ts)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.segs) > 0 && !reflect.DeepEqual(back, tc.segs) {
				t.Errorf("expanded %v, want %v", back, tc.segs)
			}
		})
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func TestDurationAndRate(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "PT0S", 6 * time.Second: "PT6S", 6500 * time.Millisecond: "PT6.5S",
		90 * time.Second: "PT90S", 1234 * time.Millisecond: "PT1.234S", -time.Second: "PT0S",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	for f, want := range map[float64]string{30: "30", 29.97: "30000/1001", 12.5: "12500/1000", 25.0004: "25"} {
		if got := frameRate(f); got != want {
			t.Errorf("frameRate(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestMarshalDynamic writes a live manifest and reads it back.
func TestMarshalDynamic(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	p := &Presentation{
		Dynamic: true, AvailabilityStart: now.Add(-time.Minute), Now: now,
		UpdatePeriod: time.Second, TimeShift: 7 * time.Second, Delay: 3 * time.Second, Video: true,
		Renditions: []Rendition{
			{ID: "hi", Bandwidth: 800000, Codecs: []string{"avc1.64001f", "mp4a.40.2"}, Width: 1280, Height: 720, FrameRate: 30,
				Timescale: 90000, Init: "hi/init_a.mp4", Media: "hi/seg_a_$Number$.mp4?token=x" + Escape("$"), FirstNumber: 5,
				Segments: []Segment{{450000, 90000}, {540000, 90000}}},
			{ID: "lo", Bandwidth: 200000, Codecs: []string{"avc1.42c00d"}, Width: 320, Height: 180, FrameRate: 25,
				Timescale: 90000, Init: "lo/init_b.mp4", Media: "lo/seg_b_$Number$.mp4", Offset: 9000, FirstNumber: 0,
				Segments: []Segment{{9000, 90000}}},
		},
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if m.Type != "dynamic" || m.AvailabilityStartTime != "2026-12-03T11:59:00.000Z" || m.MinimumUpdatePeriod != "PT1S" ||
		m.TimeShiftBufferDepth != "PT7S" || len(m.UTCTiming) != 1 || m.MediaPresentationDuration != "" {
		t.Errorf("MPD attributes: %+v", m)
	}
	as := m.Periods[0].AdaptationSets[0]
	if as.MimeType != "video/mp4" || len(as.Representations) != 2 || as.MaxWidth != 1280 {
		t.Fatalf("adaptation set: %+v", as)
	}
	hi := as.Representations[0]
	if hi.Codecs != "avc1.64001f,mp4a.40.2" || hi.FrameRate != "" || hi.SegmentTemplate.StartNumber != 5 ||
		hi.SegmentTemplate.Media != "hi/seg_a_$Number$.mp4?token=x$$" {
		t.Errorf("hi: %+v %+v", hi, hi.SegmentTemplate)
	}
	segs, err := Expand(hi.SegmentTemplate.SegmentTimeline.S)
	if err != nil || len(segs) != 2 || segs[1].Start != 540000 {
		t.Errorf("hi timeline %v %v", segs, err)
	}
	// Frame rate only without audio muxed in (dash.js drops a muxed
	// representation that has one).
	if lo := as.Representations[1]; lo.SegmentTemplate.PresentationTimeOffset != 9000 || lo.FrameRate != "25" {
		t.Errorf("lo offset %d frame rate %q", lo.SegmentTemplate.PresentationTimeOffset, lo.FrameRate)
	}
}

func TestMarshalRefuses(t *testing.T) {
	good := Rendition{ID: "a", Timescale: 1000, Media: "s_$Number$.m4s"}
	for name, r := range map[string]Rendition{
		"no id":        {Timescale: 1000, Media: "s_$Number$.m4s"},
		"space in id":  {ID: "a b", Timescale: 1000, Media: "s_$Number$.m4s"},
		"no timescale": {ID: "a", Media: "s_$Number$.m4s"},
		"no number":    {ID: "a", Timescale: 1000, Media: "s.m4s"},
	} {
		p := &Presentation{Renditions: []Rendition{good, r}}
		if _, err := p.Marshal(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := (&Presentation{}).Marshal(); err == nil {
		t.Error("empty presentation: no error")
	}
}
