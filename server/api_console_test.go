package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"mps/internal/events"
	"mps/internal/testutil"
)

// TestConsoleEventFeed checks what the console's event log relies on: an
// event published before the page opened is in GET /api/v1/events, one
// published while it is open arrives on the SSE stream, and the stream ends
// cleanly when the server shuts down instead of holding the shutdown.
func TestConsoleEventFeed(t *testing.T) {
	s := startServer(t, testConfig(t))
	base := "http://" + s.HTTPAddr()
	s.Bus().Publish(events.Event{Type: "test.before", Path: "live/a"})
	var list struct{ Events []events.Event }
	testutil.WaitFor(t, 5*time.Second, "the event in the log", func() bool {
		getJSON(t, base+"/api/v1/events?limit=10", &list)
		return len(list.Events) > 0 && list.Events[len(list.Events)-1].Type == "test.before"
	})
	if code := getJSON(t, base+"/api/v1/events?limit=x", nil); code != http.StatusBadRequest {
		t.Fatalf("limit=x: status %d, want 400", code)
	}

	resp, err := http.Get(base + "/api/v1/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	s.Bus().Publish(events.Event{Type: "test.live", Path: "live/b"})
	sc := bufio.NewScanner(resp.Body)
	var got events.Event
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(data), &got); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			break
		}
	}
	if got.Type != "test.live" || got.Path != "live/b" {
		t.Fatalf("streamed event %+v, want test.live on live/b", got)
	}
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	for sc.Scan() {
	}
	// A stream the handler ended is a clean end of the chunked body; one
	// cut when Shutdown gave up waiting would be a read error.
	if err := sc.Err(); err != nil {
		t.Fatalf("event stream cut at shutdown: %v", err)
	}
	<-done
}

// TestConsoleListeners checks that the bound addresses are reported, not
// the configured port 0.
func TestConsoleListeners(t *testing.T) {
	s := startServer(t, testConfig(t))
	var got map[string]string
	getJSON(t, "http://"+s.HTTPAddr()+"/api/v1/listeners", &got)
	if got["http"] != s.HTTPAddr() || got["rtmp"] != s.RTMPAddr() || got["rtmp"] == "" || got["rtsp"] != "" {
		t.Fatalf("listeners %v; want http %s, rtmp %s, no rtsp", got, s.HTTPAddr(), s.RTMPAddr())
	}
}
