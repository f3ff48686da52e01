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
	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestWebhookOrderPerTask runs a task in notify mode change against a
// receiver that is slow to answer task.progress: the events still arrive
// in the order they happened, task.completed last.
func TestWebhookOrderPerTask(t *testing.T) {
	var mu sync.Mutex
	var got []string
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev events.Event
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &ev)
		mu.Lock()
		got = append(got, ev.Type)
		mu.Unlock()
		if ev.Type == "task.progress" {
			time.Sleep(150 * time.Millisecond) // a busy receiver, not a test wait
		}
	}))
	defer slow.Close()
	svc, _ := startService(t, Config{})
	probe := config.OpRef{Operation: vod.Operation{Type: vod.TypeProbe}}
	task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"),
		Operations: []config.OpRef{probe, probe, probe},
		Notify:     RequestNotify{SchemeNotify: config.SchemeNotify{Mode: config.NotifyChange}, URL: slow.URL}})
	if err != nil {
		t.Fatal(err)
	}
	waitEnd(t, svc, task.ID, 30*time.Second)
	want := []string{"task.created", "task.started", "task.progress", "task.progress", "task.progress", "task.completed"}
	testutil.WaitFor(t, 20*time.Second, "every event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("received %v, want %v", got, want)
		}
	}
}
