package recorder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalReplay: the journal replays its log after a restart (the
// last state of each entry wins, removals stay removed, a segment left
// "recording" by a crash is pending), ignores a last line a crash cut
// short, and is rewritten compacted.
func TestJournalReplay(t *testing.T) {
	dir := t.TempDir()
	j, err := loadJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(j.put(&upload{File: "a/1.mp4", Path: "a", State: upRecording, Local: true}))
	must(j.put(&upload{File: "a/2.mp4", Path: "a", State: upRecording, Local: true}))
	must(j.put(&upload{File: "a/3.mp4", Path: "a", State: upRecording, Local: true}))
	_, err = j.update("a/1.mp4", func(u *upload) bool { u.State, u.Local = upUploaded, false; return true })
	must(err)
	must(j.drop("a/2.mp4"))
	j.close()
	f, err := os.OpenFile(filepath.Join(dir, journalName), os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	_, err = f.WriteString(`{"file":"a/4.mp4","path":"a","sta`) // a kill -9 mid-write
	must(err)
	f.Close()

	j, err = loadJournal(dir)
	must(err)
	defer j.close()
	got := map[string]upload{}
	for _, u := range j.all() {
		got[u.File] = u
	}
	if len(got) != 2 || got["a/1.mp4"].State != upUploaded || got["a/1.mp4"].Local || got["a/3.mp4"].State != upPending {
		t.Fatalf("replayed %+v; want 1 uploaded (bucket only), 3 pending, 2 and the torn 4 absent", got)
	}
	if n, _ := j.pending("a"); n != 1 {
		t.Fatalf("pending = %d, want 1", n)
	}
	b, err := os.ReadFile(filepath.Join(dir, journalName))
	must(err)
	if lines := strings.Count(string(b), "\n"); lines != 2 || strings.Contains(string(b), "a/4.mp4") {
		t.Fatalf("compacted journal:\n%s", b)
	}
	// Appends after the compaction start on a clean line.
	must(j.drop("a/3.mp4"))
	j.close()
	j, err = loadJournal(dir)
	must(err)
	defer j.close()
	if all := j.all(); len(all) != 1 || all[0].File != "a/1.mp4" {
		t.Fatalf("after another restart: %+v", all)
	}
}
