package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"mps/internal/events"
	"mps/internal/httpjson"
)

// eventLogSize is how many past events the console's event log keeps.
const eventLogSize = 500

// eventLog keeps the newest events of the bus for the console and fans
// them out to live viewers (SSE). It exists because the bus only delivers
// to subscribers present at publishing time: a console opened later still
// wants to see what just happened.
type eventLog struct {
	sub  *events.Subscription
	done chan struct{} // closed when the HTTP server shuts down

	mu       sync.Mutex
	ring     []events.Event // oldest first, at most eventLogSize
	watchers map[chan events.Event]struct{}
	closed   bool
}

func newEventLog(bus *events.Bus) *eventLog {
	return &eventLog{
		sub:      bus.Subscribe(256),
		done:     make(chan struct{}),
		watchers: make(map[chan events.Event]struct{}),
	}
}

// run records events until ctx ends; the server's wait group owns it.
func (l *eventLog) run(ctx context.Context) {
	defer l.sub.Close()
	for {
		select {
		case <-ctx.Done():
			l.shutdown()
			return
		case e := <-l.sub.C:
			l.add(e)
		}
	}
}

func (l *eventLog) add(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) == eventLogSize {
		copy(l.ring, l.ring[1:])
		l.ring = l.ring[:eventLogSize-1]
	}
	l.ring = append(l.ring, e)
	for c := range l.watchers {
		select {
		case c <- e:
		default: // a slow viewer misses events rather than stalling the log
		}
	}
}

// last returns up to n of the newest events, oldest first.
func (l *eventLog) last(n int) []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > len(l.ring) {
		n = len(l.ring)
	}
	return append([]events.Event{}, l.ring[len(l.ring)-n:]...)
}

// watch registers a live viewer; cancel unregisters it.
func (l *eventLog) watch() (c chan events.Event, cancel func()) {
	c = make(chan events.Event, 64)
	l.mu.Lock()
	l.watchers[c] = struct{}{}
	l.mu.Unlock()
	return c, func() {
		l.mu.Lock()
		delete(l.watchers, c)
		l.mu.Unlock()
	}
}

// shutdown ends every live viewer's stream, so an HTTP shutdown does not
// wait for them; it may be called more than once.
func (l *eventLog) shutdown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
}

// startEventLog subscribes the console's event log to the bus; the log's
// goroutine ends when ctx does.
func (s *Server) startEventLog(ctx context.Context) {
	s.evlog = newEventLog(s.bus)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.evlog.run(ctx)
	}()
}

// apiEvents answers GET /api/v1/events?limit=N with the newest N events
// (default 100), oldest first.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	n := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			httpjson.WriteError(w, http.StatusBadRequest, "limit: want a whole number ≥ 0")
			return
		}
	}
	list := []events.Event{}
	if s.evlog != nil {
		list = s.evlog.last(n)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"events": list})
}

// apiEventStream answers GET /api/v1/events/stream with Server-Sent Events:
// one "data:" line of JSON per event as it happens, and a comment every
// 15 s so proxies keep the connection open.
func (s *Server) apiEventStream(w http.ResponseWriter, r *http.Request) {
	if s.evlog == nil {
		httpjson.WriteError(w, http.StatusNotImplemented, "no event log")
		return
	}
	// The controller reaches the connection through wrapping writers (auth,
	// metrics) that implement Unwrap.
	rc := http.NewResponseController(w)
	c, cancel := s.evlog.watch()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": events\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.evlog.done:
			return
		case <-ping.C:
			_, _ = fmt.Fprint(w, ": ping\n\n")
		case e := <-c:
			b, err := json.Marshal(e)
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// apiListeners answers GET /api/v1/listeners with the addresses the
// server is bound to (the configured ones may say port 0 or nothing), so
// the console can show publish and play URLs that work.
func (s *Server) apiListeners(w http.ResponseWriter, r *http.Request) {
	out := map[string]string{}
	for k, v := range map[string]string{
		"http": s.HTTPAddr(), "rtmp": s.RTMPAddr(), "rtsp": s.RTSPAddr(), "srt": s.SRTAddr(),
	} {
		if v != "" {
			out[k] = v
		}
	}
	if s.wrtc != nil {
		out["webrtc"] = s.HTTPAddr()
	}
	if s.hls != nil {
		out["hls"] = s.HTTPAddr()
	}
	httpjson.Write(w, http.StatusOK, out)
}
