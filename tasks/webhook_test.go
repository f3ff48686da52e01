package tasks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/vod"
)

func TestWebhookRetriesAndNATSEvents(t *testing.T) {
	var mu sync.Mutex
	var attempts []time.Time
	var deliveries []string
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-MPS-Event") != "task.completed" {
			return
		}
		attempts = append(attempts, time.Now())
		deliveries = append(deliveries, r.Header.Get("X-MPS-Delivery"))
		if len(attempts) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer flaky.Close()
	deadCalls := 0
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		deadCalls++
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer dead.Close()
	svc, _ := startService(t, Config{WebhookAttempts: 3, Webhooks: []config.Webhook{
		{URL: flaky.URL, Secret: "x", Events: []string{"task.completed"}},
		{URL: dead.URL, Secret: "y", Events: []string{"task.completed"}},
	}})
	sub, err := svc.nc.SubscribeSync(eventPrefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"),
		Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitEnd(t, svc, task.ID, 20*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for {
		cur, _ := svc.Get(context.Background(), task.ID)
		if cur.Notified {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never marked notified")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	if len(attempts) != 3 {
		t.Errorf("%d attempts at the flaky hook, want 3 (two 503s then 200)", len(attempts))
	} else if gap1, gap2 := attempts[1].Sub(attempts[0]), attempts[2].Sub(attempts[1]); gap1 < 400*time.Millisecond || gap2 < gap1 {
		t.Errorf("backoff gaps %v, %v: want >= 500ms and growing", gap1, gap2)
	}
	for _, d := range deliveries {
		if d != "task.completed:"+task.ID {
			t.Errorf("delivery id %q changes between retries", d)
		}
	}
	if deadCalls != 3 {
		t.Errorf("dead hook called %d times, want 3 (bounded)", deadCalls)
	}
	mu.Unlock()
	seen := map[string]bool{}
	for {
		m, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			break
		}
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) == nil && ev.Data["id"] == task.ID && m.Subject == eventPrefix+ev.Type {
			seen[ev.Type] = true
		}
	}
	for _, typ := range []string{"task.created", "task.started", "task.progress", "task.completed"} {
		if !seen[typ] {
			t.Errorf("no %s on NATS (saw %v)", typ, seen)
		}
	}
}
