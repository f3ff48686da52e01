package config

import "mps/internal/aispec"

// liveSubtitles checks a rule's subtitles section.
func (v *validator) liveSubtitles(prefix string, s *LiveSubtitles) error {
	if s == nil || s.Language == "" {
		return nil
	}
	if err := (&aispec.Subtitles{Language: s.Language}).Validate(); err != nil {
		return v.wrap(prefix+".language", err)
	}
	return nil
}
