package livesubs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"mps/internal/httpjson"
)

// ServeSSE streams path's cues as Server-Sent Events ("event: cue", JSON
// data, the cue's id), starting with the kept recent cues after the
// Last-Event-ID the client sends back on reconnect. It waits for the
// stream when none is published yet, and sends a comment every 15 s so
// proxies keep the connection open.
func (m *Manager) ServeSSE(w http.ResponseWriter, r *http.Request, path string) {
	if !m.Enabled(path) {
		httpjson.WriteError(w, http.StatusNotFound, fmt.Sprintf("live subtitles are not enabled for path %q", path))
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		httpjson.WriteError(w, http.StatusInternalServerError, "streaming not supported")
		return
	}
	after, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	h := m.hub(path)
	back, ch := h.subscribe(after)
	defer func() {
		h.unsubscribe(ch)
		m.dropHub(path)
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": live subtitles of "+path+"\n\n")
	for _, c := range back {
		writeCue(w, c)
	}
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-m.ctx.Done():
			return
		case c := <-ch:
			writeCue(w, c)
			fl.Flush()
		case <-tick.C:
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		}
	}
}

func writeCue(w http.ResponseWriter, c Cue) {
	b, _ := json.Marshal(c)
	_, _ = fmt.Fprintf(w, "id: %d\nevent: cue\ndata: %s\n\n", c.ID, b)
}
