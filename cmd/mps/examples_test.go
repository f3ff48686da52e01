package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
	"mps/server"
)

// The examples users copy — from the help texts, the README and the
// commented config file — are run here for real, so an example that
// drifts from what the code accepts fails the build.

var clip = filepath.Join("..", "..", "testdata", "h264_aac_1s_gop.mp4")

// runProcess runs `mps process` and fails the test on a non-zero exit.
func runProcess(t *testing.T, what string, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"process", clip, "-o", t.TempDir()}, args...)
	if code := run(full, &out, &errb); code != 0 {
		t.Errorf("%s: mps %s: exit %d\n%s", what, strings.Join(full, " "), code, errb.String())
	}
}

// TestHelpExamples runs every --op example of the help texts.
func TestHelpExamples(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	ops := regexp.MustCompile(`--op '([^']+)'`).FindAllStringSubmatch(usage+processUsage, -1)
	if len(ops) == 0 {
		t.Fatal("no --op example found in the help texts")
	}
	for _, m := range ops {
		t.Run(m[1], func(t *testing.T) { runProcess(t, "help example", "--op", m[1]) })
	}
}

// TestConfigTemplatesRun runs every template of configs/mps.yaml.
func TestConfigTemplatesRun(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	cfg, err := config.Load(filepath.Join("..", "..", "configs", "mps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Templates) == 0 {
		t.Fatal("configs/mps.yaml has no templates")
	}
	for _, name := range sortedKeys(cfg.Templates) {
		t.Run(name, func(t *testing.T) {
			runProcess(t, "template", "-c", filepath.Join("..", "..", "configs", "mps.yaml"), "-t", name)
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// commentedExamples returns the commented-out top-level sections of a
// config file ("# schemes:" and the "#   …" lines under it), uncommented.
func commentedExamples(text string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(text, "\n")
	head := regexp.MustCompile(`^# ([a-z_]+):\s*$`)
	for i := 0; i < len(lines); i++ {
		m := head.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		block := []string{m[1] + ":"}
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "#  ") {
			i++
			block = append(block, lines[i][2:])
		}
		if len(block) > 1 {
			out[m[1]] = strings.Join(block, "\n") + "\n"
		}
	}
	return out
}

// TestConfigCommentedExamples uncomments the example sections of
// configs/mps.yaml, loads them together (every key must be accepted and
// every name must resolve), then runs the example scheme and the text
// watermark on a file.
func TestConfigCommentedExamples(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	text, err := os.ReadFile(filepath.Join("..", "..", "configs", "mps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ex := commentedExamples(string(text))
	for _, want := range []string{"watermarks", "schemes", "webhooks", "paths"} {
		if ex[want] == "" {
			t.Fatalf("no commented example of %s (found %v)", want, sortedKeys(ex))
		}
	}
	var all strings.Builder
	for _, k := range sortedKeys(ex) {
		all.WriteString(ex[k])
	}
	file := filepath.Join(t.TempDir(), "examples.yaml")
	if err := os.WriteFile(file, []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("the commented examples are refused: %v\n%s", err, all.String())
	}
	for _, sc := range cfg.Schemes {
		t.Run("scheme "+sc.Name, func(t *testing.T) { runProcess(t, "scheme example", "-c", file, "--scheme", sc.Name) })
	}
	for _, name := range sortedKeys(cfg.Watermarks) {
		if cfg.Watermarks[name].Type != "text" {
			continue // the image example names a file of the reader's
		}
		t.Run("watermark "+name, func(t *testing.T) {
			runProcess(t, "watermark example", "-c", file, "--op", fmt.Sprintf(`{"type":"watermark","watermark":{"names":[%q]}}`, name))
		})
	}
}

// readmeSkipped are README commands that cannot run in a test: they start
// the whole build, or open a player window.
var readmeSkipped = map[string]bool{"make": true, "ffplay": true, "vlc": true}

// TestReadmeShellExamples runs the README's shell examples against a
// server started on configs/mps.yaml (listeners moved to free loopback
// ports): the publish command must make the stream appear, and every curl
// must succeed (HTTP 2xx) and print what a piped grep looks for.
func TestReadmeShellExamples(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	testutil.NeedCommand(t, "curl")
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		for _, l := range strings.Split(m[1], "\n") {
			if l = strings.TrimSpace(strings.SplitN(l, " #", 2)[0]); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("no shell examples in README.md")
	}
	cfg, err := config.Load(filepath.Join(root, "configs", "mps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Storage.DataDir = t.TempDir()
	cfg.HTTP.Address, cfg.RTMP.Address = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTSP.Enabled, cfg.SRT.Enabled, cfg.WebRTC.Enabled = false, false, false
	s := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := strings.NewReplacer("localhost:8080", s.HTTPAddr(), "localhost:1935", s.RTMPAddr())
	for _, line := range lines {
		if strings.ContainsAny(line, `'"$;&`) {
			t.Errorf("README example %q: quoting or shell syntax this test cannot run; keep examples plain", line)
			continue
		}
		cmd, pipe, _ := strings.Cut(r.Replace(line), " | ")
		args := strings.Fields(cmd)
		switch {
		case readmeSkipped[args[0]]:
			t.Logf("skipped (interactive or the whole build): %s", line)
		case args[0] == "ffmpeg":
			pub := exec.CommandContext(ctx, "ffmpeg", append([]string{"-v", "error"}, args[1:]...)...)
			pub.Dir = root
			if err := pub.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = pub.Process.Kill(); _ = pub.Wait() }()
			testutil.WaitFor(t, 20*time.Second, "the published stream in the API", func() bool {
				out, _ := exec.CommandContext(ctx, "curl", "-sS", "http://"+s.HTTPAddr()+"/api/v1/streams").Output()
				return bytes.Contains(out, []byte("live/cam1"))
			})
		case args[0] == "curl":
			out, err := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--fail"}, args[1:]...)...).CombinedOutput()
			if err != nil {
				t.Errorf("README example %q: %v\n%s", line, err, out)
				continue
			}
			if pat, ok := strings.CutPrefix(pipe, "grep "); ok && !regexp.MustCompile("(?m)"+pat).Match(out) {
				t.Errorf("README example %q: output has no line matching %s", line, pat)
			}
		default:
			t.Errorf("README example %q: no runner for %s in this test; add one", line, args[0])
		}
	}
}
