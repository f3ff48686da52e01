package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"mps/ai/livehl"
	"mps/internal/auth"
	"mps/recorder"
)

// Live highlights (ai/livehl): the analysis of paths whose rule turns
// highlights on, cutting clips from the recorder, its list and clips
// served behind the playback door.

// newHighlights builds the live highlights manager over the recorder;
// clips go to the data directory's highlights folder.
func (s *Server) newHighlights(rec *recorder.Manager) *livehl.Manager {
	return livehl.New(livehl.Config{
		Dir:       s.Config().DataPath("highlights"),
		Rule:      s.highlightsRule,
		Recording: recordingSource{rec},
		Bus:       s.bus,
		Log:       s.log.With("component", "highlights"),
	})
}

// highlightsRule maps a path's effective highlights settings.
func (s *Server) highlightsRule(path string) livehl.Rule {
	h := s.Config().Rule(path).Highlights
	return livehl.Rule{Enabled: h.Enabled, Window: h.Window.D(), Top: h.Top,
		MinSeconds: h.MinSeconds, MaxSeconds: h.MaxSeconds}
}

// highlightsDoor: a path's list and clips are playback of that path.
func highlightsDoor(r *http.Request) (auth.Action, string) {
	return auth.ActionPlayback, livehl.SplitPath(r.URL.Path)
}

// recordingSource gives livehl the recorder's segments and range export.
type recordingSource struct{ rec *recorder.Manager }

// RecordedUntil is the end of the last segment of path.
func (r recordingSource) RecordedUntil(path string) time.Time {
	segs := r.rec.Segments(path, time.Now(), time.Time{})
	if len(segs) == 0 {
		return time.Time{}
	}
	return segs[len(segs)-1].End()
}

// Export runs the recordings API's range export in process, into out.
func (r recordingSource) Export(ctx context.Context, path string, start time.Time, dur time.Duration, out string) error {
	q := url.Values{"start": {start.UTC().Format(time.RFC3339Nano)},
		"duration": {strconv.FormatFloat(dur.Seconds(), 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, recorder.APIPrefix+"/"+path+"/get?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := &fileResponse{f: f, h: http.Header{}, code: http.StatusOK}
	r.rec.Handler().ServeHTTP(w, req)
	if err := f.Close(); err != nil {
		return err
	}
	if w.code != http.StatusOK {
		b, _ := os.ReadFile(out)
		return fmt.Errorf("recording export %d: %s", w.code, b)
	}
	return nil
}

// fileResponse is a ResponseWriter writing the body to a file.
type fileResponse struct {
	f    *os.File
	h    http.Header
	code int
}

func (w *fileResponse) Header() http.Header         { return w.h }
func (w *fileResponse) WriteHeader(code int)        { w.code = code }
func (w *fileResponse) Write(b []byte) (int, error) { return w.f.Write(b) }
