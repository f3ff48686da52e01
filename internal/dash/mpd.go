package dash

import (
	"encoding/xml"
	"fmt"
)

// Namespace is the MPD schema namespace.
const Namespace = "urn:mpeg:dash:schema:mpd:2011"

// Profiles the written MPDs conform to: ISO BMFF live profile (segments
// described by SegmentTemplate) and the DASH-IF interoperability point.
const Profiles = "urn:mpeg:dash:profile:isoff-live:2011,http://dashif.org/guidelines/dash-if-simple"

// MPD is the manifest's root element as written (and read back by tests).
type MPD struct {
	XMLName                    xml.Name     `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	ID                         string       `xml:"id,attr,omitempty"`
	Profiles                   string       `xml:"profiles,attr"`
	Type                       string       `xml:"type,attr"`
	AvailabilityStartTime      string       `xml:"availabilityStartTime,attr,omitempty"`
	PublishTime                string       `xml:"publishTime,attr,omitempty"`
	MediaPresentationDuration  string       `xml:"mediaPresentationDuration,attr,omitempty"`
	MinimumUpdatePeriod        string       `xml:"minimumUpdatePeriod,attr,omitempty"`
	MinBufferTime              string       `xml:"minBufferTime,attr"`
	TimeShiftBufferDepth       string       `xml:"timeShiftBufferDepth,attr,omitempty"`
	SuggestedPresentationDelay string       `xml:"suggestedPresentationDelay,attr,omitempty"`
	MaxSegmentDuration         string       `xml:"maxSegmentDuration,attr,omitempty"`
	Periods                    []Period     `xml:"Period"`
	UTCTiming                  []Descriptor `xml:"UTCTiming,omitempty"`
}

// Period is one period; MPS writes a single one starting at zero.
type Period struct {
	ID             string          `xml:"id,attr"`
	Start          string          `xml:"start,attr"`
	AdaptationSets []AdaptationSet `xml:"AdaptationSet"`
}

// AdaptationSet groups the switchable representations of one content.
type AdaptationSet struct {
	ID                 int              `xml:"id,attr"`
	ContentType        string           `xml:"contentType,attr,omitempty"`
	MimeType           string           `xml:"mimeType,attr"`
	SegmentAlignment   bool             `xml:"segmentAlignment,attr"`
	StartWithSAP       int              `xml:"startWithSAP,attr,omitempty"`
	Lang               string           `xml:"lang,attr,omitempty"`
	MaxWidth           int              `xml:"maxWidth,attr,omitempty"`
	MaxHeight          int              `xml:"maxHeight,attr,omitempty"`
	Representations    []Representation `xml:"Representation"`
	AudioChannelConfig []Descriptor     `xml:"AudioChannelConfiguration,omitempty"`
}

// Representation is one encoding of the content (a ladder rung).
type Representation struct {
	ID                string           `xml:"id,attr"`
	Bandwidth         int              `xml:"bandwidth,attr"`
	Codecs            string           `xml:"codecs,attr,omitempty"`
	Width             int              `xml:"width,attr,omitempty"`
	Height            int              `xml:"height,attr,omitempty"`
	FrameRate         string           `xml:"frameRate,attr,omitempty"`
	AudioSamplingRate int              `xml:"audioSamplingRate,attr,omitempty"`
	SegmentTemplate   *SegmentTemplate `xml:"SegmentTemplate"`
}

// SegmentTemplate names the init and media segments of a representation.
type SegmentTemplate struct {
	Timescale              uint64           `xml:"timescale,attr"`
	PresentationTimeOffset uint64           `xml:"presentationTimeOffset,attr,omitempty"`
	Initialization         string           `xml:"initialization,attr"`
	Media                  string           `xml:"media,attr"`
	StartNumber            uint64           `xml:"startNumber,attr"`
	SegmentTimeline        *SegmentTimeline `xml:"SegmentTimeline"`
}

// SegmentTimeline lists the segments' start times and durations.
type SegmentTimeline struct {
	S []S `xml:"S"`
}

// S is a run of segments: R more after the first, each D long, the first
// starting at T (omitted when it follows the previous run).
type S struct {
	T *uint64 `xml:"t,attr"`
	D uint64  `xml:"d,attr"`
	R int     `xml:"r,attr,omitempty"`
}

// Descriptor is a scheme and value pair (UTCTiming, channel layouts).
type Descriptor struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
}

// MaxManifest bounds the size of a manifest Parse reads.
const MaxManifest = 4 << 20

// Parse reads a manifest written by Marshal (or any MPD whose elements it
// knows), for tests and tools that check what was served.
func Parse(b []byte) (*MPD, error) {
	if len(b) > MaxManifest {
		return nil, fmt.Errorf("MPD of %d bytes is larger than %d", len(b), MaxManifest)
	}
	var m MPD
	if err := xml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("MPD: %w", err)
	}
	return &m, nil
}
