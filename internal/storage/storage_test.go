package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"mps/internal/config"
)

// fakeS3 serves an in-memory S3 on loopback with one bucket and returns a
// target config pointing at it.
func fakeS3(t *testing.T, bucket string) config.StorageTarget {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	t.Setenv("MPS_TEST_AK", "test-access")
	t.Setenv("MPS_TEST_SK", "test-secret")
	return config.StorageTarget{
		Name: "fake", Kind: config.StorageS3, Endpoint: strings.TrimPrefix(ts.URL, "http://"),
		Bucket: bucket, Prefix: "mps/", PathStyle: true,
		AccessKeyEnv: "MPS_TEST_AK", SecretKeyEnv: "MPS_TEST_SK",
	}
}

// targets returns one target of each kind, both empty.
func targets(t *testing.T) map[string]Target {
	t.Helper()
	s3, err := Open(fakeS3(t, "media"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	local, err := Open(config.StorageTarget{Name: "disk", Kind: config.StorageLocal, Dir: "store"}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Target{"s3": s3, "local": local}
}

// TestTargetRoundTrip puts, lists, reads (with a range), fetches by URL and
// deletes objects in a local folder and an S3 bucket alike. (Multipart
// uploads are checked against a real store in the integration test: the
// in-process fake keeps the chunk signatures of streamed parts in the
// object, which PutFile's size check refuses.)
func TestTargetRoundTrip(t *testing.T) {
	big := make([]byte, 7<<20)
	_, _ = rand.Read(big)
	file := filepath.Join(t.TempDir(), "seg.mp4")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	for kind, tg := range targets(t) {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			o, err := tg.PutFile(ctx, "live/cam1/b.mp4", file, "video/mp4")
			if err != nil {
				t.Fatal(err)
			}
			if o.Size != int64(len(big)) {
				t.Fatalf("stored %d bytes, want %d", o.Size, len(big))
			}
			for _, k := range []string{"live/cam1/a.mp4", "live/cam1/c.mp4", "live/cam2/a.mp4"} {
				if _, err := tg.Put(ctx, k, strings.NewReader(k), int64(len(k)), "video/mp4"); err != nil {
					t.Fatal(err)
				}
			}
			list, err := tg.List(ctx, "live/cam1/", "live/cam1/a.mp4", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Key != "live/cam1/b.mp4" || list[1].Key != "live/cam1/c.mp4" {
				t.Fatalf("list after a.mp4 = %+v", list)
			}
			if page, _ := tg.List(ctx, "live/", "", 1); len(page) != 1 || page[0].Key != "live/cam1/a.mp4" {
				t.Fatalf("first page of one = %+v", page)
			}
			r, st, err := tg.Open(ctx, "live/cam1/b.mp4")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Seek(5<<20, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 1000)
			if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, big[5<<20:5<<20+1000]) || st.Size != int64(len(big)) {
				t.Fatalf("ranged read: %v", err)
			}
			r.Close()
			checkURL(t, ctx, tg, "live/cam2/a.mp4", "live/cam2/a.mp4")
			if err := tg.Delete(ctx, "live/cam1/b.mp4"); err != nil {
				t.Fatal(err)
			}
			if _, err := tg.Stat(ctx, "live/cam1/b.mp4"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("stat after delete: %v, want ErrNotFound", err)
			}
			if err := tg.Delete(ctx, "live/cam1/b.mp4"); err != nil {
				t.Fatalf("deleting a missing object: %v", err)
			}
			for _, bad := range []string{"", "/etc/passwd", "a/../../x", "a//b", `a\b`} {
				if _, err := tg.Put(ctx, bad, strings.NewReader("x"), 1, ""); err == nil {
					t.Errorf("key %q accepted", bad)
				}
			}
		})
	}
}

// checkURL reads an object through the URL the target hands out: a
// presigned HTTP URL for S3 (fetched with no credentials), a path for a
// local folder.
func checkURL(t *testing.T, ctx context.Context, tg Target, key, want string) {
	t.Helper()
	u, err := tg.URL(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if strings.HasPrefix(u, "http") {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET presigned URL: %s", resp.Status)
		}
		body, _ = io.ReadAll(resp.Body)
	} else if body, err = os.ReadFile(u); err != nil {
		t.Fatal(err)
	}
	if string(body) != want {
		t.Fatalf("object by URL = %q, want %q", body, want)
	}
}

// TestUnreachableEndpoint: a store that is not there fails the call with
// an error that names the target, within the caller's deadline.
func TestUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	tg, err := Open(config.StorageTarget{Name: "gone", Kind: config.StorageS3, Endpoint: addr, Bucket: "b", PathStyle: true}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = tg.Put(ctx, "a.mp4", strings.NewReader("x"), 1, "")
	if err == nil || !strings.Contains(err.Error(), "storage gone") {
		t.Fatalf("put to an unreachable store: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in          string
		target, key string
		ok          bool
	}{
		{"s3://archive/live/cam1/a.mp4", "archive", "live/cam1/a.mp4", true},
		{"s3://archive/", "", "", false},
		{"s3:///a", "", "", false},
		{"s3://archive/dir/", "", "", false},
		{"https://host/a.mp4", "", "", false},
		{"/data/a.mp4", "", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			target, key, ok := ParseURL(tc.in)
			if target != tc.target || key != tc.key || ok != tc.ok {
				t.Fatalf("ParseURL(%q) = %q %q %v", tc.in, target, key, ok)
			}
		})
	}
}

func TestCredentialsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds")
	_ = os.WriteFile(p, []byte("AWS_ACCESS_KEY_ID=ak\nAWS_SECRET_ACCESS_KEY=sk\n"), 0o600)
	ak, sk, err := credentialsOf(config.StorageTarget{Name: "x", CredentialsFile: p})
	if err != nil || ak != "ak" || sk != "sk" {
		t.Fatalf("credentials = %q %q %v", ak, sk, err)
	}
	_ = os.WriteFile(p, []byte("AWS_ACCESS_KEY_ID=ak\n"), 0o600)
	if _, _, err := credentialsOf(config.StorageTarget{Name: "x", CredentialsFile: p}); err == nil {
		t.Fatal("a file without the secret was accepted")
	}
}
