package transcode

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

// TestFilterControl talks to a real ffmpeg's zmq filter: a batch of
// commands is answered in order, a refused one is the error with ffmpeg's
// reason, and the connection survives it.
func TestFilterControl(t *testing.T) {
	testutil.NeedCommand(t, "ffmpeg")
	sock := filepath.Join(t.TempDir(), "ctl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=20",
		"-filter_complex", "[0:v]zmq=b=ipc\\\\://"+sock+",split[a][b];[a][b]streamselect@sel=inputs=2:map=0[v]", "-map", "[v]", "-f", "null", "-")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	ctl, err := dialFilterControl(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.send([]string{"streamselect@sel map 1", "streamselect@sel map 0", "streamselect@sel map 1"}, 5*time.Second); err != nil {
		t.Fatalf("valid batch: %v", err)
	}
	err = ctl.send([]string{"streamselect@sel map 1", "streamselect@nothere map 1", "streamselect@sel map 0"}, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), `"streamselect@nothere map 1"`) {
		t.Fatalf("unknown target: %v", err)
	}
	t.Logf("refused: %v", err)
	if err := ctl.send([]string{"streamselect@sel map 0"}, 5*time.Second); err != nil {
		t.Fatalf("after a refusal: %v", err)
	}

	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	if _, err := dialFilterControl(dctx, filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("dialled a socket nobody binds")
	}
}
