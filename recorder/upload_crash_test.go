package recorder

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"mps/internal/config"
	"mps/internal/events"
	"mps/internal/storage"
	"mps/internal/testutil"
)

// stallingS3 is an in-process S3 store (gofakes3) whose uploads can be
// made to hang, the way a stalled network or an overloaded store hangs an
// upload in the middle.
type stallingS3 struct {
	Endpoint string
	mu       sync.Mutex
	stalled  bool
	release  chan struct{}
	puts     chan struct{} // one value per upload that reached a stall
}

func newStallingS3(t *testing.T) *stallingS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("mps"); err != nil {
		t.Fatal(err)
	}
	s := &stallingS3{release: make(chan struct{}), puts: make(chan struct{}, 64)}
	h := gofakes3.New(backend).Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		stalled, release := s.stalled, s.release
		s.mu.Unlock()
		if stalled && r.Method == http.MethodPut {
			s.puts <- struct{}{}
			_, _ = io.CopyN(io.Discard, r.Body, 1000) // part of the body, then nothing
			select {
			case <-r.Context().Done():
			case <-release:
			}
			http.Error(w, "stalled", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(s.unstall)
	s.Endpoint = strings.TrimPrefix(ts.URL, "http://")
	return s
}

func (s *stallingS3) stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = true
	s.release = make(chan struct{})
}

func (s *stallingS3) unstall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled {
		s.stalled = false
		close(s.release)
	}
}

// fakeTarget is a target on an in-process store at endpoint.
func fakeTarget(t testing.TB, endpoint string) storage.Target {
	t.Helper()
	tg, err := storage.Open(config.StorageTarget{Name: "fake", Kind: config.StorageS3, Endpoint: endpoint,
		Bucket: "mps", PathStyle: true, AccessKeyEnv: "MPS_FAKE_AK", SecretKeyEnv: "MPS_FAKE_SK"}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestHelperUploader is not a test: TestKillDuringUpload runs the test
// binary with MPS_UPLOAD_HELPER_DIR set to make it a recording process
// that uploads to MPS_UPLOAD_HELPER_S3, and kills it.
func TestHelperUploader(t *testing.T) {
	dir := os.Getenv("MPS_UPLOAD_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	rule := Rule{Enabled: true, SegmentDuration: 4 * time.Second, PartDuration: time.Second, Target: "fake"}
	recordTo(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(fakeTarget(t, os.Getenv("MPS_UPLOAD_HELPER_S3")))}, events.NewBus(), src)
	os.Stdout.WriteString("recorded\n")
	time.Sleep(time.Hour) // the parent kills us
}

// TestKillDuringUpload kills -9 a recording process while its first
// upload hangs half sent, then restarts the recorder on the same
// directory: the journal queues every segment again, they are all
// uploaded whole, and the local files stay until their objects are
// confirmed (keep_local false deletes them only then).
func TestKillDuringUpload(t *testing.T) {
	t.Setenv("MPS_FAKE_AK", "ak")
	t.Setenv("MPS_FAKE_SK", "sk")
	store := newStallingS3(t)
	store.stall()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperUploader$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MPS_UPLOAD_HELPER_DIR="+dir, "MPS_UPLOAD_HELPER_S3="+store.Endpoint)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "recorded" {
	}
	select {
	case <-store.puts:
	case <-ctx.Done():
		t.Fatal("no upload reached the store")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// What the killed process left: every segment on the disk, queued.
	files := segmentFiles(t, dir, "live/cam1")
	if len(files) != 3 {
		t.Fatalf("%d segment files after the kill, want 3 (10 s in 4 s segments)", len(files))
	}
	want := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		want[filepath.ToSlash(rel)] = b
	}
	// The journal's last line per segment is its state.
	queued := map[string]upload{}
	b, err := os.ReadFile(filepath.Join(dir, journalName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var u upload
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		queued[u.File] = u
	}
	if len(queued) != 3 {
		t.Fatalf("journal after the kill:\n%s", b)
	}
	for _, u := range queued {
		if u.State != upPending || want[u.File] == nil {
			t.Fatalf("journal entry %+v: want pending, for a file on disk", u)
		}
	}

	// Restart on the same directory against a store that works again.
	store.unstall()
	tg := fakeTarget(t, store.Endpoint)
	rule := Rule{Enabled: true, Target: "fake"}
	m := newManager(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(tg)}, events.NewBus())
	testutil.WaitFor(t, 30*time.Second, "the queued uploads after the restart", func() bool {
		return m.Stats("live/cam1").SegmentsUploaded == 3 && len(segmentFiles(t, dir, "live/cam1")) == 0
	})
	for key, data := range want {
		r, _, err := tg.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if string(got) != string(data) {
			t.Fatalf("%s: stored %d bytes, the file had %d", key, len(got), len(data))
		}
	}
	if segs := m.Segments("live/cam1", time.Time{}, time.Time{}); len(segs) != 3 || !segs[0].remoteOnly || segs[0].Duration < 3*time.Second {
		t.Fatalf("index after the uploads: %+v", segs)
	}
}

// TestUnreachableStoreKeepsFiles records to a target whose endpoint
// refuses connections: the upload error names the target and the cause,
// the files stay, and the uploads are retried.
func TestUnreachableStoreKeepsFiles(t *testing.T) {
	t.Setenv("MPS_FAKE_AK", "ak")
	t.Setenv("MPS_FAKE_SK", "sk")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close() // nothing listens there now
	bus := events.NewBus()
	sub := bus.Subscribe(1024)
	defer sub.Close()
	dir := t.TempDir()
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	rule := Rule{Enabled: true, SegmentDuration: 4 * time.Second, PartDuration: time.Second, Target: "fake"}
	m := recordTo(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(fakeTarget(t, endpoint)),
		UploadRetryMin: 20 * time.Millisecond, UploadRetryMax: 50 * time.Millisecond}, bus, src)
	e := waitEvent(t, sub, EventUploadError, 30*time.Second)
	msg, _ := e.Data["error"].(string)
	if !strings.Contains(msg, "storage fake") || !strings.Contains(msg, "connection refused") {
		t.Errorf("upload error %q: want the target and the cause", msg)
	}
	// minio-go retries a refused connection itself for a few seconds
	// before an attempt fails; then the recorder's backoff retries it.
	testutil.WaitFor(t, 40*time.Second, "a retry", func() bool { return m.Stats("live/cam1").UploadErrors >= 4 })
	st := m.Stats("live/cam1")
	if st.UploadsPending != 3 || !strings.Contains(st.UploadError, "connection refused") {
		t.Errorf("stats %+v: want 3 pending uploads with the error", st)
	}
	if files := segmentFiles(t, dir, "live/cam1"); len(files) != 3 {
		t.Fatalf("%d local files, want all 3 kept", len(files))
	}
}

// TestKeepLocalAndDelete: with keep_local true the uploaded segments
// stay on the disk and are listed as in both places; deleting one
// through the API removes the file and the object.
func TestKeepLocalAndDelete(t *testing.T) {
	t.Setenv("MPS_FAKE_AK", "ak")
	t.Setenv("MPS_FAKE_SK", "sk")
	store := newStallingS3(t)
	tg := fakeTarget(t, store.Endpoint)
	dir := t.TempDir()
	src := loadSource(t, "h264_aac_1s_gop.mp4", 1)
	rule := Rule{Enabled: true, SegmentDuration: 4 * time.Second, PartDuration: time.Second, Target: "fake", KeepLocal: true}
	m := recordTo(t, Config{Dir: dir, Rule: ruleFunc(rule), Targets: targetSet(tg)}, events.NewBus(), src)
	testutil.WaitFor(t, 30*time.Second, "three uploads", func() bool { return m.Stats("live/cam1").SegmentsUploaded == 3 })
	if files := segmentFiles(t, dir, "live/cam1"); len(files) != 3 {
		t.Fatalf("%d local files with keep_local, want 3", len(files))
	}
	srv := serve(t, m)
	var list struct {
		Items []segmentJSON `json:"items"`
	}
	getJSON(t, srv.URL+APIPrefix+"/live/cam1/segments", &list)
	if len(list.Items) != 3 || !list.Items[0].Local || list.Items[0].Target != "fake" {
		t.Fatalf("segments %+v: want 3, local and in fake", list.Items)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+list.Items[0].URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s", resp.Status)
	}
	if _, err := tg.Stat(context.Background(), "live/cam1/"+list.Items[0].Name); err == nil {
		t.Error("object still in the bucket after DELETE")
	}
	if files := segmentFiles(t, dir, "live/cam1"); len(files) != 2 {
		t.Errorf("%d local files after DELETE, want 2", len(files))
	}
}
