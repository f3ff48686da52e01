package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mps/internal/auth"
	"mps/internal/testutil"
)

// buildBinary compiles mps once per test run into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mps")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "mps ") {
		t.Fatalf("version: code %d out %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "mps [serve] [-c FILE]") {
		t.Fatalf("--help: code %d stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d stderr %q", code, errb.String())
	}
}

func TestBrokenConfigNamesFileLineKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(file, []byte("log:\n  level: info\nrtmp:\n  adress: :1935\n"), 0o644)
	var out, errb bytes.Buffer
	code := run([]string{"serve", "-c", file}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "bad.yaml:4: rtmp.adress") {
		t.Fatalf("code %d stderr %q, want exit 1 and bad.yaml:4: rtmp.adress", code, errb.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDefaultsEnvAndSignals runs the real binary with no config file in
// an empty directory (built-in defaults) and env overrides for the ports,
// checks it serves, then that SIGTERM stops it well within 5 s.
func TestServeDefaultsEnvAndSignals(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	httpAddr := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"MPS_HTTP_ADDRESS="+httpAddr, "MPS_RTMP_ADDRESS="+freePort(t),
		"MPS_RTSP_ENABLED=false", "MPS_SRT_ENABLED=false", "MPS_WEBRTC_ENABLED=false",
		"MPS_STORAGE_DATA_DIR="+filepath.Join(dir, "data"), "MPS_LOG_FORMAT=json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var health string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			health = string(b)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(health, `"ok"`) {
		t.Fatalf("healthz: %q", health)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %s, want < 5 s", d)
	}
	var all []string
	for l := range lines {
		all = append(all, l)
	}
	log := strings.Join(all, "\n")
	if !regexp.MustCompile(`"msg":"starting mps".*"config":"built-in defaults"`).MatchString(log) || !strings.Contains(log, `"msg":"stopped"`) {
		t.Fatalf("log lacks start/stop JSON lines:\n%s", log)
	}
}

// TestSIGHUPReloads sends SIGHUP after editing the config file and checks
// the new rule is in force through the API.
func TestSIGHUPReloads(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	httpAddr := freePort(t)
	file := filepath.Join(dir, "mps.yaml")
	base := fmt.Sprintf("http:\n  address: %s\nrtmp:\n  address: %s\nrtsp:\n  enabled: false\nsrt:\n  enabled: false\nwebrtc:\n  enabled: false\nstorage:\n  data_dir: %s\n", httpAddr, freePort(t), dir)
	os.WriteFile(file, []byte(base), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	get := func() string {
		resp, err := http.Get("http://" + httpAddr + "/api/v1/config")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for get() == "" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	os.WriteFile(file, []byte(base+"paths:\n  - name: live/hup\n    override_publisher: true\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(get(), "live/hup") {
		if time.Now().After(deadline) {
			t.Fatalf("rule not reloaded: %s", get())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHashPassword: the printed hash is one the config accepts and the
// authorizer verifies against the password read from stdin.
func TestHashPassword(t *testing.T) {
	var out, errb bytes.Buffer
	if code := hashPassword(nil, strings.NewReader("s3cret\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	h := strings.TrimSpace(out.String())
	a, err := auth.New(auth.Config{Methods: []string{"internal"}, Users: []auth.User{{Name: "u", Pass: h, Actions: []auth.Action{auth.ActionAPI}}}}, nil)
	if err != nil {
		t.Fatalf("hash %q refused: %v", h, err)
	}
	defer a.Close()
	if _, err := a.Authorize(context.Background(), auth.Request{Action: auth.ActionAPI, User: "u", Pass: "s3cret"}); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if _, err := a.Authorize(context.Background(), auth.Request{Action: auth.ActionAPI, User: "u", Pass: "s3cre"}); err == nil {
		t.Fatal("wrong password accepted")
	}
	if code := hashPassword(nil, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("empty stdin: exit %d, want 2", code)
	}
}

// TestHashPasswordDigest: -digest-user adds the realm hash a Digest-only
// user is configured with, and an RTSP Digest answer made from the
// password is accepted with it while a Basic password is not (the server
// keeps no password for that user).
func TestHashPasswordDigest(t *testing.T) {
	var out, errb bytes.Buffer
	if code := hashPassword([]string{"-digest-user", "cam"}, strings.NewReader("s3cret\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Fields(out.String())
	if len(lines) != 2 {
		t.Fatalf("printed %q, want hash and realm hash", out.String())
	}
	a, err := auth.New(auth.Config{Methods: []string{"internal"}, Users: []auth.User{{Name: "cam", Digest: lines[1], Actions: []auth.Action{auth.ActionPublish}}}}, nil)
	if err != nil {
		t.Fatalf("realm hash %q refused: %v", lines[1], err)
	}
	defer a.Close()
	d := testutil.DigestAnswer("cam", "s3cret", auth.Realm, "n0nce", "ANNOUNCE", "rtsp://h/live/x")
	if _, err := a.Authorize(context.Background(), auth.Request{Action: auth.ActionPublish, Path: "live/x", User: "cam", Digest: d}); err != nil {
		t.Fatalf("right Digest answer refused: %v", err)
	}
	if _, err := a.Authorize(context.Background(), auth.Request{Action: auth.ActionPublish, Path: "live/x", User: "cam", Pass: "s3cret"}); err == nil {
		t.Fatal("Basic password accepted for a Digest-only user")
	}
}
