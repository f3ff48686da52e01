package layering

import (
	"os/exec"
	"strings"
	"testing"
)

// rank orders the project's folders: a package may import packages of a
// lower rank only (and, within the foundation, other foundation packages).
func rank(pkg string) int {
	p := strings.TrimPrefix(pkg, "mps/")
	switch {
	case strings.HasPrefix(p, "internal/"):
		return 0
	case p == "server" || strings.HasPrefix(p, "server/"):
		return 2
	case strings.HasPrefix(p, "cmd/"):
		return 3
	default: // protocols, hls, recorder, transcode, tasks, ai, web
		return 1
	}
}

// goList runs go list over the module with a format, one line a package.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestImportsGoOneWay(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "mps/...")
	if len(lines) < 20 {
		t.Fatalf("go list found only %d packages", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		from := f[0]
		for _, to := range f[1:] {
			if !strings.HasPrefix(to, "mps/") {
				continue
			}
			if rank(to) > rank(from) {
				t.Errorf("%s imports %s, which sits above it", from, to)
			}
			if rank(to) == 1 && rank(from) == 1 && !sameTree(from, to) {
				t.Errorf("service %s imports service %s: share code through internal/ instead", from, to)
			}
		}
	}
}

// sameTree reports whether two service packages share a top folder
// (protocols/webrtc and protocols/webrtc/webrtctest).
func sameTree(a, b string) bool {
	top := func(p string) string { return strings.SplitN(strings.TrimPrefix(p, "mps/"), "/", 2)[0] }
	return top(a) == top(b)
}

// TestProtocolsHoldNoVODCode checks the dependencies of each protocol
// adapter, its tests included: no VOD operations, tasks, AI or config
// parsing may ride along.
func TestProtocolsHoldNoVODCode(t *testing.T) {
	forbidden := []string{"mps/internal/vod", "mps/internal/config", "mps/tasks", "mps/ai", "mps/internal/watermark", "mps/transcode"}
	for _, p := range []string{"mps/protocols/rtmp", "mps/protocols/rtsp", "mps/protocols/srt", "mps/protocols/webrtc"} {
		t.Run(p, func(t *testing.T) {
			for _, dep := range goList(t, "-test", "-deps", p) {
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s (with its tests) depends on %s", p, dep)
					}
				}
			}
		})
	}
}
