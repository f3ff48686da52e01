package audit

import (
	"sort"

	"mps/internal/aispec"
)

// Report is the audit's result, the JSON in the operation's Result.Report.
// Suggestion is the strongest suggestion of any label; a scheme skips a
// file's later operations when it is "block".
type Report struct {
	// Suggestion is pass, review or block.
	Suggestion string `json:"suggestion"`
	// Labels are the findings, one per label, strongest first.
	Labels []Label `json:"labels"`
	// Duration is the input's length in seconds.
	Duration float64 `json:"duration"`
	// Loudness is the integrated loudness in LUFS (absent without audio).
	Loudness *float64 `json:"loudness,omitempty"`
	// OCRFrames is how many frames were read by OCR.
	OCRFrames int `json:"ocr_frames"`
	// Moderation says whether the external moderation endpoint was asked.
	Moderation bool `json:"moderation"`
}

// Label is one kind of finding: a technical problem ("black", "freeze",
// "silence", "loudness", "clipping", "no_audio"), a blocklist's label, or a
// moderation category ("moderation/violence").
type Label struct {
	Label string `json:"label"`
	// Kind is technical, ocr+transcript (a blocklist) or moderation.
	Kind string `json:"kind"`
	// Suggestion is review or block.
	Suggestion string `json:"suggestion"`
	// Confidence is 0..1: 1 for measured problems, the OCR confidence or
	// the moderation score otherwise (the highest of the segments).
	Confidence float64 `json:"confidence"`
	// Segments are where it happens.
	Segments []Segment `json:"segments"`
}

// Segment is one time span of a finding and what shows it.
type Segment struct {
	Start      float64   `json:"start"`
	End        float64   `json:"end"`
	Confidence float64   `json:"confidence"`
	Evidence   *Evidence `json:"evidence,omitempty"`
}

// Evidence is what a person checks to confirm a finding.
type Evidence struct {
	// OCR are the matched lines of on-screen text with their boxes.
	OCR []OCRText `json:"ocr,omitempty"`
	// Words are the matched transcript words.
	Words []Word `json:"words,omitempty"`
	// Snapshot is the frame the text was read from (a file of the
	// operation's outputs).
	Snapshot string `json:"snapshot,omitempty"`
	// Detail is a measured value ("I -4.2 LUFS", a moderation category).
	Detail string `json:"detail,omitempty"`
}

// OCRText is one line of text read on screen, with its box in pixels.
type OCRText struct {
	Text       string  `json:"text"`
	X          int     `json:"x"`
	Y          int     `json:"y"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Confidence float64 `json:"confidence"`
}

// Word is one transcript word with its times, as the subtitles operation
// writes them.
type Word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// severity orders suggestions.
func severity(s string) int {
	switch s {
	case aispec.SuggestBlock:
		return 2
	case aispec.SuggestReview:
		return 1
	}
	return 0
}

// finish sorts the labels and sets the overall suggestion.
func (r *Report) finish() {
	r.Suggestion = aispec.SuggestPass
	for i := range r.Labels {
		l := &r.Labels[i]
		sort.Slice(l.Segments, func(a, b int) bool { return l.Segments[a].Start < l.Segments[b].Start })
		for _, s := range l.Segments {
			l.Confidence = max(l.Confidence, s.Confidence)
		}
		if severity(l.Suggestion) > severity(r.Suggestion) {
			r.Suggestion = l.Suggestion
		}
	}
	sort.SliceStable(r.Labels, func(a, b int) bool {
		la, lb := r.Labels[a], r.Labels[b]
		if severity(la.Suggestion) != severity(lb.Suggestion) {
			return severity(la.Suggestion) > severity(lb.Suggestion)
		}
		return la.Label < lb.Label
	})
	if r.Labels == nil {
		r.Labels = []Label{}
	}
}

// add appends segments to the label named name, creating it.
func (r *Report) add(name, kind, suggestion string, segs ...Segment) {
	if len(segs) == 0 {
		return
	}
	for i := range r.Labels {
		if r.Labels[i].Label == name {
			r.Labels[i].Segments = append(r.Labels[i].Segments, segs...)
			if severity(suggestion) > severity(r.Labels[i].Suggestion) {
				r.Labels[i].Suggestion = suggestion
			}
			return
		}
	}
	r.Labels = append(r.Labels, Label{Label: name, Kind: kind, Suggestion: suggestion, Segments: segs})
}
