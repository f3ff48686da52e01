package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mps/internal/testutil"
)

// exhaustPlan is what a child node does to run out of file descriptors.
type exhaustPlan struct {
	Trigger, Released string        // files: start when Trigger exists; Released is written after
	Hold              time.Duration // how long the descriptors stay exhausted in one round
	Rounds            int           // rounds at most
	Limit             uint64        // the lowered RLIMIT_NOFILE
}

// exhaustFiles lowers the open-file limit, waits for the trigger, runs
// rounds of exhaustRound until the store has failed (or p.Rounds), then
// writes p.Released.
func exhaustFiles(ctx context.Context, svc *Service, p exhaustPlan) {
	lim := syscall.Rlimit{Cur: p.Limit, Max: p.Limit}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(2)
	}
	for {
		if _, err := os.Stat(p.Trigger); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	// A round breaks the store about one time in three: repeat until the
	// node has seen its store fail, at most Rounds times.
	for round := 0; round < p.Rounds; round++ {
		exhaustRound(ctx, svc, p.Hold)
		if h := svc.Health(); h.Status != "ok" || h.Recoveries > 0 {
			break
		}
		time.Sleep(min(3*svc.cfg.HealthEvery, 2*time.Second)) // let the monitor look
		if h := svc.Health(); h.Status != "ok" || h.Recoveries > 0 {
			break
		}
	}
	_ = os.WriteFile(p.Released, []byte("released"), 0o644)
}

// exhaustRound opens files until none are left, keeps the task store
// writing (as a busy node does) for hold, then lets the files go.
func exhaustRound(ctx context.Context, svc *Service, hold time.Duration) {
	var files []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		files = append(files, f)
	}
	value := make([]byte, 256<<10)
	for i, end := 0, time.Now().Add(hold); time.Now().Before(end); i++ {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _ = svc.kv.Put(wctx, fmt.Sprintf("load.%d", i%50), value)
		cancel()
	}
	for _, f := range files {
		f.Close()
	}
}

// TestStoreRecoversAfterFilesExhausted reproduces the incident: a node
// runs out of file descriptors while its store is busy; NATS's file store
// keeps the failed write's error, and once the descriptors are free again
// task submissions still fail ("context deadline exceeded") until the
// embedded server is restarted. The store monitor notices the failing
// writes and restarts it: submissions are accepted again, unattended.
func TestStoreRecoversAfterFilesExhausted(t *testing.T) {
	dir := t.TempDir()
	plan := &exhaustPlan{Trigger: filepath.Join(dir, "go"), Released: filepath.Join(dir, "released"), Hold: 5 * time.Second, Rounds: 4, Limit: 512}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, addr := startChild(t, ctx, childConfig{DataDir: filepath.Join(dir, "data"), AddrFile: filepath.Join(dir, "addr"),
		Roots: []string{filepath.Dir(testFile("x"))}, HealthEvery: 500 * time.Millisecond, Exhaust: plan})
	api := "http://" + string(addr)
	probe := map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"type": "probe"}}}
	if code := apiJSON(t, "POST", api+"/api/v1/tasks", probe, nil); code != http.StatusCreated {
		t.Fatalf("POST before = %d", code)
	}
	if err := os.WriteFile(plan.Trigger, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, time.Minute, "the child to let its files go", func() bool {
		_, err := os.Stat(plan.Released)
		return err == nil
	})
	var answer map[string]any
	testutil.WaitFor(t, time.Minute, "a task accepted again", func() bool {
		return apiJSON(t, "POST", api+"/api/v1/tasks", probe, &answer) == http.StatusCreated
	})
	var h Health
	apiJSON(t, "GET", api+"/api/v1/tasks/health", nil, &h)
	if h.Status == "ok" && h.Recoveries == 0 {
		t.Skip("running out of descriptors did not break the task store on this run; nothing was recovered")
	}
	testutil.WaitFor(t, 30*time.Second, "health ok with the recovery counted", func() bool {
		return apiJSON(t, "GET", api+"/api/v1/tasks/health", nil, &h) == http.StatusOK && h.Recoveries >= 1
	})
	var task Task
	if code := apiJSON(t, "POST", api+"/api/v1/tasks", probe, &task); code != http.StatusCreated {
		b, _ := json.Marshal(h)
		t.Fatalf("POST after recovery = %d (health %s)", code, b)
	}
	testutil.WaitFor(t, 30*time.Second, "the task run after recovery", func() bool {
		var cur Task
		apiJSON(t, "GET", api+"/api/v1/tasks/"+task.ID, nil, &cur)
		return cur.Status == StatusFinish
	})
}
