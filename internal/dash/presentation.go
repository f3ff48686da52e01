package dash

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Segment is one media segment in its representation's time scale.
type Segment struct {
	// Start is the segment's earliest decode time (the fragment's tfdt).
	Start uint64
	// Duration runs to the next segment's start.
	Duration uint64
}

// Rendition is what a caller knows of one representation.
type Rendition struct {
	// ID names the representation (unique in the manifest).
	ID string
	// Bandwidth is the peak bit rate in bits per second.
	Bandwidth int
	// Codecs are RFC 6381 names of every track in the segments.
	Codecs        []string
	Width, Height int
	// FrameRate in frames per second, 0 if unknown; only written for a
	// single codec.
	FrameRate float64
	// Timescale is the ticks per second of Segment times.
	Timescale uint64
	// Init is the init segment's URL; Media the media segments' URL with
	// "$Number$" (or "$Number%04d$") where the number goes. Neither may
	// hold any other '$' identifier: use Escape on literal parts.
	Init, Media string
	// FirstNumber is the number of Segments[0].
	FirstNumber uint64
	// Offset is subtracted from Segment times to give the presentation
	// time (presentationTimeOffset): it aligns representations whose
	// media clocks started at different moments.
	Offset uint64
	// Segments are the listed segments, oldest first, without gaps.
	Segments []Segment
}

// Presentation is a manifest to write: static (VOD) or dynamic (live).
type Presentation struct {
	// Dynamic makes a live manifest that players reload.
	Dynamic bool
	// Duration is the static presentation's length.
	Duration time.Duration
	// AvailabilityStart is the wall-clock time of presentation time zero
	// (dynamic only); it must not change between reloads.
	AvailabilityStart time.Time
	// Now is the server's clock, sent as publishTime and as a UTCTiming
	// the player synchronizes to (dynamic only).
	Now time.Time
	// UpdatePeriod is how often a player reloads a dynamic manifest.
	UpdatePeriod time.Duration
	// TimeShift is the live window players may seek within.
	TimeShift time.Duration
	// Delay is the suggested distance behind the live edge.
	Delay time.Duration
	// MinBuffer is what a player buffers before starting (at least one
	// segment).
	MinBuffer time.Duration
	// MaxSegment is the longest segment's duration.
	MaxSegment time.Duration
	// Video tells whether the renditions carry pictures (the set's MIME
	// type is video/mp4, else audio/mp4).
	Video bool
	// Renditions are the switchable representations (one adaptation set:
	// audio, if any, is muxed into each).
	Renditions []Rendition
}

// Marshal writes the manifest as an XML document.
func (p *Presentation) Marshal() ([]byte, error) {
	m, err := p.MPD()
	if err != nil {
		return nil, err
	}
	b, err := xml.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("MPD: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// MPD builds the manifest's element tree.
func (p *Presentation) MPD() (*MPD, error) {
	if len(p.Renditions) == 0 {
		return nil, errors.New("MPD: no representation")
	}
	m := &MPD{
		Profiles:      Profiles,
		Type:          "static",
		MinBufferTime: Duration(max(p.MinBuffer, time.Second)),
	}
	if p.MaxSegment > 0 {
		m.MaxSegmentDuration = Duration(p.MaxSegment)
	}
	if p.Dynamic {
		m.Type = "dynamic"
		m.AvailabilityStartTime = Time(p.AvailabilityStart)
		m.PublishTime = Time(p.Now)
		m.MinimumUpdatePeriod = Duration(p.UpdatePeriod)
		if p.TimeShift > 0 {
			m.TimeShiftBufferDepth = Duration(p.TimeShift)
		}
		if p.Delay > 0 {
			m.SuggestedPresentationDelay = Duration(p.Delay)
		}
		m.UTCTiming = []Descriptor{{SchemeIDURI: "urn:mpeg:dash:utc:direct:2014", Value: Time(p.Now)}}
	} else {
		m.MediaPresentationDuration = Duration(p.Duration)
	}
	set := AdaptationSet{MimeType: "audio/mp4", ContentType: "audio", SegmentAlignment: true, StartWithSAP: 1}
	if p.Video {
		set.MimeType, set.ContentType = "video/mp4", "video"
	}
	for i := range p.Renditions {
		rep, err := p.Renditions[i].representation()
		if err != nil {
			return nil, err
		}
		set.MaxWidth = max(set.MaxWidth, rep.Width)
		set.MaxHeight = max(set.MaxHeight, rep.Height)
		set.Representations = append(set.Representations, rep)
	}
	m.Periods = []Period{{ID: "0", Start: "PT0S", AdaptationSets: []AdaptationSet{set}}}
	return m, nil
}

func (r *Rendition) representation() (Representation, error) {
	if r.ID == "" || strings.ContainsAny(r.ID, " \t\r\n$") {
		return Representation{}, fmt.Errorf("MPD: bad representation id %q", r.ID)
	}
	if r.Timescale == 0 {
		return Representation{}, fmt.Errorf("MPD: representation %s has no time scale", r.ID)
	}
	if !strings.Contains(r.Media, "$Number") {
		return Representation{}, fmt.Errorf("MPD: representation %s: media template %q lacks $Number$", r.ID, r.Media)
	}
	rep := Representation{
		ID:        r.ID,
		Bandwidth: max(r.Bandwidth, 1),
		Codecs:    strings.Join(r.Codecs, ","),
		Width:     r.Width,
		Height:    r.Height,
		SegmentTemplate: &SegmentTemplate{
			Timescale:              r.Timescale,
			PresentationTimeOffset: r.Offset,
			Initialization:         r.Init,
			Media:                  r.Media,
			StartNumber:            r.FirstNumber,
			SegmentTimeline:        &SegmentTimeline{S: Timeline(r.Segments)},
		},
	}
	// A muxed representation (video and audio codecs) is written without
	// its frame rate: with one, dash.js asks the browser's Media
	// Capabilities API about the codecs list, which cannot parse a list,
	// and drops the representation as unsupported.
	if r.FrameRate > 0 && len(r.Codecs) < 2 {
		rep.FrameRate = frameRate(r.FrameRate)
	}
	return rep, nil
}

// Timeline compresses segments into S elements: equal durations that
// follow each other become one run, and t is written only where a run does
// not start where the previous one ended.
func Timeline(segs []Segment) []S {
	var out []S
	var next uint64
	for i, s := range segs {
		if n := len(out); n > 0 && s.Start == next && out[n-1].D == s.Duration {
			out[n-1].R++
			next += s.Duration
			continue
		}
		e := S{D: s.Duration}
		if i == 0 || s.Start != next {
			t := s.Start
			e.T = &t
		}
		out = append(out, e)
		next = s.Start + s.Duration
	}
	return out
}

// Expand lists the segments a timeline describes (the inverse of
// Timeline, for readers and tests). Negative repeat counts (until the next
// run or the period end) are refused.
func Expand(ts []S) ([]Segment, error) {
	var out []Segment
	var next uint64
	for i, e := range ts {
		if e.R < 0 {
			return nil, fmt.Errorf("S %d: open-ended repeat not supported", i)
		}
		if e.T != nil {
			next = *e.T
		} else if i == 0 {
			next = 0
		}
		if e.R > 1<<20 || len(out)+e.R+1 > 1<<20 {
			return nil, fmt.Errorf("S %d: too many segments", i)
		}
		for range e.R + 1 {
			out = append(out, Segment{Start: next, Duration: e.D})
			next += e.D
		}
	}
	return out, nil
}

// Escape makes a literal string safe inside a SegmentTemplate attribute
// ('$' is the identifier delimiter and is written "$$").
func Escape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// Duration writes an xs:duration in seconds with millisecond precision.
func Duration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	s := strconv.FormatInt(ms/1000, 10)
	if f := ms % 1000; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", f), "0")
	}
	return "PT" + s + "S"
}

// Time writes an xs:dateTime in UTC with millisecond precision.
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// frameRate writes a frame rate as an integer or a ratio over 1001 or 1000.
func frameRate(f float64) string {
	if r := float64(int64(f + 0.5)); abs(f-r) < 0.001 {
		return strconv.FormatInt(int64(r), 10)
	}
	if n := float64(int64(f*1001 + 0.5)); abs(n/1001-f) < 0.0005 && int64(n)%1000 == 0 {
		return strconv.FormatInt(int64(n), 10) + "/1001"
	}
	return strconv.FormatInt(int64(f*1000+0.5), 10) + "/1000"
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
