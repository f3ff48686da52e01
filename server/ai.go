package server

import (
	"mps/ai"
	"mps/ai/transcripts"
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
	ix, err := transcripts.Open(cfg.DataPath(transcriptsFile), cfg.DataPath(cfg.Record.Directory), s.log)
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
