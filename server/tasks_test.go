package server

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestTaskOverAPI uploads a file and runs a snapshot task on it through the
// server's API, as a client of the media processing service would: the
// task reaches FINISH and its JPEGs download from /outputs/.
func TestTaskOverAPI(t *testing.T) {
	needFFmpeg(t)
	s := startServer(t, testConfig(t))
	base := "http://" + s.HTTPAddr()
	src, err := os.ReadFile(testdata(t, "h264_aac_1s_gop.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/v1/uploads?name=clip.mp4", "application/octet-stream", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ Input string }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || !strings.HasPrefix(up.Input, "upload:") {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	body := `{"input":"` + up.Input + `","operations":[{"type":"snapshot","snapshot":{"times":["1s","50%"]}}],"output":{"prefix":"api"}}`
	resp, err = http.Post(base+"/api/v1/tasks", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		ID     string
		Status string
		Ops    []struct {
			State  string
			Error  string
			Result struct{ Files []struct{ Name, Path string } }
		}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &task) != nil || task.ID == "" {
		t.Fatalf("create task: %d %s", resp.StatusCode, b)
	}
	testutil.WaitFor(t, 60*time.Second, "task finished", func() bool {
		getJSON(t, base+"/api/v1/tasks/"+task.ID, &task)
		return task.Status == "FINISH" || task.Status == "FAIL"
	})
	if task.Status != "FINISH" || len(task.Ops) != 1 || task.Ops[0].State != "SUCCESS" || len(task.Ops[0].Result.Files) != 2 {
		t.Fatalf("task %+v", task)
	}
	for _, f := range task.Ops[0].Result.Files {
		resp, err := http.Get(base + f.Path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := jpeg.DecodeConfig(resp.Body)
		resp.Body.Close()
		if err != nil || c.Width != 320 {
			t.Fatalf("snapshot %s: %v %dx%d", f.Path, err, c.Width, c.Height)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Config().Storage.DataDir, "outputs")); err != nil {
		t.Fatalf("outputs not under data_dir: %v", err)
	}
}
