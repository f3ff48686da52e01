package aispec

import "fmt"

// ROI finds faces on sampled frames and writes them as boxes per time
// range; with Encode set it also re-encodes the file with x264 giving those
// regions more bits (ffmpeg's addroi), so faces look better at the same
// size.
type ROI struct {
	// SampleFPS is how many frames per second are searched (default 2).
	SampleFPS float64 `json:"sample_fps,omitempty" yaml:"sample_fps,omitempty"`
	// MinFace is the smallest face side searched, in pixels of the input
	// (default 1/12 of the picture height).
	MinFace int `json:"min_face,omitempty" yaml:"min_face,omitempty"`
	// Threshold is the cascade score a detection needs (default 5).
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Text adds the lines of text tesseract reads on the frames (sampled
	// at most every 2 s) as regions, for screen content: slides and
	// captions keep their bits like faces.
	Text bool `json:"text,omitempty" yaml:"text,omitempty"`
	// Encode, when set, writes roi.mp4 with the boxes as x264 regions of
	// interest.
	Encode *ROIEncode `json:"encode,omitempty" yaml:"encode,omitempty"`
}

// ROIEncode shapes the region-of-interest encode.
type ROIEncode struct {
	// QOffset is the quantiser offset inside the boxes, -1 to 1; negative
	// means better (default -0.4).
	QOffset float64 `json:"qoffset,omitempty" yaml:"qoffset,omitempty"`
	// Bitrate ("1500k") encodes at an average rate; empty uses CRF.
	Bitrate string `json:"bitrate,omitempty" yaml:"bitrate,omitempty"`
	// CRF is x264's quality when no bitrate is given (default 23).
	CRF int `json:"crf,omitempty" yaml:"crf,omitempty"`
	// Preset is x264's speed preset (default veryfast).
	Preset string `json:"preset,omitempty" yaml:"preset,omitempty"`
}

// WithDefaults fills the zero fields.
func (r ROI) WithDefaults() ROI {
	if r.SampleFPS == 0 {
		r.SampleFPS = 2
	}
	if r.Threshold == 0 {
		r.Threshold = 5
	}
	if r.Encode != nil {
		e := *r.Encode
		if e.QOffset == 0 {
			e.QOffset = -0.4
		}
		if e.CRF == 0 {
			e.CRF = 23
		}
		if e.Preset == "" {
			e.Preset = "veryfast"
		}
		r.Encode = &e
	}
	return r
}

// Validate checks the settings without touching a file.
func (r ROI) Validate() error {
	r = r.WithDefaults()
	switch {
	case r.SampleFPS < 0.05 || r.SampleFPS > 30:
		return fmt.Errorf("sample_fps %g out of range 0.05-30", r.SampleFPS)
	case r.MinFace < 0:
		return fmt.Errorf("negative min_face")
	case r.Threshold < 0:
		return fmt.Errorf("negative threshold")
	}
	if e := r.Encode; e != nil {
		if e.QOffset < -1 || e.QOffset > 1 {
			return fmt.Errorf("encode.qoffset %g out of range -1 to 1", e.QOffset)
		}
		if e.CRF < 0 || e.CRF > 51 {
			return fmt.Errorf("encode.crf %d out of range 0-51", e.CRF)
		}
	}
	return nil
}

// ROIReport is what the roi operation finds (roi.json), and what erase
// and ROI encodes read back.
type ROIReport struct {
	// Width and Height are the input's picture size; boxes are in its
	// pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// SampleFPS is how many frames per second were searched; Samples how
	// many were, and SamplesWithFaces how many of them had a face.
	SampleFPS        float64 `json:"sample_fps"`
	Samples          int     `json:"samples"`
	SamplesWithFaces int     `json:"samples_with_faces"`
	// Ranges cover the file in time order; a range without boxes has no
	// face.
	Ranges []ROIRange `json:"ranges"`
	// Encoded is the ROI-encoded file, when asked for.
	Encoded string `json:"encoded,omitempty"`
}

// ROIRange is a time range in seconds and the boxes that hold over it.
type ROIRange struct {
	Start float64  `json:"start"`
	End   float64  `json:"end"`
	Boxes []ROIBox `json:"boxes"`
}

// ROIBox is one region in input pixels with the detector's score.
type ROIBox struct {
	X     int     `json:"x"`
	Y     int     `json:"y"`
	W     int     `json:"w"`
	H     int     `json:"h"`
	Score float64 `json:"score"`
}

// TranscodeROI is the roi option of a transcode template: faces are found
// as the roi operation does and given QOffset in the encode (x264/x265
// regions of interest), so they look better at the same bitrate.
type TranscodeROI struct {
	// QOffset is the quantiser offset inside the boxes, -1 to 1 (default
	// -0.4).
	QOffset float64 `json:"qoffset,omitempty" yaml:"qoffset,omitempty"`
	// SampleFPS, MinFace and Threshold tune the detection as in [ROI].
	SampleFPS float64 `json:"sample_fps,omitempty" yaml:"sample_fps,omitempty"`
	MinFace   int     `json:"min_face,omitempty" yaml:"min_face,omitempty"`
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
}

// Detection is the roi operation's settings for the detection part.
func (t TranscodeROI) Detection() ROI {
	return ROI{SampleFPS: t.SampleFPS, MinFace: t.MinFace, Threshold: t.Threshold}
}

// Offset is QOffset or its default.
func (t TranscodeROI) Offset() float64 {
	if t.QOffset == 0 {
		return -0.4
	}
	return t.QOffset
}

// Validate checks the settings without touching a file.
func (t TranscodeROI) Validate() error {
	if t.QOffset < -1 || t.QOffset > 1 {
		return fmt.Errorf("roi.qoffset %g out of range -1 to 1", t.QOffset)
	}
	if err := t.Detection().Validate(); err != nil {
		return fmt.Errorf("roi: %w", err)
	}
	return nil
}
