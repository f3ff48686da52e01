package server

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestRecordRTMPPublish records an ffmpeg RTMP publish through the whole
// server (the path rule turns recording on with 4 s segments) and checks what
// an operator would: the API lists the segments, each downloads and plays,
// and together they hold every frame that was sent.
func TestRecordRTMPPublish(t *testing.T) {
	needFFmpeg(t)
	cfg := testConfig(t)
	on := true
	seg, part := config.Duration(4*time.Second), config.Duration(time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/rec", Record: &config.RecordOverride{Enabled: &on, SegmentDuration: &seg, PartDuration: &part}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/rec", false)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	api := "http://" + s.HTTPAddr() + "/api/v1/recordings/live/rec/segments"
	var list struct {
		Items []struct {
			Name      string
			Duration  float64
			URL       string
			Recording bool
		}
	}
	testutil.WaitFor(t, 10*time.Second, "segments closed", func() bool {
		getJSON(t, api, &list)
		if len(list.Items) == 0 {
			return false
		}
		for _, it := range list.Items {
			if it.Recording {
				return false
			}
		}
		return true
	})
	if len(list.Items) != 2 {
		t.Fatalf("%d segments, want 2 (6 s in 4 s segments): %+v", len(list.Items), list.Items)
	}
	dir := t.TempDir()
	var concat strings.Builder
	for i, it := range list.Items {
		body := fetch(t, "http://"+s.HTTPAddr()+it.URL)
		f := filepath.Join(dir, it.Name)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		concat.WriteString("file '" + f + "'\n")
		if i == 0 && (it.Duration < 3.5 || it.Duration > 5) {
			t.Fatalf("first segment %.2f s, want about 4 s", it.Duration)
		}
	}
	listFile := filepath.Join(dir, "list.txt")
	os.WriteFile(listFile, []byte(concat.String()), 0o644)
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-f", "concat", "-safe", "0", "-i", listFile,
		"-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "180" {
		t.Fatalf("frames in the recording: %q (%v), want all 180", out, err)
	}
}

// TestRecordToBucket wires record.target and keep_local through the
// server: an RTMP publish is recorded, each segment is uploaded to the
// configured storage target (an in-process S3 store) and deleted locally,
// and the API still lists and serves it from the bucket.
func TestRecordToBucket(t *testing.T) {
	needFFmpeg(t)
	backend := s3mem.New()
	if err := backend.CreateBucket("rec"); err != nil {
		t.Fatal(err)
	}
	store := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(store.Close)
	t.Setenv("MPS_SRV_AK", "ak")
	t.Setenv("MPS_SRV_SK", "sk")
	cfg := testConfig(t)
	cfg.Storage.Targets = []config.StorageTarget{{Name: "archive", Kind: config.StorageS3, Endpoint: strings.TrimPrefix(store.URL, "http://"),
		Bucket: "rec", PathStyle: true, AccessKeyEnv: "MPS_SRV_AK", SecretKeyEnv: "MPS_SRV_SK"}}
	on, keep, target := true, false, "archive"
	seg, part := config.Duration(4*time.Second), config.Duration(time.Second)
	cfg.Paths = []config.PathRule{{Name: "live/rec", Record: &config.RecordOverride{Enabled: &on, SegmentDuration: &seg, PartDuration: &part,
		Target: &target, KeepLocal: &keep}}}
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/rec", false)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	api := "http://" + s.HTTPAddr() + "/api/v1/recordings/live/rec/segments"
	var list struct {
		Items []struct {
			Name   string
			Size   int
			URL    string
			Target string
			Local  bool
		}
	}
	testutil.WaitFor(t, 20*time.Second, "both segments uploaded and dropped locally", func() bool {
		getJSON(t, api, &list)
		for _, it := range list.Items {
			if it.Local || it.Target != "archive" {
				return false
			}
		}
		return len(list.Items) == 2
	})
	objs, err := backend.ListBucket("rec", nil, gofakes3.ListBucketPage{})
	if err != nil || len(objs.Contents) != 2 {
		t.Fatalf("bucket holds %+v, %v; want the 2 segments", objs, err)
	}
	for _, it := range list.Items {
		if body := fetch(t, "http://"+s.HTTPAddr()+it.URL); len(body) != it.Size {
			t.Fatalf("segment %s served from the bucket: %d bytes, want %d", it.Name, len(body), it.Size)
		}
	}
	files, _ := filepath.Glob(filepath.Join(cfg.DataPath(cfg.Record.Directory), "live", "rec", "*.mp4"))
	if len(files) != 0 {
		t.Fatalf("local segment files left: %v", files)
	}
}
