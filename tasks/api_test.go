package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/vod"
)

func TestTaskLifecycleOverAPI(t *testing.T) {
	hooks := newHookSink(t, "s3cret")
	svc, ts := startService(t, Config{
		Tasks: config.Tasks{Concurrency: 2},
		Templates: map[string]vod.Operation{
			"thumbs": {Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"1s", "50%"}, ImageSpec: vod.ImageSpec{Width: 160}}},
		},
		Webhooks: []config.Webhook{{URL: hooks.srv.URL, Secret: "s3cret", Events: []string{"task.*"}}},
	})
	req := map[string]any{
		"input": testFile("h264_aac_1s_gop.mp4"),
		"operations": []any{
			map[string]any{"template": "thumbs"},
			map[string]any{"type": "transcode", "transcode": map[string]any{"container": "mp4", "video": map[string]any{"height": 120}, "end": "2s"}},
		},
		"output":     map[string]any{"prefix": "jobs/a"},
		"session_id": "client-42",
		"notify":     map[string]any{"mode": "change"},
	}
	var task Task
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", req, &task); code != http.StatusCreated {
		t.Fatalf("POST = %d", code)
	}
	if task.Status != StatusWaiting || len(task.Ops) != 2 || task.Output != "jobs/a/"+task.ID {
		t.Fatalf("created %+v", task)
	}
	// The same session id gets the same task, not a new one.
	var again Task
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", req, &again); code != http.StatusOK || again.ID != task.ID {
		t.Fatalf("repeat POST = %d id %s, want 200 %s", code, again.ID, task.ID)
	}
	done := waitEnd(t, svc, task.ID, 60*time.Second)
	var got Task
	if code := apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+task.ID, nil, &got); code != 200 || got.Status != StatusFinish {
		t.Fatalf("GET = %d %+v", code, got)
	}
	if done.Progress != 100 || done.Attempts != 1 {
		t.Errorf("progress %.0f attempts %d", done.Progress, done.Attempts)
	}
	snap := got.Ops[0]
	if snap.State != StatusSuccess || snap.Name != "thumbs" || snap.Result == nil || len(snap.Result.Snapshots) != 2 {
		t.Fatalf("snapshot op %+v", snap)
	}
	tr := got.Ops[1]
	if tr.State != StatusSuccess || tr.Result == nil || len(tr.Result.Files) != 1 {
		t.Fatalf("transcode op %+v", tr)
	}
	f := tr.Result.Files[0]
	if f.Height != 120 || f.VideoCodec != "h264" || f.Duration < 1.9 || f.Duration > 2.1 {
		t.Errorf("transcode result %+v", f)
	}
	// The result's path downloads over HTTP, under both mount points.
	for _, p := range []string{f.Path, "/api/v1" + f.Path} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || int64(len(b)) != f.Size {
			t.Errorf("GET %s = %d, %d bytes, want %d", p, resp.StatusCode, len(b), f.Size)
		}
	}
	// Traversal and listings are refused.
	secret := filepath.Join(svc.cfg.DataDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(svc.cfg.DataDir, "outputs", "link.txt")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/outputs/../secret.txt", "/outputs/%2e%2e/secret.txt", "/outputs/jobs/", "/outputs/link.txt", "/api/v1/outputs/..%2fsecret.txt"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || string(b) == "x" {
			t.Errorf("GET %s = %d %q", p, resp.StatusCode, b)
		}
	}
	// Change mode: created, started, one progress per operation, completed.
	hooks.wait("task.completed", task.ID, 1, 10*time.Second)
	for typ, n := range map[string]int{"task.created": 1, "task.started": 1, "task.completed": 1} {
		if c := hooks.count(typ, task.ID); c != n {
			t.Errorf("%d %s webhooks, want %d", c, typ, n)
		}
	}
	if c := hooks.count("task.progress", task.ID); c < 2 {
		t.Errorf("%d task.progress webhooks in change mode, want >= 2 (one per operation)", c)
	}
	if hooks.badCount() != 0 {
		t.Errorf("%d deliveries with bad signatures", hooks.badCount())
	}
}

func TestListFiltersAndPages(t *testing.T) {
	svc, ts := startService(t, Config{
		Tasks:   config.Tasks{Concurrency: 2},
		Schemes: []config.Scheme{{Enabled: true, Name: "probe-all", Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}}},
	})
	var ids []string
	for i := range 5 {
		body := map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"type": "probe"}}}
		if i%2 == 0 {
			body = map[string]any{"input": testFile("video_only.mp4"), "scheme": "probe-all"}
		}
		var task Task
		if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", body, &task); code != 201 {
			t.Fatalf("POST %d = %d", i, code)
		}
		ids = append(ids, task.ID)
	}
	for _, id := range ids {
		waitEnd(t, svc, id, 30*time.Second)
	}
	type page struct {
		Tasks []Task `json:"tasks"`
		Next  string `json:"next_cursor"`
	}
	var p page
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks?scheme=probe-all", nil, &p)
	if len(p.Tasks) != 3 {
		t.Errorf("scheme filter: %d tasks, want 3", len(p.Tasks))
	}
	for _, task := range p.Tasks {
		if task.Scheme != "probe-all" || !strings.HasPrefix(task.Output, "probe-all/") {
			t.Errorf("scheme filter returned %+v", task)
		}
	}
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks?status=finish&limit=2", nil, &p)
	if len(p.Tasks) != 2 || p.Tasks[0].ID != ids[4] || p.Tasks[1].ID != ids[3] || p.Next == "" {
		t.Fatalf("page 1: %d tasks, next %q", len(p.Tasks), p.Next)
	}
	var seen []string
	cursor := ""
	for range 5 {
		apiJSON(t, "GET", ts.URL+"/api/v1/tasks?limit=2&cursor="+cursor, nil, &p)
		for _, task := range p.Tasks {
			seen = append(seen, task.ID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Errorf("cursor paging saw %v", seen)
	}
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks?offset=3&limit=10", nil, &p)
	if len(p.Tasks) != 2 || p.Tasks[0].ID != ids[1] {
		t.Errorf("offset paging: %d tasks", len(p.Tasks))
	}
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks?status=fail", nil, &p)
	if len(p.Tasks) != 0 {
		t.Errorf("status=fail: %d tasks", len(p.Tasks))
	}
}

func TestCancelStopsFFmpeg(t *testing.T) {
	hooks := newHookSink(t, "k")
	svc, ts := startService(t, Config{Webhooks: []config.Webhook{{URL: hooks.srv.URL, Secret: "k"}}})
	body := map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{
		map[string]any{"type": "transcode", "transcode": map[string]any{"read_rate": 0.5}},
		map[string]any{"type": "probe"},
	}}
	var task Task
	apiJSON(t, "POST", ts.URL+"/api/v1/tasks", body, &task)
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur, err := svc.Get(context.Background(), task.ID)
		if err == nil && cur.Status == StatusProcessing && cur.Ops[0].State == StatusProcessing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task never started: %+v", cur)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t0 := time.Now()
	var canceled Task
	if code := apiJSON(t, "DELETE", ts.URL+"/api/v1/tasks/"+task.ID, nil, &canceled); code != 200 || canceled.Status != StatusCanceled {
		t.Fatalf("DELETE = %d %+v", code, canceled)
	}
	waitEnd(t, svc, task.ID, 10*time.Second)
	// The end webhook goes out after the running node recorded its ops.
	hooks.wait("task.canceled", task.ID, 1, 10*time.Second)
	end, err := svc.Get(context.Background(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The transcode reads 6 s of input at half speed (12 s); being
	// settled this soon means ffmpeg was killed.
	if d := time.Since(t0); d > 6*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if end.Status != StatusCanceled || end.Ops[0].State != StatusCanceled || end.Ops[1].State != StatusCanceled {
		t.Errorf("after cancel: %s, ops %s/%s", end.Status, end.Ops[0].State, end.Ops[1].State)
	}
	if code := apiJSON(t, "DELETE", ts.URL+"/api/v1/tasks/"+task.ID, nil, nil); code != http.StatusConflict {
		t.Errorf("second DELETE = %d, want 409", code)
	}
	if code := apiJSON(t, "DELETE", ts.URL+"/api/v1/tasks/0123abcd", nil, nil); code != http.StatusNotFound {
		t.Errorf("DELETE unknown = %d, want 404", code)
	}
	time.Sleep(300 * time.Millisecond)
	if n := hooks.count("task.canceled", task.ID); n != 1 {
		t.Errorf("%d task.canceled webhooks, want 1", n)
	}
}

func TestBadInputsAndRequests(t *testing.T) {
	svc, ts := startService(t, Config{
		Tasks:     config.Tasks{Concurrency: 2},
		Templates: map[string]vod.Operation{"probe": {Type: vod.TypeProbe}},
	})
	dir := filepath.Join(svc.cfg.DataDir, "in")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(text, []byte("hello, not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "truncated.mp4")
	if err := os.WriteFile(trunc, whole[:len(whole)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "elsewhere.mp4")
	if err := os.WriteFile(outside, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	transcode := map[string]any{"type": "transcode", "transcode": map[string]any{"video": map[string]any{"height": 120}}}
	// Refused at submission with 4xx and a clear message.
	for _, tc := range []struct {
		body any
		code int
		msg  string
	}{
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"template": "nope"}}}, 400, "unknown template"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{transcode}, "output": map[string]any{"prefix": "../escape"}}, 400, ".."},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{transcode}, "output": map[string]any{"dir": "a/../../b"}}, 400, ".."},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{transcode}, "output": map[string]any{"dir": "/etc"}}, 400, "relative"},
		{map[string]any{"input": outside, "operations": []any{transcode}}, 400, "outside"},
		{map[string]any{"input": "/etc/passwd", "operations": []any{transcode}}, 400, "outside"},
		{map[string]any{"input": "relative.mp4", "operations": []any{transcode}}, 400, "absolute"},
		{map[string]any{"input": "ftp://x/y.mp4", "operations": []any{transcode}}, 400, "scheme"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"type": "explode"}}}, 400, "unknown operation"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4")}, 400, "no operations"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "scheme": "ghost"}, 400, "unknown scheme"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{transcode}, "bogus": 1}, 400, "unknown field"},
		{"not json", 400, "bad task request"},
		{map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "operations": []any{map[string]any{"type": "watermark", "watermark": map[string]any{"names": []string{"logo"}}}}}, 400, "watermark"},
	} {
		var e struct{ Error string }
		code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", tc.body, &e)
		if code != tc.code || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("POST %v = %d %q, want %d containing %q", tc.body, code, e.Error, tc.code, tc.msg)
		}
	}
	// Accepted, then fail with a clear error; a good task alongside is
	// unaffected.
	submit := func(in string) string {
		var task Task
		if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": in, "operations": []any{transcode}}, &task); code != 201 {
			t.Fatalf("POST %s = %d", in, code)
		}
		return task.ID
	}
	bad1, bad2, good := submit(text), submit(trunc), submit(testFile("h264_aac_1s_gop.mp4"))
	for id, want := range map[string]string{bad1: "not a media file", bad2: "partial file"} {
		end := waitEnd(t, svc, id, 30*time.Second)
		if end.Status != StatusFail || end.Ops[0].State != StatusFail || !strings.Contains(end.Ops[0].Error, want) || end.Error == "" {
			t.Errorf("bad input task: %s, op %s %q, want FAIL with %q", end.Status, end.Ops[0].State, end.Ops[0].Error, want)
		}
	}
	if end := waitEnd(t, svc, good, 30*time.Second); end.Status != StatusFinish {
		t.Errorf("good task alongside: %s %s", end.Status, end.Error)
	}
}

func TestUploadAndURLInputs(t *testing.T) {
	data, err := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	svc, ts := startService(t, Config{Tasks: config.Tasks{UploadLimit: config.ByteSize(len(data)) + 10, Concurrency: 2}, DownloadLimit: int64(len(data)) + 10})
	post := func(body io.Reader, ctype string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/uploads?name=../../clip.mp4", body)
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := post(strings.NewReader(string(data)), "video/mp4") //nolint:bodyclose // post closes it
	var up Upload
	if resp.StatusCode != 201 || json.Unmarshal(b, &up) != nil || up.Size != int64(len(data)) || up.Name != "clip.mp4" {
		t.Fatalf("upload = %d %s", resp.StatusCode, b)
	}
	if _, err := os.Stat(filepath.Join(svc.cfg.DataDir, "uploads", up.ID, "clip.mp4")); err != nil {
		t.Fatalf("upload not stored under data_dir/uploads: %v", err)
	}
	resp, _ = post(strings.NewReader(string(data)+strings.Repeat("x", 100)), "video/mp4") //nolint:bodyclose // post closes it
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized upload = %d, want 413", resp.StatusCode)
	}
	entries, _ := os.ReadDir(filepath.Join(svc.cfg.DataDir, "uploads"))
	if len(entries) != 1 {
		t.Errorf("%d upload dirs after a refused upload, want 1", len(entries))
	}

	files := http.NewServeMux()
	files.HandleFunc("/clip.mp4", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) })
	files.HandleFunc("/huge.mp4", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			_, _ = w.Write(data) // chunked, no Content-Length: the limit must cut it
		}
	})
	origin := newLoopbackServer(t, files)
	probe := []any{map[string]any{"type": "probe"}}
	ids := map[string]Status{}
	for in, want := range map[string]Status{"upload:" + up.ID: StatusFinish, origin + "/clip.mp4": StatusFinish, origin + "/huge.mp4": StatusFail, origin + "/missing.mp4": StatusFail} {
		var task Task
		if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": in, "operations": probe}, &task); code != 201 {
			t.Fatalf("POST %s = %d", in, code)
		}
		ids[task.ID] = want
	}
	for id, want := range ids {
		end := waitEnd(t, svc, id, 30*time.Second)
		if end.Status != want {
			t.Errorf("input %s: %s %q, want %s", end.Input, end.Status, end.Error, want)
		}
		if strings.HasSuffix(end.Input, "huge.mp4") && !strings.Contains(end.Error, "too large") {
			t.Errorf("huge download error %q", end.Error)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(svc.cfg.DataDir, "downloads")); len(entries) != 0 {
		t.Errorf("downloads left behind: %d", len(entries))
	}
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": "upload:ffff", "operations": probe}, nil); code != 400 {
		t.Errorf("unknown upload = %d, want 400", code)
	}
}

func newLoopbackServer(t *testing.T, h http.Handler) string {
	srv := newHTTPTest(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
