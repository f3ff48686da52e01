package aispec

import "fmt"

// Erase removes a logo or burnt-in text by interpolating over boxes
// (ffmpeg's delogo), each for a time range; the boxes come from the
// template or from a roi operation's report.
type Erase struct {
	// Boxes are the regions to erase.
	Boxes []EraseBox `json:"boxes,omitempty" yaml:"boxes,omitempty"`
	// FromROI is a roi report (roi.json); every box of every range is
	// erased over that range. A relative name is looked up next to this
	// operation's output folder.
	FromROI string `json:"from_roi,omitempty" yaml:"from_roi,omitempty"`
	// FromOCR erases the lines of text tesseract reads on the frames
	// (sampled every 2 s; each line over its sample's 2 s): burnt-in
	// captions or tickers. Text over a busy picture may be missed.
	FromOCR bool `json:"from_ocr,omitempty" yaml:"from_ocr,omitempty"`
	// Margin grows every box by this many pixels on each side.
	Margin int `json:"margin,omitempty" yaml:"margin,omitempty"`
}

// EraseBox is one region in pixels of the input over a time range in
// seconds; End 0 means to the end of the file.
type EraseBox struct {
	X     int     `json:"x" yaml:"x"`
	Y     int     `json:"y" yaml:"y"`
	W     int     `json:"w" yaml:"w"`
	H     int     `json:"h" yaml:"h"`
	Start float64 `json:"start,omitempty" yaml:"start,omitempty"`
	End   float64 `json:"end,omitempty" yaml:"end,omitempty"`
}

// Validate checks the settings without touching a file.
func (e Erase) Validate() error {
	if len(e.Boxes) == 0 && e.FromROI == "" && !e.FromOCR {
		return fmt.Errorf("no boxes, no from_roi and no from_ocr")
	}
	if e.Margin < 0 {
		return fmt.Errorf("negative margin")
	}
	for i, b := range e.Boxes {
		switch {
		case b.W < 1 || b.H < 1:
			return fmt.Errorf("box %d: width and height must be positive", i+1)
		case b.X < 0 || b.Y < 0:
			return fmt.Errorf("box %d: negative position", i+1)
		case b.Start < 0 || (b.End != 0 && b.End <= b.Start):
			return fmt.Errorf("box %d: bad time range %g-%g", i+1, b.Start, b.End)
		}
	}
	return validJSONName("from_roi", e.FromROI)
}
