package summary

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Word is one recognised word of a transcript, with its time in seconds
// from the start of the file. It is the shape the subtitles operation
// writes ([{"word":"hello","start":1.2,"end":1.5}, ...]).
type Word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// ReadTranscript reads a transcript JSON file: either an array of words or
// an object with a "words" array. Words come back in time order; empty
// words are dropped.
func ReadTranscript(path string) ([]Word, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	var words []Word
	if err := json.Unmarshal(data, &words); err != nil {
		var obj struct {
			Words []Word `json:"words"`
		}
		if err2 := json.Unmarshal(data, &obj); err2 != nil || obj.Words == nil {
			return nil, fmt.Errorf("transcript %s: want a JSON array of {word, start, end}: %w", filepath.Base(path), err)
		}
		words = obj.Words
	}
	out := words[:0]
	for i, w := range words {
		w.Word = strings.TrimSpace(w.Word)
		if w.Word == "" {
			continue
		}
		if w.Start < 0 || w.End < w.Start {
			return nil, fmt.Errorf("transcript %s: word %d %q has a bad time %g-%g", filepath.Base(path), i+1, w.Word, w.Start, w.End)
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// SiblingPath resolves a file name given in an operation's settings: an
// absolute path stays, a relative one is taken next to the operation's
// output folder, where the task's other operations write (so
// "subtitles/subtitles.json" names a sibling's transcript).
func SiblingPath(outDir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(filepath.Clean(outDir)), filepath.FromSlash(name))
}
