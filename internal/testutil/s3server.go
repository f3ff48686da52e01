package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Server is a real object store process (SeaweedFS's weed) serving S3 on
// loopback for one test, with one bucket and one access key.
type S3Server struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	cmd       *exec.Cmd
	log       *bytes.Buffer
}

// WeedBinary is where `make deps` builds SeaweedFS's weed (from its Go
// module, pinned in the Makefile), outside the repository.
func WeedBinary() string {
	if p := os.Getenv("MPS_WEED"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "mps-tools", "weed")
}

// StartS3 starts weed with every listener on a free loopback port, waits
// until its S3 gateway answers, and creates the bucket. The process is
// killed when the test ends. Without the binary the test fails under CI
// and is skipped elsewhere, pointing at `make deps`.
func StartS3(t testing.TB, bucket string) *S3Server {
	t.Helper()
	bin := WeedBinary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no S3 server binary at %s: run make deps", bin)
		}
		t.Skipf("no S3 server binary at %s: run make deps", bin)
	}
	dir := t.TempDir()
	s := &S3Server{AccessKey: "mps-test-ak", SecretKey: "mps-test-sk-0123456789", Bucket: bucket, log: &bytes.Buffer{}}
	conf := fmt.Sprintf(`{"identities":[{"name":"mps","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, s.AccessKey, s.SecretKey)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := freePorts(t, 8)
	s.Endpoint = "127.0.0.1:" + strconv.Itoa(p[6])
	args := []string{"server", "-dir=" + dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		port("master.port", p[0]), port("master.port.grpc", p[1]), "-master.telemetry=false",
		port("volume.port", p[2]), port("volume.port.grpc", p[3]), "-volume.max=4",
		"-filer", port("filer.port", p[4]), port("filer.port.grpc", p[5]),
		"-s3", port("s3.port", p[6]), port("s3.port.grpc", p[7]), "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.config=" + filepath.Join(dir, "s3.json")}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 60*time.Second, "the S3 server to create the bucket", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
		return err == nil
	})
	return s
}

// Client is a minio-go client with the server's key, for test set-up.
func (s *S3Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
}

// Stop kills the server (also done when the test ends).
func (s *S3Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Log is what the server printed, for failure messages.
func (s *S3Server) Log() string { return s.log.String() }

func port(flag string, p int) string { return "-" + flag + "=" + strconv.Itoa(p) }

// freePorts reserves n distinct free loopback TCP ports and releases them
// for the caller to bind.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
