package tasks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"mps/internal/config"
	"mps/internal/storage"
	"mps/internal/vod"
)

// TestOutputTargetUploadsResults: a scheme whose output names a storage
// target uploads every result file there, under the task's output path,
// and each result carries a presigned URL that serves the same bytes as
// the local output; an unknown target is refused at submission.
func TestOutputTargetUploadsResults(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("results"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3.Close()
	t.Setenv("MPS_R_AK", "ak")
	t.Setenv("MPS_R_SK", "sk")
	dataDir := t.TempDir()
	set, err := storage.OpenAll(config.Storage{DataDir: dataDir, Targets: []config.StorageTarget{{Name: "bucket", Kind: config.StorageS3,
		Endpoint: strings.TrimPrefix(s3.URL, "http://"), Bucket: "results", PathStyle: true, AccessKeyEnv: "MPS_R_AK", SecretKeyEnv: "MPS_R_SK"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := vod.Operation{Type: vod.TypeSnapshot, Snapshot: &vod.SnapshotSpec{Times: []vod.Offset{"1s", "2s"}, ImageSpec: vod.ImageSpec{Width: 160}}}
	svc, ts := startService(t, Config{DataDir: dataDir, Storage: set, Schemes: []config.Scheme{{
		Name: "publish", Enabled: true, Operations: []config.OpRef{{Operation: snap}},
		Output: config.SchemeOutput{Prefix: "pub", Target: "bucket"}, Notify: config.SchemeNotify{Mode: config.NotifyNone},
	}}})
	task, _, err := svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"), Scheme: "publish"})
	if err != nil {
		t.Fatal(err)
	}
	end := waitEnd(t, svc, task.ID, time.Minute)
	if end.Status != StatusFinish {
		t.Fatalf("task %s: %s", end.Status, end.Error)
	}
	files := end.Ops[0].Result.Files
	if len(files) != 2 {
		t.Fatalf("%d result files, want 2", len(files))
	}
	for _, f := range files {
		if !strings.HasPrefix(f.URL, s3.URL+"/results/pub/") {
			t.Fatalf("result %s has URL %q, want a presigned URL in the bucket", f.Name, f.URL)
		}
		remote := get(t, f.URL)
		local := get(t, ts.URL+f.Path)
		if len(remote) == 0 || string(remote) != string(local) {
			t.Fatalf("%s: %d bytes from the bucket, %d locally", f.Name, len(remote), len(local))
		}
	}
	_, _, err = svc.Submit(context.Background(), Request{Input: testFile("h264_aac_1s_gop.mp4"),
		Operations: []config.OpRef{{Operation: snap}}, Output: config.SchemeOutput{Target: "nowhere"}})
	if err == nil {
		t.Fatal("an unknown output target was accepted")
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	b, _ := io.ReadAll(resp.Body)
	return b
}
