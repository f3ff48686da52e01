package tasks

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"mps/internal/config"
	"mps/internal/storage"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// TestBucketTriggerFiresOncePerObject runs a scheme with a bucket trigger
// against a real object store process: an object present at start fires
// once (listing), an object announced by the store's webhook fires at once
// and a repeated announcement does not fire again, and after a restart
// nothing already handled fires while an object added during the downtime
// does. Every task reads its input as s3://TARGET/KEY and finishes.
func TestBucketTriggerFiresOncePerObject(t *testing.T) {
	srv := testutil.StartS3(t, "media")
	t.Setenv("MPS_T_AK", srv.AccessKey)
	t.Setenv("MPS_T_SK", srv.SecretKey)
	mc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upload := func(key string) {
		t.Helper()
		if _, err := mc.FPutObject(ctx, srv.Bucket, key, testFile("h264_aac_1s_gop.mp4"), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	target := config.StorageTarget{Name: "store", Kind: config.StorageS3, Endpoint: srv.Endpoint, Bucket: srv.Bucket,
		PathStyle: true, AccessKeyEnv: "MPS_T_AK", SecretKeyEnv: "MPS_T_SK"}
	dataDir := t.TempDir()
	newCfg := func() Config {
		set, err := storage.OpenAll(config.Storage{DataDir: dataDir, Targets: []config.StorageTarget{target}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return Config{DataDir: dataDir, Storage: set, Schemes: []config.Scheme{{
			Name: "ingest", Enabled: true,
			Trigger:    config.SchemeTrigger{Bucket: &config.BucketTrigger{Target: "store", Prefix: "incoming/", Glob: "*.mp4", Interval: config.Duration(-1)}},
			Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}},
			Notify:     config.SchemeNotify{Mode: config.NotifyNone},
		}}}
	}
	inputs := func(svc *Service) []string {
		t.Helper()
		list, _, err := svc.List(ctx, ListOptions{Scheme: "ingest", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tk := range list {
			if tk := waitEnd(t, svc, tk.ID, time.Minute); tk.Status != StatusFinish {
				t.Fatalf("task %s on %s: %s %s", tk.ID, tk.Input, tk.Status, tk.Error)
			}
			out = append(out, tk.Input)
		}
		slices.Sort(out)
		return out
	}

	upload("incoming/a.mp4")
	upload("other/x.mp4")       // outside the prefix
	upload("incoming/note.txt") // not matching the glob
	svc, ts := startService(t, newCfg())
	testutil.WaitFor(t, 30*time.Second, "the object present at start", func() bool { return len(inputs(svc)) == 1 })

	upload("incoming/b.mp4")
	event, _ := json.Marshal(map[string]any{"EventName": "s3:ObjectCreated:Put", "Records": []any{map[string]any{
		"eventName": "s3:ObjectCreated:Put", "s3": map[string]any{"object": map[string]any{"key": url.QueryEscape("incoming/b.mp4")}}}}})
	for range 2 { // the store may deliver twice
		resp, err := http.Post(ts.URL+"/api/v1/schemes/ingest/bucket-events", "application/json", strings.NewReader(string(event)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("bucket event: %s", resp.Status)
		}
	}
	want := []string{"s3://store/incoming/a.mp4", "s3://store/incoming/b.mp4"}
	if got := inputs(svc); !slices.Equal(got, want) {
		t.Fatalf("tasks after the event = %v, want %v", got, want)
	}
	resp, err := http.Post(ts.URL+"/api/v1/schemes/nope/bucket-events", "application/json", strings.NewReader(string(event)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("event for a scheme without a bucket trigger: %s", resp.Status)
	}

	ts.Close()
	svc.Close()
	upload("incoming/c.mp4") // arrives while the server is down
	svc2, _ := startService(t, newCfg())
	want = append(want, "s3://store/incoming/c.mp4")
	testutil.WaitFor(t, 30*time.Second, "the object added during the downtime", func() bool { return len(inputs(svc2)) >= 3 })
	if got := inputs(svc2); !slices.Equal(got, want) {
		t.Fatalf("tasks after the restart = %v, want %v (each object once)", got, want)
	}
}

// TestStorageInputRefused: an s3 input naming an unknown target, or not of
// the s3://TARGET/KEY form, is refused at submission.
func TestStorageInputRefused(t *testing.T) {
	svc, _ := startService(t, Config{})
	for _, in := range []string{"s3://nowhere/a.mp4", "s3://store/", "ftp://h/a.mp4"} {
		_, _, err := svc.Submit(context.Background(), Request{Input: in, Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}}})
		if err == nil {
			t.Errorf("input %q accepted", in)
		}
	}
}
