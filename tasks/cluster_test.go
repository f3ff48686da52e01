package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// childEnv carries a child node's settings (TestMain helper-process
// pattern: the test binary re-executes itself as a node).
const childEnv = "MPS_TASKS_TEST_CHILD"

type childConfig struct {
	DataDir  string
	Hook     string
	Secret   string
	AddrFile string
	AckWait  time.Duration
	// NATSURL joins another node's NATS instead of embedding one; Roots
	// are extra input roots; LeaseTTL is the task lease.
	NATSURL  string
	Roots    []string
	LeaseTTL time.Duration
	// Exhaust, when set, makes the child run out of file descriptors for
	// a while under store writes once Exhaust.Trigger exists (see
	// exhaustFiles); HealthEvery is the store monitor's period.
	Exhaust     *exhaustPlan
	HealthEvery time.Duration
}

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		runChild(v)
		return
	}
	os.Exit(m.Run())
}

// runChild is a node in its own process: it serves the API on loopback,
// writes the address to a file and runs until killed (at most a minute).
func runChild(v string) {
	var c childConfig
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg := Config{DataDir: c.DataDir, AckWait: c.AckWait, NodeID: "child", LeaseTTL: c.LeaseTTL, HealthEvery: c.HealthEvery,
		NATS: config.NATS{URL: c.NATSURL}, Tasks: config.Tasks{InputRoots: c.Roots}}
	if c.Hook != "" {
		cfg.Webhooks = []config.Webhook{{URL: c.Hook, Secret: c.Secret}}
	}
	svc, err := New(cfg, events.NewBus(), slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// ctx is the child's whole life (at most a minute); cancel runs on
	// every way out, as os.Exit skips deferred calls.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := svc.Start(ctx); err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		os.Exit(2)
	}
	go func() { _ = http.Serve(ln, svc.Handler()) }()
	_ = os.WriteFile(c.AddrFile+".tmp", []byte(ln.Addr().String()), 0o644)
	_ = os.Rename(c.AddrFile+".tmp", c.AddrFile)
	if c.Exhaust != nil {
		exhaustFiles(ctx, svc, *c.Exhaust)
	}
	<-ctx.Done()
	cancel()
	os.Exit(3)
}

func TestNodeKilledMidTaskIsRerunAndNotifiedOnce(t *testing.T) {
	hooks := newHookSink(t, "dur")
	data := t.TempDir()
	in := filepath.Join(data, "in", "long.mp4")
	if err := os.MkdirAll(filepath.Dir(in), 0o755); err != nil {
		t.Fatal(err)
	}
	generate(t, in, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=20", "-f", "lavfi", "-i", "sine=d=20",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac", "-shortest")

	cc := childConfig{DataDir: data, Hook: hooks.srv.URL, Secret: "dur", AddrFile: filepath.Join(t.TempDir(), "addr"), AckWait: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	child, addr := startChild(t, ctx, cc)
	api := "http://" + string(addr)
	// 20 s of input read at 4x real time: about 5 s of work.
	var task Task
	if code := apiJSON(t, "POST", api+"/api/v1/tasks", map[string]any{"input": in, "operations": []any{
		map[string]any{"type": "transcode", "transcode": map[string]any{"read_rate": 4, "video": map[string]any{"preset": "ultrafast"}}},
	}}, &task); code != 201 {
		t.Fatalf("POST = %d", code)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var cur Task
		apiJSON(t, "GET", api+"/api/v1/tasks/"+task.ID, nil, &cur)
		if cur.Status == StatusProcessing && cur.Progress >= 10 {
			break
		}
		if cur.Status.Terminal() || time.Now().After(deadline) {
			t.Fatalf("task not caught mid-run: %+v", cur)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	// A new node on the same store picks the task up after AckWait and runs
	// it again from the start.
	svc, err := New(Config{DataDir: data, AckWait: 2 * time.Second, NodeID: "successor",
		Webhooks: []config.Webhook{{URL: hooks.srv.URL, Secret: "dur"}}}, events.NewBus(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	runs := 0
	svc.runHook = func(string) { mu.Lock(); runs++; mu.Unlock() }
	serve(t, svc)
	end := waitEnd(t, svc, task.ID, 45*time.Second)
	if end.Status != StatusFinish || end.Attempts != 2 || end.Node != "successor" {
		t.Fatalf("after takeover: %s attempts %d node %s err %q", end.Status, end.Attempts, end.Node, end.Error)
	}
	f := end.Ops[0].Result.Files[0]
	if f.Duration < 19.8 || f.Duration > 20.2 || f.VideoCodec != "h264" {
		t.Errorf("re-run output %+v, want the whole 20 s", f)
	}
	hooks.wait("task.completed", task.ID, 1, 10*time.Second)

	// A finished task delivered again (as after a crash between the end
	// and the ack) is neither re-run nor re-notified.
	if err := svc.nc.Publish(prioritySubject(0), []byte(task.ID)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if runs != 1 {
		t.Errorf("successor ran the task %d times, want 1", runs)
	}
	if n := hooks.count("task.completed", task.ID); n != 1 {
		t.Errorf("%d task.completed webhooks, want exactly 1", n)
	}
	if again, _ := svc.Get(context.Background(), task.ID); again.Attempts != 2 || !again.Notified {
		t.Errorf("after redelivery: attempts %d notified %v", again.Attempts, again.Notified)
	}
}

func TestTwoNodesShareOneQueue(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	hook := func(id string) { mu.Lock(); runs[id]++; mu.Unlock() }
	a, err := New(Config{DataDir: t.TempDir(), NodeID: "a", NATS: config.NATS{Listen: "127.0.0.1:0"},
		Tasks: config.Tasks{Concurrency: 2, InputRoots: []string{filepath.Dir(testFile("x"))}}}, events.NewBus(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	a.runHook = hook
	serve(t, a)
	if a.NATSURL() == "" {
		t.Fatal("node a does not listen")
	}
	b, err := New(Config{DataDir: t.TempDir(), NodeID: "b", NATS: config.NATS{URL: a.NATSURL()},
		Tasks: config.Tasks{Concurrency: 2, InputRoots: []string{filepath.Dir(testFile("x"))}}}, events.NewBus(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	b.runHook = hook
	serve(t, b)

	// Each task takes about a second (read at real time), so two slots on
	// one node cannot take all six before the other node asks.
	op := vod.Operation{Type: vod.TypeTranscode, Transcode: &vod.TranscodeSpec{End: "1s", ReadRate: 1, Video: vod.VideoSpec{Preset: "ultrafast"}}}
	var ids []string
	for i := range 6 {
		node := a
		if i%2 == 1 {
			node = b
		}
		task, _, err := node.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"), Operations: []config.OpRef{{Operation: op}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	byNode := map[string]int{}
	for _, id := range ids {
		end := waitEnd(t, a, id, 40*time.Second)
		if end.Status != StatusFinish {
			t.Errorf("task %s: %s %s", id, end.Status, end.Error)
		}
		byNode[end.Node]++
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if runs[id] != 1 {
			t.Errorf("task %s ran %d times, want 1", id, runs[id])
		}
	}
	if len(runs) != 6 || byNode["a"] == 0 || byNode["b"] == 0 {
		t.Errorf("runs %v, by node %v: want 6 tasks shared by both nodes", runs, byNode)
	}
	t.Logf("tasks per node: %s", strconv.Quote(fmt.Sprint(byNode)))
}

// startChild starts a node in a child process and returns it with the
// address of its API.
func startChild(t *testing.T, ctx context.Context, cc childConfig) (*exec.Cmd, []byte) {
	t.Helper()
	env, _ := json.Marshal(cc)
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(env))
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var addr []byte
	testutil.WaitFor(t, 20*time.Second, "child node up", func() bool {
		var err error
		addr, err = os.ReadFile(cc.AddrFile)
		return err == nil
	})
	return child, addr
}
