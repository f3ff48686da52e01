package tasks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/redact"
)

// Bus events forwarded to NATS and webhooks besides the task events.
var passThrough = map[string]bool{
	"stream.published": true, "stream.unpublished": true,
	"record.segment_completed": true, "snapshot.created": true,
	"record.segment_uploaded": true, "record.upload_error": true,
	"stream.qc": true,
}

// delivery is one event for one endpoint.
type delivery struct {
	url, secret string
	ev          events.Event
	body        []byte
	done        chan struct{} // closed when settled, if set
}

// Sign returns the X-MPS-Signature value for a body sent at ts (Unix
// seconds): "sha256=" + hex HMAC-SHA256 over ts + "." + body. Receivers
// recompute it and compare with hmac.Equal.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// publish puts an event on NATS (mps.events.<type>) and the local bus.
func (s *Service) publish(ev events.Event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if s.nc != nil {
		_ = s.nc.Publish(eventPrefix+ev.Type, b)
	}
	s.bus.Publish(ev)
}

// busLoop forwards the server's own events (streams, recordings,
// snapshots) and fires recording-triggered schemes.
func (s *Service) busLoop(sub *events.Subscription) {
	defer s.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-s.ctx.Done():
			return
		case ev := <-sub.C:
			if !passThrough[ev.Type] {
				continue
			}
			if b, err := json.Marshal(ev); err == nil {
				_ = s.nc.Publish(eventPrefix+ev.Type, b)
			}
			for _, h := range s.cfg.Webhooks {
				if wants(h.Events, ev.Type) {
					s.enqueue(h.URL, h.Secret, ev, nil)
				}
			}
			if ev.Type == "record.segment_completed" {
				s.onRecording(ev)
			}
		}
	}
}

// wants reports whether a webhook's filter takes an event type.
func wants(filter []string, typ string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if ok, _ := path.Match(f, typ); ok || f == typ {
			return true
		}
		if p, ok := strings.CutSuffix(f, ".*"); ok && strings.HasPrefix(typ, p+".") {
			return true
		}
	}
	return false
}

// targets are the endpoints a task event goes to.
func (s *Service) targets(t *Task, typ string) []delivery {
	if t.Notify.Mode == config.NotifyNone {
		return nil
	}
	var out []delivery
	for _, h := range s.cfg.Webhooks {
		if wants(h.Events, typ) {
			out = append(out, delivery{url: h.URL, secret: h.Secret})
		}
	}
	for _, u := range t.Notify.Webhooks {
		out = append(out, delivery{url: u, secret: t.Notify.Secret})
	}
	return out
}

// deliverLater queues a task event for its endpoints without waiting.
func (s *Service) deliverLater(t *Task, ev events.Event) {
	for _, d := range s.targets(t, ev.Type) {
		s.enqueue(d.url, d.secret, ev, nil)
	}
}

// deliverNow sends a final task event to every target, after the task's
// earlier events, and returns when each has answered 2xx or run out of
// attempts.
func (s *Service) deliverNow(t *Task, ev events.Event) {
	var waits []chan struct{}
	for _, d := range s.targets(t, ev.Type) {
		done := make(chan struct{})
		if s.enqueue(d.url, d.secret, ev, done) {
			waits = append(waits, done)
		}
	}
	for _, w := range waits {
		<-w
	}
}

// Webhook order: events go out through one queue per endpoint and task
// (per endpoint for events of no task), drained by one goroutine at a
// time, so an endpoint receives a task's events in the order they
// happened: task.progress never overtakes task.completed, even when an
// earlier delivery is being retried. Queues of different tasks or
// endpoints run side by side.

// maxQueued bounds one queue; beyond it non-final events are dropped.
const maxQueued = 256

// hookQueue is the pending deliveries of one endpoint and task.
type hookQueue struct {
	items []delivery
}

// enqueue adds an event to its queue, starting the queue's goroutine when
// idle. done, when given, is closed once the event is settled. It reports
// false when the event was dropped.
func (s *Service) enqueue(url, secret string, ev events.Event, done chan struct{}) bool {
	body, err := json.Marshal(ev)
	if err != nil {
		return false
	}
	id, _ := ev.Data["id"].(string)
	key := id + " " + url
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	q := s.hookQueues[key]
	if q == nil {
		q = &hookQueue{}
		s.hookQueues[key] = q
		s.wg.Add(1)
		go s.drain(key, q)
	}
	if len(q.items) >= maxQueued && done == nil {
		s.log.Warn("webhook queue full; event dropped", "type", ev.Type, "url", redact.URL(url))
		return false
	}
	q.items = append(q.items, delivery{url: url, secret: secret, ev: ev, body: body, done: done})
	return true
}

// drain delivers a queue's events in order until it is empty.
func (s *Service) drain(key string, q *hookQueue) {
	defer s.wg.Done()
	for {
		s.hookMu.Lock()
		if len(q.items) == 0 {
			delete(s.hookQueues, key)
			s.hookMu.Unlock()
			return
		}
		d := q.items[0]
		q.items = q.items[1:]
		s.hookMu.Unlock()
		if s.ctx.Err() == nil {
			s.post(s.ctx, d)
		}
		if d.done != nil {
			close(d.done)
		}
	}
}

// post delivers with exponential backoff (500 ms, 1 s, 2 s, … capped at
// 10 s) for at most WebhookAttempts tries.
func (s *Service) post(ctx context.Context, d delivery) {
	backoff := 500 * time.Millisecond
	id := deliveryID(d.ev)
	for attempt := 1; ; attempt++ {
		err := s.postOnce(ctx, d, id)
		if err == nil {
			return
		}
		if attempt >= s.cfg.WebhookAttempts || ctx.Err() != nil {
			s.log.Warn("webhook delivery failed", "url", redact.URL(d.url), "type", d.ev.Type, "attempts", attempt, "error", redact.Error(err))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// deliveryID identifies an event for receivers that de-duplicate.
func deliveryID(ev events.Event) string {
	id, _ := ev.Data["id"].(string)
	switch ev.Type {
	case "task.completed", "task.failed", "task.canceled":
		// A task ends once: a resend after a crash carries the same id.
		return ev.Type + ":" + id
	}
	return fmt.Sprintf("%s:%s:%d", ev.Type, id, ev.Time.UnixNano())
}

func (s *Service) postOnce(ctx context.Context, d delivery, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-MPS-Event", d.ev.Type)
	req.Header.Set("X-MPS-Delivery", id)
	req.Header.Set("X-MPS-Timestamp", strconv.FormatInt(ts, 10))
	if d.secret != "" {
		req.Header.Set("X-MPS-Signature", Sign(d.secret, ts, d.body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
