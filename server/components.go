package server

import "log/slog"

// The log components, named here once: every part the server wires gets
// its logger from component, so a log line's "component" says which part
// spoke and the names stay the same across packages and releases.
const (
	compPaths       = "paths"
	compRTMP        = "rtmp"
	compRTSP        = "rtsp"
	compSRT         = "srt"
	compWebRTC      = "webrtc"
	compHLS         = "hls"
	compRecorder    = "recorder"
	compTranscode   = "transcode"
	compTasks       = "tasks"
	compAuth        = "auth"
	compSource      = "source"
	compForward     = "forward"
	compTranscripts = "transcripts"
	compLiveSubs    = "livesubs"
	compTLS         = "tls"
)

// component is the logger of one part of the server.
func (s *Server) component(name string) *slog.Logger { return s.log.With("component", name) }
