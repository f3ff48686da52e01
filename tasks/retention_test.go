package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestRetentionDeletesEndedTasks runs one task under tasks.keep_for (1 s)
// and one under a scheme that keeps its tasks for an hour: the first's
// record, outputs and upload go, the second's stay.
func TestRetentionDeletesEndedTasks(t *testing.T) {
	data := t.TempDir()
	snap := config.OpRef{Operation: vod.Operation{Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"0.5s"}}}}
	svc, ts := startService(t, Config{
		DataDir:      data,
		Tasks:        config.Tasks{KeepFor: config.Duration(time.Second)},
		JanitorEvery: 100 * time.Millisecond,
		Schemes: []config.Scheme{{Enabled: true, Name: "archive", KeepFor: config.Duration(time.Hour),
			Operations: []config.OpRef{snap}}},
	})
	src, err := os.ReadFile(testFile("h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	var up Upload
	resp, err := http.Post(ts.URL+"/api/v1/uploads?name=clip.mp4", "video/mp4", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeBody(resp, &up); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	var short, kept Task
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": up.Input, "operations": []any{snap}}, &short); code != http.StatusCreated {
		t.Fatalf("POST short = %d", code)
	}
	if code := apiJSON(t, "POST", ts.URL+"/api/v1/tasks", map[string]any{"input": testFile("h264_aac_1s_gop.mp4"), "scheme": "archive"}, &kept); code != http.StatusCreated {
		t.Fatalf("POST kept = %d", code)
	}
	waitEnd(t, svc, kept.ID, 30*time.Second)
	shortOut := filepath.Join(data, "outputs", short.ID)
	keptOut := filepath.Join(data, "outputs", "archive", kept.ID)
	testutil.WaitFor(t, 30*time.Second, "short-lived task deleted", func() bool {
		return apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+short.ID, nil, nil) == http.StatusNotFound
	})
	if _, err := os.Stat(shortOut); !os.IsNotExist(err) {
		t.Errorf("outputs of the deleted task remain: %v", err)
	}
	testutil.WaitFor(t, 10*time.Second, "upload deleted", func() bool {
		_, err := os.Stat(filepath.Join(data, "uploads", up.ID))
		return os.IsNotExist(err)
	})
	var got Task
	if code := apiJSON(t, "GET", ts.URL+"/api/v1/tasks/"+kept.ID, nil, &got); code != http.StatusOK || got.Status != StatusFinish {
		t.Fatalf("scheme task with keep_for 1h: %d %+v", code, got)
	}
	if _, err := os.Stat(filepath.Join(keptOut, "01-snapshot", "snapshot_0001.jpg")); err != nil {
		t.Errorf("kept task's output: %v", err)
	}
	var list struct {
		Tasks []Task `json:"tasks"`
	}
	apiJSON(t, "GET", ts.URL+"/api/v1/tasks", nil, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != kept.ID {
		t.Errorf("listing after retention: %+v", list.Tasks)
	}
}

// TestTaskListPages pages through tasks with limit and after: every task
// once, newest first, and next_cursor empty on the last page.
func TestTaskListPages(t *testing.T) {
	svc, ts := startService(t, Config{})
	var ids []string
	for i := range 7 {
		task, _, err := svc.Submit(t.Context(), Request{Input: testFile("h264_aac_1s_gop.mp4"), SessionID: fmt.Sprint("page-", i),
			Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{task.ID}, ids...) // newest first
	}
	var got []string
	after, pages := "", 0
	for {
		var page struct {
			Tasks []Task `json:"tasks"`
			Next  string `json:"next_cursor"`
		}
		if code := apiJSON(t, "GET", ts.URL+"/api/v1/tasks?limit=3&after="+after, nil, &page); code != http.StatusOK {
			t.Fatalf("list = %d", code)
		}
		pages++
		for _, task := range page.Tasks {
			got = append(got, task.ID)
		}
		if page.Next == "" || pages > 5 {
			break
		}
		after = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) || pages != 3 {
		t.Errorf("paged %d pages %v, want 3 pages %v", pages, got, ids)
	}
	if code := apiJSON(t, "GET", ts.URL+"/api/v1/tasks?after=../x", nil, nil); code != http.StatusBadRequest {
		t.Errorf("bad after = %d, want 400", code)
	}
}

// TestRetentionKeepsSharedOutputDir runs a short-lived scheme's task and
// then a long-lived one into the same output.dir: when the first expires
// the files there, now the second's, stay.
func TestRetentionKeepsSharedOutputDir(t *testing.T) {
	data := t.TempDir()
	snap := config.OpRef{Operation: vod.Operation{Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"0.5s"}}}}
	shared := config.SchemeOutput{Dir: "shared"}
	svc, _ := startService(t, Config{DataDir: data, JanitorEvery: 100 * time.Millisecond, Schemes: []config.Scheme{
		{Enabled: true, Name: "brief", KeepFor: config.Duration(time.Second), Output: shared, Operations: []config.OpRef{snap}},
		{Enabled: true, Name: "long", KeepFor: config.Duration(time.Hour), Output: shared, Operations: []config.OpRef{snap}},
	}})
	in := testFile("h264_aac_1s_gop.mp4")
	first, _, err := svc.Submit(t.Context(), Request{Input: in, Scheme: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	waitEnd(t, svc, first.ID, 30*time.Second)
	second, _, err := svc.Submit(t.Context(), Request{Input: in, Scheme: "long"})
	if err != nil {
		t.Fatal(err)
	}
	waitEnd(t, svc, second.ID, 30*time.Second)
	testutil.WaitFor(t, 30*time.Second, "the short-lived task deleted", func() bool {
		_, err := svc.Get(t.Context(), first.ID)
		return errors.Is(err, ErrNotFound)
	})
	if _, err := os.Stat(filepath.Join(data, "outputs", "shared", "01-snapshot", "snapshot_0001.jpg")); err != nil {
		t.Errorf("the kept task's output in the shared folder: %v", err)
	}
}
