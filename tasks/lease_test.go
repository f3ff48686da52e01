package tasks

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestKilledNodeShowsOrphaned runs a task on a second node (a child
// process joined to this node's NATS) and kills that node mid-task: the
// task shows ORPHANED as soon as its lease lapses, long before the queue's
// ack wait (a minute here) would hand it to another node.
func TestKilledNodeShowsOrphaned(t *testing.T) {
	data := t.TempDir()
	inDir := filepath.Join(data, "in")
	if err := os.MkdirAll(inDir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := generate(t, filepath.Join(inDir, "long.mp4"), "-f", "lavfi", "-i", "testsrc2=s=160x120:r=15:d=30",
		"-c:v", "libx264", "-preset", "ultrafast")
	lease := 1500 * time.Millisecond
	a, ts := startService(t, Config{DataDir: filepath.Join(data, "a"), NodeID: "a", AckWait: time.Minute, LeaseTTL: lease,
		NATS: config.NATS{Listen: "127.0.0.1:0"}, Tasks: config.Tasks{InputRoots: []string{inDir}}})
	slowOp := map[string]any{"type": "transcode", "transcode": map[string]any{"read_rate": 1, "video": map[string]any{"preset": "ultrafast"}}}
	processingOn := func(id, node string) func() bool {
		return func() bool {
			var cur Task
			apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+id, nil, &cur)
			return cur.Status == StatusProcessing && cur.Node == node
		}
	}
	// Node a (one slot) is kept busy, so the next task goes to the child.
	var busy Task
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": in, "operations": []any{slowOp}}, &busy); code != 201 {
		t.Fatalf("POST = %d", code)
	}
	testutil.WaitFor(t, 20*time.Second, "first task running on node a", processingOn(busy.ID, "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	child, _ := startChild(t, ctx, childConfig{DataDir: filepath.Join(data, "b"), AddrFile: filepath.Join(t.TempDir(), "addr"),
		AckWait: time.Minute, NATSURL: a.NATSURL(), Roots: []string{inDir}, LeaseTTL: lease})
	var task Task
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": in, "operations": []any{slowOp}}, &task); code != 201 {
		t.Fatalf("POST = %d", code)
	}
	testutil.WaitFor(t, 20*time.Second, "second task running on the child", processingOn(task.ID, "child"))
	var cur Task
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+task.ID, nil, &cur)
	if !cur.LeaseUntil.After(time.Now().Add(-time.Second)) {
		t.Errorf("running task's lease_until %v is not current", cur.LeaseUntil)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, "the task shown as ORPHANED", func() bool {
		apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+task.ID, nil, &cur)
		return cur.Status == StatusOrphaned
	})
	if cur.Node != "child" || cur.Attempts != 1 {
		t.Errorf("orphaned task: node %q attempts %d, want the dead node and 1", cur.Node, cur.Attempts)
	}
	var list struct {
		Tasks []Task `json:"tasks"`
	}
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks?status=orphaned", nil, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != task.ID {
		t.Errorf("?status=orphaned lists %+v", list.Tasks)
	}
	if _, err := a.Cancel(context.Background(), busy.ID); err != nil {
		t.Fatal(err)
	}
}
