package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"mps/internal/config"
	"mps/internal/storage"
	"mps/internal/testutil"
	"mps/internal/vod"
)

// BenchmarkBucketTriggerDelay measures, against a real object store
// (SeaweedFS) on loopback, the delay from a PUT of an object being
// confirmed to the bucket-triggered scheme's task starting (its started
// time): "notification" posts the store's S3 event to the webhook right
// after the PUT, as a store that notifies would; "polling-1s" relies on
// the listing every second (the mean delay is then about half the
// interval plus one listing: each PUT is made at a random phase of it).
// "submit-baseline" is a task submitted through the API, submission to
// start: the task service's own share. ms/task is the mean delay.
func BenchmarkBucketTriggerDelay(b *testing.B) {
	srv := testutil.StartS3(b, "media")
	b.Setenv("MPS_T_AK", srv.AccessKey)
	b.Setenv("MPS_T_SK", srv.SecretKey)
	mc, err := srv.Client()
	if err != nil {
		b.Fatal(err)
	}
	target := config.StorageTarget{Name: "store", Kind: config.StorageS3, Endpoint: srv.Endpoint, Bucket: srv.Bucket,
		PathStyle: true, AccessKeyEnv: "MPS_T_AK", SecretKeyEnv: "MPS_T_SK"}
	ctx := context.Background()
	// The store allocates its first volume at the first write (seconds).
	if _, err := mc.PutObject(ctx, srv.Bucket, "warm-up", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name     string
		interval time.Duration
		notify   bool
		submit   bool
	}{{"submit-baseline", -1, false, true}, {"notification", -1, true, false}, {"polling-1s", time.Second, false, false}} {
		b.Run(mode.name, func(b *testing.B) {
			dataDir := b.TempDir()
			set, err := storage.OpenAll(config.Storage{DataDir: dataDir, Targets: []config.StorageTarget{target}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			prefix := fmt.Sprintf("%s-%d/", mode.name, time.Now().UnixNano()) // new keys for every run
			svc, ts := startService(b, Config{DataDir: dataDir, Storage: set, Schemes: []config.Scheme{{
				Name: "ingest", Enabled: true,
				Trigger:    config.SchemeTrigger{Bucket: &config.BucketTrigger{Target: "store", Prefix: prefix, Glob: "*.mp4", Interval: config.Duration(mode.interval)}},
				Operations: []config.OpRef{{Operation: vod.Operation{Type: vod.TypeProbe}}},
				Notify:     config.SchemeNotify{Mode: config.NotifyNone},
			}}})
			var total time.Duration
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("%sk%04d.mp4", prefix, i)
				i++
				if mode.interval > 0 {
					// Uniform phase against the listing, not timed.
					b.StopTimer()
					time.Sleep(time.Duration(rand.Int64N(int64(mode.interval))))
					b.StartTimer()
				}
				if mode.submit {
					// The task service alone: a task submitted through the
					// API, from submission to start.
					t0 := time.Now()
					tk, _, err := svc.Submit(ctx, Request{Input: "s3://store/warm-up", Scheme: "ingest", SessionID: key})
					if err != nil {
						b.Fatal(err)
					}
					total += waitStarted(b, svc, tk.Input, tk.ID).Sub(t0)
					continue
				}
				if _, err := mc.FPutObject(ctx, srv.Bucket, key, testFile("h264_aac_1s_gop.mp4"), minio.PutObjectOptions{}); err != nil {
					b.Fatal(err)
				}
				put := time.Now()
				if mode.notify {
					postEvent(b, ts.URL, key)
				}
				started := waitStarted(b, svc, "s3://store/"+key, "")
				total += started.Sub(put)
			}
			b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "ms/task")
		})
	}
}

// postEvent sends the store's S3 event for key to the scheme's webhook.
func postEvent(b *testing.B, base, key string) {
	event, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventName": "s3:ObjectCreated:Put", "s3": map[string]any{"object": map[string]any{"key": url.QueryEscape(key)}}}}})
	resp, err := http.Post(base+"/api/v1/schemes/ingest/bucket-events", "application/json", strings.NewReader(string(event)))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b.Fatalf("bucket event: %s", resp.Status)
	}
}

// waitStarted returns when the task on input (and with id, when set)
// started.
func waitStarted(b *testing.B, svc *Service, input, id string) time.Time {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, _, err := svc.List(context.Background(), ListOptions{Scheme: "ingest", Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		for _, tk := range list {
			if tk.Input == input && (id == "" || tk.ID == id) && !tk.Started.IsZero() {
				return tk.Started
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("no task started on %s", input)
	return time.Time{}
}
