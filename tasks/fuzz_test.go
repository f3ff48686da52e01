package tasks

import (
	"path"
	"strings"
	"testing"

	"mps/internal/config"
)

// FuzzOutputDir: whatever a client sends, an accepted output directory is
// relative, clean and cannot climb out of DataDir/outputs.
func FuzzOutputDir(f *testing.F) {
	for _, s := range []string{"", "a", "a/b", "../x", "a/../../b", "/etc", "a//b/", "./.", "C:/x", "a\\..\\b", "..", "a/.."} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, dir, prefix string) {
		out, err := outputDir(config.SchemeOutput{Dir: dir, Prefix: prefix}, "0123abcd")
		if err != nil {
			return
		}
		if out == "" || strings.HasPrefix(out, "/") || path.Clean(out) != out || out == ".." || strings.HasPrefix(out, "../") || strings.Contains(out, "\\") {
			t.Fatalf("outputDir(%q, %q) = %q", dir, prefix, out)
		}
	})
}

// FuzzSafeName: an upload or download name never becomes a path.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"clip.mp4", "../../etc/passwd", "..", ".", "", "a\\b", "\x00", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := safeName(s)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || strings.HasPrefix(n, ".") || len(n) > 100 {
			t.Fatalf("safeName(%q) = %q", s, n)
		}
	})
}
