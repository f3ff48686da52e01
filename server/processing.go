package server

import (
	"fmt"
	"net/http"

	"mps/ai/roi"
	"mps/internal/config"
	"mps/internal/httpjson"
	"mps/internal/watermark"
	"mps/tasks"
	"mps/transcode"
)

// ladder maps the ladder named by path's rule to the transcoder's type.
func (s *Server) ladder(path string) (transcode.Ladder, bool) {
	cfg := s.Config()
	rule := cfg.Rule(path)
	name := rule.Transcode
	if name == "" {
		return transcode.Ladder{}, false
	}
	l, ok := cfg.Transcode.Ladders[name]
	if !ok {
		return transcode.Ladder{}, false
	}
	out := transcode.Ladder{Name: name, Watermark: l.Watermark, GOP: l.GOP.D(),
		OnDemand: rule.TranscodeOnDemand, CloseAfter: rule.TranscodeCloseAfter.D()}
	for _, r := range l.Rungs {
		g := transcode.Rung{
			Name: r.Name, Width: r.Width, Height: r.Height,
			VideoBitrate: int(r.VideoBitrate), MaxBitrate: int(r.MaxBitrate), FPS: r.FPS,
			Codec: r.Codec, Preset: r.Preset, Profile: r.Profile,
			AudioCodec: r.AudioCodec, AudioBitrate: int(r.AudioBitrate), Watermark: r.Watermark,
		}
		if r.ROI != nil && r.ROI.Faces {
			g.ROI = &transcode.RungROI{QOffset: r.ROI.QOffset, SampleInterval: r.ROI.SampleInterval.D()}
		}
		out.Rungs = append(out.Rungs, g)
	}
	return out, true
}

// WatermarkTemplate maps a named watermark of cfg to the filter builder's
// template; a relative image path is under storage.data_dir.
func WatermarkTemplate(cfg *config.Config, name string) (watermark.Template, bool) {
	w, ok := cfg.Watermarks[name]
	if !ok {
		return watermark.Template{}, false
	}
	img := w.Image
	if img != "" {
		img = cfg.DataPath(img)
	}
	return watermark.Template{
		Type: w.Type, Image: img, Corner: watermark.Corner(w.Corner), X: w.X, Y: w.Y, Width: w.Width,
		Opacity: w.Opacity, Text: w.Text, FontSize: w.FontSize, FontColor: w.FontColor,
		Box: w.Box, BoxColor: w.BoxColor, Font: w.Font,
	}, true
}

// snapshotRule maps path's effective snapshots settings, when enabled.
func (s *Server) snapshotRule(path string) (transcode.SnapshotRule, bool) {
	sn := s.Config().Rule(path).Snapshots
	if !sn.Enabled {
		return transcode.SnapshotRule{}, false
	}
	return transcode.SnapshotRule{Interval: sn.Interval.D(), Width: sn.Width, Quality: sn.Quality, Keep: sn.Keep}, true
}

func (s *Server) newTranscoder() *transcode.Manager {
	cfg := s.Config()
	return transcode.New(transcode.Config{
		MaxTranscoders: cfg.Transcode.MaxTranscoders,
		Ladder:         s.ladder,
		Watermarks:     func(name string) (watermark.Template, bool) { return WatermarkTemplate(s.Config(), name) },
		Faces:          func() (transcode.FaceTracker, error) { return roi.NewLive() },
		Snapshot:       s.snapshotRule,
		Dir:            cfg.Storage.DataDir,
		Events:         s.bus,
	}, s.paths.Trusted(), s.component(compTranscode)) // rungs are the server's own publishers
}

func (s *Server) apiTranscoders(w http.ResponseWriter, r *http.Request) {
	httpjson.Write(w, http.StatusOK, map[string]any{"transcoders": s.tc.List()})
}

// tasksConfig gives the task service the config's own sections; the
// service resolves relative directories against storage.data_dir.
func (s *Server) tasksConfig() tasks.Config {
	cfg := s.Config()
	return tasks.Config{
		DataDir:       cfg.Storage.DataDir,
		NATS:          cfg.NATS,
		Tasks:         cfg.Tasks,
		RecordingsDir: cfg.DataPath(cfg.Record.Directory),
		Templates:     cfg.Templates,
		Schemes:       cfg.Schemes,
		Webhooks:      cfg.Webhooks,
		Storage:       s.store,
		Extensions:    s.aiExtensions(),
		HTTPClient:    s.urlClient(cfg),
		NATSAuth:      s.natsAuthorize,
		Watermarks: func(name string) (watermark.Template, error) {
			t, ok := WatermarkTemplate(s.Config(), name)
			if !ok {
				return t, fmt.Errorf("unknown watermark %q", name)
			}
			return t, nil
		},
	}
}
