package server

import (
	"net/http"
	"strings"
	"time"

	"mps/ai"
	"mps/ai/livesubs"
	"mps/ai/transcripts"
	"mps/hls"
	"mps/internal/aispec"
	"mps/internal/vod"
)

// transcriptsFile is the search index of recording transcripts, under
// storage.data_dir.
const transcriptsFile = "transcripts.db"

// startTranscripts opens the transcript search index and follows the
// recorder's segment events into it. Search is a convenience: when the
// index cannot open, the server runs without it and says so.
func (s *Server) startTranscripts() {
	cfg := s.Config()
	ix, err := transcripts.Open(cfg.DataPath(transcriptsFile), cfg.DataPath(cfg.Record.Directory), s.component(compTranscripts))
	if err != nil {
		s.log.Error("transcript search disabled", "error", err)
		return
	}
	s.transcripts = ix
	sub := s.bus.Subscribe(1024)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ix.Watch(s.ctx, sub)
	}()
}

// aiExtensions builds the media-AI operation types for the task service;
// speech operations feed the transcript index.
func (s *Server) aiExtensions() map[string]vod.Extension {
	var opts []ai.Option
	if s.transcripts != nil {
		opts = append(opts, ai.WithTranscripts(s.transcripts.Add))
	}
	return ai.Extensions(s.Config(), nil, opts...)
}

// startLiveSubtitles registers the live subtitles recognisers on publish.
func (s *Server) startLiveSubtitles() {
	s.livesubs = livesubs.New(livesubs.Config{Rule: func(path string) (string, bool) {
		r := s.Config().Rule(path).Subtitles
		lang := r.Language
		if lang == "" {
			lang = aispec.DefaultLanguage
		}
		return lang, r.Enabled
	}}, s.component(compLiveSubs))
	s.paths.OnPublish(s.livesubs.StreamStarted)
}

// apiStreamOrSubtitles serves GET /api/v1/streams/PATH/subtitles (the live
// cue feed) and hands every other GET under /api/v1/streams/ to
// apiGetStream: the mux cannot put a suffix after a {path...} wildcard.
func (s *Server) apiStreamOrSubtitles(w http.ResponseWriter, r *http.Request) {
	if p, ok := strings.CutSuffix(r.PathValue("path"), "/subtitles"); ok && s.livesubs != nil && s.livesubs.Enabled(p) {
		s.livesubs.ServeSSE(w, r, p)
		return
	}
	s.apiGetStream(w, r)
}

// hlsSubtitles gives the HLS packager the live cues of a path with live
// subtitles, for its WebVTT rendition.
func (s *Server) hlsSubtitles(path string) hls.SubtitleSource {
	if s.livesubs == nil || !s.livesubs.Enabled(path) {
		return nil
	}
	return liveCues{m: s.livesubs, path: path}
}

// liveCues adapts the live subtitles manager to hls.SubtitleSource.
type liveCues struct {
	m    *livesubs.Manager
	path string
}

func (c liveCues) Cues(from, to time.Duration) []hls.SubtitleCue {
	var out []hls.SubtitleCue
	for _, cue := range c.m.Cues(c.path, from, to) {
		start := time.Duration(cue.Published * float64(time.Second))
		out = append(out, hls.SubtitleCue{
			Start: start, End: start + time.Duration((cue.End-cue.Start)*float64(time.Second)),
			Text: strings.Join(cue.Lines, "\n"),
		})
	}
	return out
}
