package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// RunBrowserScript runs one of hls/browsertest's player scripts (play.mjs
// for hls.js, playdash.mjs for dash.js…) on url for the given seconds in
// headless Chromium and decodes the JSON report it prints into report.
// module is the npm module the script needs; extra are more options. It
// fails the test when node, chromium or the modules (`make deps`) are
// missing, or the script fails.
func RunBrowserScript(t testing.TB, ctx context.Context, script, module, url string, seconds int, report any, extra ...string) {
	t.Helper()
	NeedCommand(t, "node")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium not installed at %s: run `make deps`", chromium)
	}
	dir := filepath.Join(RepoRoot(), "hls", "browsertest")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", module)); err != nil {
		t.Fatalf("%s missing: run `npm ci` in hls/browsertest (make deps)", module)
	}
	args := append([]string{filepath.Join(dir, script), url, "--seconds", strconv.Itoa(seconds)}, extra...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("%s: %v\n%s\n%s", script, err, out, stderr)
	}
	if err := json.Unmarshal(out, report); err != nil {
		t.Fatalf("%s report: %v\n%s", script, err, out)
	}
}
