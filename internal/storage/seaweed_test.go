package storage

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// TestRealObjectStore runs the S3 target against a real object store
// process (SeaweedFS) on loopback: a multipart upload is verified and read
// back whole and through a presigned URL, and a wrong key is refused with
// the store's own error naming the target.
func TestRealObjectStore(t *testing.T) {
	srv := testutil.StartS3(t, "mps")
	t.Setenv("MPS_STORE_AK", srv.AccessKey)
	t.Setenv("MPS_STORE_SK", srv.SecretKey)
	cfg := config.StorageTarget{Name: "weed", Kind: config.StorageS3, Endpoint: srv.Endpoint, Bucket: srv.Bucket,
		Prefix: "rec/", PathStyle: true, AccessKeyEnv: "MPS_STORE_AK", SecretKeyEnv: "MPS_STORE_SK"}
	tg, err := Open(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	big := make([]byte, 35<<20) // three 16 MiB parts
	_, _ = rand.Read(big)
	file := filepath.Join(t.TempDir(), "seg.mp4")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := tg.PutFile(ctx, "live/cam1/seg.mp4", file, "video/mp4")
	if err != nil {
		t.Fatalf("multipart upload: %v\n%s", err, srv.Log())
	}
	if o.Size != int64(len(big)) {
		t.Fatalf("stored %d bytes, want %d", o.Size, len(big))
	}
	u, err := tg.URL(ctx, "live/cam1/seg.mp4")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Range", "bytes=20971520-20971529")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(got) != string(big[20<<20:20<<20+10]) {
		t.Fatalf("presigned ranged GET: %s, %d bytes", resp.Status, len(got))
	}
	if list, err := tg.List(ctx, "live/", "", 0); err != nil || len(list) != 1 || list[0].Key != "live/cam1/seg.mp4" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	t.Setenv("MPS_STORE_SK", "not-the-secret")
	wrong, _ := Open(cfg, "", nil)
	_, err = wrong.Put(ctx, "live/cam1/x.mp4", strings.NewReader("x"), 1, "")
	if err == nil || !strings.Contains(err.Error(), "storage weed") {
		t.Fatalf("put with a wrong secret: %v", err)
	}
	t.Logf("wrong key refused: %v", err)
}
