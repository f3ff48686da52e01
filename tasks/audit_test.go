package tasks

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/vod"
)

// verdict is an audit stand-in with a fixed verdict: the task service's
// part is what it does with the verdict, not the audit itself (ai/audit
// has its own tests on real media).
type verdict string

func (v verdict) Run(_ context.Context, _ vod.Operation, _, _ string, _ func(float64)) (vod.Result, error) {
	rep, _ := json.Marshal(map[string]any{"suggestion": string(v), "labels": []any{map[string]any{"label": "banned_words"}}})
	return vod.Result{Report: rep}, nil
}

// TestAuditBlockSkipsLaterOperations: a task whose content audit says
// "block" skips its later operations (SKIPPED, not failed), ends FINISH and
// fires task.audit_blocked with the labels; "pass" lets them run.
func TestAuditBlockSkipsLaterOperations(t *testing.T) {
	for _, tc := range []struct {
		verdict   string
		wantProbe Status
		wantEvent bool
	}{
		{"block", StatusSkipped, true},
		{"pass", StatusSuccess, false},
	} {
		t.Run(tc.verdict, func(t *testing.T) {
			svc, _ := startService(t, Config{Extensions: map[string]vod.Extension{vod.TypeAudit: verdict(tc.verdict)}})
			sub := svc.bus.Subscribe(64)
			defer sub.Close()
			task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"),
				Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeAudit}}, {Operation: vod.Operation{Type: vod.TypeProbe}}}})
			if err != nil {
				t.Fatal(err)
			}
			end := waitEnd(t, svc, task.ID, time.Minute)
			if end.Status != StatusFinish || end.Ops[1].State != tc.wantProbe {
				t.Fatalf("task %s, probe %s; want FINISH and %s", end.Status, end.Ops[1].State, tc.wantProbe)
			}
			got := false
			for {
				select {
				case ev := <-sub.C:
					if ev.Type == "task.audit_blocked" {
						got = ev.Data["labels"] != nil
					}
					continue
				default:
				}
				break
			}
			if got != tc.wantEvent {
				t.Fatalf("task.audit_blocked seen = %v, want %v", got, tc.wantEvent)
			}
		})
	}
}
