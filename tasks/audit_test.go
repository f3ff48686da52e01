package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"mps/internal/aispec"
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

// TestFileRefsHeldToRoots: a quality reference or audit transcript outside
// the allowed input roots is refused at submission, like an input.
func TestFileRefsHeldToRoots(t *testing.T) {
	svc, _ := startService(t, Config{})
	in := testFile("h264_aac_1s_gop.mp4")
	for _, op := range []vod.Operation{
		{Type: vod.TypeQuality, Quality: &aispec.QualitySpec{Reference: "/etc/passwd"}},
		{Type: vod.TypeAudit, Audit: &aispec.AuditSpec{Transcript: "/etc/mps/secret.json"}},
	} {
		_, _, err := svc.Submit(context.Background(), Request{Input: in, Operations: []config.OpRef{{Operation: op}}})
		var bad *BadRequestError
		if !errors.As(err, &bad) {
			t.Errorf("%s with a file outside the roots: %v, want a bad request", op.Type, err)
		}
	}
	ok := vod.Operation{Type: vod.TypeQuality, Quality: &aispec.QualitySpec{Reference: in}}
	if _, _, err := svc.Submit(context.Background(), Request{Input: in, Operations: []config.OpRef{{Operation: ok}}}); err != nil {
		t.Fatalf("a reference inside the roots refused: %v", err)
	}
}
