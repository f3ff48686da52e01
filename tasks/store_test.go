package tasks

import (
	"net/http"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestStoreRecovers breaks the task store the two ways it breaks in
// production — the embedded NATS server stops, or it switches JetStream
// off after a storage fault — and shows the service heal itself: new
// tasks are accepted and run again, and the health endpoint counts the
// recovery.
func TestStoreRecovers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		breakStore func(svc *Service)
	}{
		{"embedded server stopped", func(svc *Service) { svc.embeddedServer().Shutdown() }},
		{"JetStream switched off", func(svc *Service) { _ = svc.embeddedServer().DisableJetStream() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, ts := startService(t, Config{HealthEvery: 200 * time.Millisecond, StoreTimeout: 2 * time.Second})
			probe := map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"type": "probe"}}}
			var task Task
			if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", probe, &task); code != http.StatusCreated {
				t.Fatalf("POST before = %d", code)
			}
			accepted := []string{task.ID}
			waitEnd(t, svc, task.ID, 20*time.Second)
			tc.breakStore(svc)
			testutil.WaitFor(t, 30*time.Second, "a task accepted again", func() bool {
				var answer map[string]any
				code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", probe, &answer)
				task.ID, _ = answer["id"].(string)
				if code != http.StatusCreated && code != http.StatusServiceUnavailable {
					var e map[string]any
					apiJSON(t, "GET", ts.URL+"/api/v1/tasks/health", nil, &e)
					t.Errorf("POST while the store heals = %d %v, want 201 or 503 (%v)", code, answer, e)
				}
				return code == http.StatusCreated
			})
			accepted = append(accepted, task.ID)
			if end := waitEnd(t, svc, task.ID, 20*time.Second); end.Status != StatusFinish {
				t.Errorf("task after recovery: %s %s", end.Status, end.Error)
			}
			var h Health
			testutil.WaitFor(t, 10*time.Second, "health ok with a recovery counted", func() bool {
				return apiJSON(t, "GET", ts.URL+"/api/v1/tasks/health", nil, &h) == http.StatusOK && h.Status == "ok" && h.Recoveries >= 1
			})
			var list struct {
				Tasks []Task `json:"tasks"`
			}
			if code := apiJSON(t, "GET", ts.URL+"/api/v1/tasks", nil, &list); code != http.StatusOK {
				t.Fatalf("listing after recovery: %d", code)
			}
			listed := map[string]bool{}
			for _, l := range list.Tasks {
				listed[l.ID] = true
			}
			for _, id := range accepted {
				if !listed[id] {
					t.Errorf("accepted task %s missing from the listing after recovery", id)
				}
			}
		})
	}
}
