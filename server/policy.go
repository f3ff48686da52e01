package server

import (
	"mps/hls"
	"mps/internal/pathmgr"
	"mps/recorder"
)

// policyFunc adapts the config's path rules to what the path manager needs.
// It reads the config at call time, so a reload applies to the next client.
func (s *Server) policyFunc() pathmgr.PolicyFunc {
	return func(path string) pathmgr.Policy {
		cfg := s.Config()
		r := cfg.Rule(path)
		return pathmgr.Policy{
			OverridePublisher: r.OverridePublisher,
			PublishUser:       r.PublishUser,
			PublishPass:       r.PublishPass,
			ReadUser:          r.ReadUser,
			ReadPass:          r.ReadPass,
			RingSize:          cfg.Stream.RingSize,
			Source:            r.Source,
			SourceOnDemand:    r.SourceOnDemand,
			SourceCloseAfter:  r.SourceOnDemandCloseAfter.D(),
			SourceRetry:       r.SourceRetry.D(),
		}
	}
}

// recordRule maps a path's effective record settings to the recorder's rule.
func (s *Server) recordRule(path string) recorder.Rule {
	r := s.Config().Rule(path).Record
	return recorder.Rule{
		Enabled:         r.Enabled,
		Format:          r.Format,
		SegmentDuration: r.SegmentDuration.D(),
		PartDuration:    r.PartDuration.D(),
		DeleteAfter:     r.DeleteAfter.D(),
		MaxBytes:        int64(r.MaxBytes),
		QueueBytes:      int64(r.QueueBytes),
		Tracks:          r.Tracks,
		Target:          r.Target,
		KeepLocal:       r.KeepLocal,
	}
}

// hlsRule maps a path's effective hls settings to the packager's.
func (s *Server) hlsRule(path string) hls.PathConfig {
	cfg := s.Config()
	r := cfg.Rule(path)
	h := r.HLS
	ladder := r.Ladder
	if len(ladder) == 0 && r.Transcode != "" {
		// a transcoded path's playlist is the multivariant one of its rungs
		for _, rung := range cfg.Transcode.Ladders[r.Transcode].Rungs {
			ladder = append(ladder, path+"/"+rung.Name)
		}
	}
	return hls.PathConfig{
		Variant:         hls.Variant(h.Variant),
		SegmentDuration: h.SegmentDuration.D(),
		PartDuration:    h.PartDuration.D(),
		SegmentCount:    h.SegmentCount,
		AlwaysOn:        h.AlwaysOn,
		CloseAfter:      h.CloseAfter.D(),
		EndedKeep:       h.EndedKeep.D(),
		DVRWindow:       h.DVRWindow.D(),
		Directory:       cfg.DataPath(h.Directory),
		Ladder:          ladder,
		CORSOrigins:     cfg.HTTP.CORSOrigins,
	}
}
