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

	"mps/internal/events"
)

// Bus events forwarded to NATS and webhooks besides the task events.
var passThrough = map[string]bool{
	"stream.published": true, "stream.unpublished": true,
	"record.segment_completed": true, "snapshot.created": true,
	"stream.qc": true,
}

// delivery is one event for one endpoint.
type delivery struct {
	url, secret string
	ev          events.Event
	body        []byte
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
					s.enqueue(h.URL, h.Secret, ev)
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
	if t.Notify.Mode == NotifyNone {
		return nil
	}
	var out []delivery
	for _, h := range s.cfg.Webhooks {
		if wants(h.Events, typ) {
			out = append(out, delivery{url: h.URL, secret: h.Secret})
		}
	}
	if t.Notify.URL != "" {
		out = append(out, delivery{url: t.Notify.URL, secret: t.Notify.Secret})
	}
	return out
}

// deliverLater queues a task event for the delivery goroutines; a full
// queue drops it (logged) rather than stalling the task.
func (s *Service) deliverLater(t *Task, ev events.Event) {
	for _, d := range s.targets(t, ev.Type) {
		s.enqueue(d.url, d.secret, ev)
	}
}

func (s *Service) enqueue(url, secret string, ev events.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	select {
	case s.hooks <- delivery{url: url, secret: secret, ev: ev, body: body}:
	default:
		s.log.Warn("webhook queue full; event dropped", "type", ev.Type, "url", url)
	}
}

func (s *Service) deliverLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case d := <-s.hooks:
			s.post(s.ctx, d)
		}
	}
}

// deliverNow sends a final task event to every target and returns when
// each has answered 2xx or run out of attempts.
func (s *Service) deliverNow(t *Task, ev events.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	for _, d := range s.targets(t, ev.Type) {
		d.ev, d.body = ev, body
		s.post(s.ctx, d)
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
			s.log.Warn("webhook delivery failed", "url", d.url, "type", d.ev.Type, "attempts", attempt, "err", err)
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
