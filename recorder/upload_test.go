package recorder

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/storage"
	"mps/internal/testutil"
)

// targetSet serves named targets to a Manager.
func targetSet(ts ...storage.Target) func(string) (storage.Target, bool) {
	return func(name string) (storage.Target, bool) {
		for _, t := range ts {
			if t.Name() == name {
				return t, true
			}
		}
		return nil, false
	}
}

// weedTarget starts a real object store and returns a target on it; with
// a wrong secret, the target's requests are refused.
func weedTarget(t testing.TB, srv *testutil.S3Server, name, secret string) storage.Target {
	t.Helper()
	t.Setenv("MPS_REC_AK_"+name, srv.AccessKey)
	t.Setenv("MPS_REC_SK_"+name, secret)
	tg, err := storage.Open(config.StorageTarget{Name: name, Kind: config.StorageS3, Endpoint: srv.Endpoint,
		Bucket: srv.Bucket, Prefix: "rec/", PathStyle: true,
		AccessKeyEnv: "MPS_REC_AK_" + name, SecretKeyEnv: "MPS_REC_SK_" + name}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// recordTo records src on live/cam1 with cfg and returns once the
// recording session has ended.
func recordTo(t testing.TB, cfg Config, bus *events.Bus, src *source) *Manager {
	t.Helper()
	hub := newHub(t, bus)
	m := newManager(t, cfg, bus)
	s, run := publish(t, hub, "live/cam1", src)
	m.StreamStarted(s)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run(ctx, 0, nil)
	waitIdle(t, m, "live/cam1")
	return m
}

// TestRecordingPlayedBackFromBucket records 18 s in three segments to a
// real object store (SeaweedFS) with keep_local false: once the uploads
// are confirmed the local files are gone, and the segments are still
// listed, downloaded (proxied and through a presigned URL), exported as
// a time range and played as HLS VOD, all from the bucket, and
// retention deletes them from the bucket. The same store refuses a
// target with a wrong secret: that recording's files stay on the disk
// and the error says why.
func TestRecordingPlayedBackFromBucket(t *testing.T) {
	srv := testutil.StartS3(t, "mps")
	tg := weedTarget(t, srv, "weed", srv.SecretKey)
	src := loadSource(t, "h264_aac_1s_gop.mp4", 2)
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	dir := t.TempDir()
	rule := Rule{Enabled: true, SegmentDuration: 8 * time.Second, PartDuration: time.Second, Target: "weed"}
	m := recordTo(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(tg)}, bus, src)
	testutil.WaitFor(t, 30*time.Second, "three uploads", func() bool { return m.Stats("live/cam1").SegmentsUploaded == 3 })
	if files := segmentFiles(t, dir, "live/cam1"); len(files) != 0 {
		t.Fatalf("local files left after upload with keep_local false: %v", files)
	}
	ctx := context.Background()
	objs, err := tg.List(ctx, "live/cam1/", "", 0)
	if err != nil || len(objs) != 3 {
		t.Fatalf("bucket holds %+v, %v; want 3 segments", objs, err)
	}

	srvHTTP := serve(t, m)
	base := srvHTTP.URL + APIPrefix + "/live/cam1"
	var list struct {
		Items []segmentJSON `json:"items"`
	}
	if code := getJSON(t, base+"/segments", &list); code != http.StatusOK || len(list.Items) != 3 {
		t.Fatalf("segments: %d, %d items", code, len(list.Items))
	}
	s0 := list.Items[0]
	if s0.Local || s0.Target != "weed" || s0.Duration < 7.5 || s0.Duration > 8.5 {
		t.Fatalf("first segment %+v: want 8 s, in weed only", s0)
	}

	t.Run("download", func(t *testing.T) {
		r, o, err := tg.Open(ctx, "live/cam1/"+s0.Name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(r)
		r.Close()
		out := filepath.Join(t.TempDir(), "seg.mp4")
		download(t, srvHTTP.URL+s0.URL, out)
		if got, _ := os.ReadFile(out); string(got) != string(want) || o.Size != s0.Size {
			t.Fatalf("proxied download: %d bytes, object has %d", len(got), len(want))
		}
		// ?redirect=true hands out a presigned URL of the store.
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(srvHTTP.URL + s0.URL + "?redirect=true")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(loc, srv.Endpoint) {
			t.Fatalf("redirect: %s to %q", resp.Status, loc)
		}
		download(t, loc, out)
		if got, _ := os.ReadFile(out); string(got) != string(want) {
			t.Fatalf("presigned download: %d bytes, object has %d", len(got), len(want))
		}
	})

	t.Run("range export", func(t *testing.T) {
		q := url.Values{"start": {s0.Start.Add(3 * time.Second).Format(time.RFC3339Nano)}, "duration": {"10s"}}
		out := filepath.Join(t.TempDir(), "range.mp4")
		download(t, base+"/get?"+q.Encode(), out)
		p := ffprobe(t, out)
		if d := p.duration(); d < 9*time.Second || d > 11100*time.Millisecond || p.packets("audio") == 0 {
			t.Fatalf("export of 10 s from the bucket: %s, %d audio packets", d, p.packets("audio"))
		}
	})

	t.Run("hls vod", func(t *testing.T) {
		u := srvHTTP.URL + HLSPrefix + "live/cam1/index.m3u8"
		if n := decode(t, "-i", u); n < 530 || n > 550 {
			t.Fatalf("HLS VOD from the bucket decodes to %d frames, want 540", n)
		}
	})

	outer := t
	t.Run("restart", func(t *testing.T) {
		// The journal lists the bucket's segments after a restart.
		m.Close()
		m2 := newManager(outer, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(tg)}, bus)
		if segs := m2.Segments("live/cam1", time.Time{}, time.Time{}); len(segs) != 3 || segs[0].Duration != m.ix.snapshot("live/cam1")[0].Duration {
			t.Fatalf("after a restart the index lists %+v", segs)
		}
		m = m2
	})

	t.Run("retention", func(t *testing.T) {
		rule.MaxBytes = list.Items[2].Size + 1
		m.cfg.Rule = ruleFunc(rule)
		if n := m.RunRetention(); n != 2 {
			t.Fatalf("retention deleted %d segments, want 2", n)
		}
		if objs, err := tg.List(ctx, "live/cam1/", "", 0); err != nil || len(objs) != 1 || !strings.HasSuffix(objs[0].Key, list.Items[2].Name) {
			t.Fatalf("bucket after retention: %+v, %v", objs, err)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		wrong := weedTarget(t, srv, "wrong", "not-the-secret")
		dir := t.TempDir()
		sub := bus.Subscribe(1024)
		defer sub.Close()
		rule := Rule{Enabled: true, SegmentDuration: 8 * time.Second, PartDuration: time.Second, Target: "wrong"}
		m := recordTo(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(wrong)}, bus, src)
		e := waitEvent(t, sub, EventUploadError, 30*time.Second)
		msg, _ := e.Data["error"].(string)
		if !strings.Contains(msg, "storage wrong") || !strings.Contains(strings.ToLower(msg), "signature") {
			t.Errorf("upload error %q: want the target's name and the store's reason", msg)
		}
		if files := segmentFiles(t, dir, "live/cam1"); len(files) != 3 {
			t.Fatalf("after a refused upload %d local files, want 3", len(files))
		}
		st := m.Stats("live/cam1")
		if st.UploadsPending != 3 || st.UploadError == "" || st.SegmentsUploaded != 0 {
			t.Fatalf("stats %+v: want 3 pending with the error", st)
		}
		t.Logf("wrong secret: %s", msg)
	})
}
