package tasks

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"mps/internal/config"
	"mps/internal/vod"
)

// Status is a task's (or an operation's) state.
type Status string

// Task statuses. WAITING → PROCESSING → FINISH, FAIL or CANCELED.
// Operations end in SUCCESS, FAIL or CANCELED.
const (
	StatusWaiting    Status = "WAITING"
	StatusProcessing Status = "PROCESSING"
	StatusFinish     Status = "FINISH"
	StatusFail       Status = "FAIL"
	StatusCanceled   Status = "CANCELED"
	StatusSuccess    Status = "SUCCESS"
	// StatusSkipped is an operation not run because a content audit of
	// the same task blocked the file (event task.audit_blocked).
	StatusSkipped Status = "SKIPPED"
)

// Terminal reports whether s is an end state.
func (s Status) Terminal() bool {
	return s == StatusFinish || s == StatusFail || s == StatusCanceled
}

// Task is one unit of work and its state, as stored in the KV bucket and
// returned by the API.
type Task struct {
	ID        string `json:"id"`
	SessionID string `json:"session_id,omitempty"`
	Scheme    string `json:"scheme,omitempty"`
	// Input as submitted: an absolute path, "upload:<id>" or a URL.
	Input string `json:"input"`
	// Operations are resolved copies (templates expanded at submission).
	Operations []vod.Operation `json:"operations"`
	// Output is the output directory relative to DataDir/outputs; results
	// are served under /outputs/<Output>/.
	Output   string              `json:"output"`
	Priority int                 `json:"priority,omitempty"`
	Notify   config.SchemeNotify `json:"notify,omitzero"`
	Status   Status              `json:"status"`
	Progress float64             `json:"progress"`
	Ops      []OpState           `json:"ops"`
	Error    string              `json:"error,omitempty"`
	// Attempts counts starts; more than one means a node died mid-task.
	Attempts int    `json:"attempts"`
	Node     string `json:"node,omitempty"`
	// LeaseUntil is when the running node's lease runs out unless renewed
	// (shown with PROCESSING and ORPHANED, never stored).
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// KeepFor is how long the record and outputs stay after the task
	// ends (the scheme's keep_for or tasks.keep_for; 0: for ever).
	KeepFor config.Duration `json:"keep_for,omitempty"`
	// Target is the storage target the results are uploaded to (the
	// output's target), empty for local results only.
	Target string `json:"target,omitempty"`
	// Notified records that the end-of-task webhooks went out.
	Notified bool      `json:"notified,omitempty"`
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
}

// OpState is the state of one operation of a task. Result file paths are
// URL paths under /outputs/.
type OpState struct {
	Type     string      `json:"type"`
	Name     string      `json:"name,omitempty"`
	State    Status      `json:"state"`
	Progress float64     `json:"progress"`
	Error    string      `json:"error,omitempty"`
	Dir      string      `json:"dir,omitempty"`
	Result   *vod.Result `json:"result,omitempty"`
}

// public is the task as shown to API clients: without the notify secret.
func (t Task) public() Task {
	t.Notify.Secret = ""
	return t
}

// newID returns a time-ordered unique id (nanoseconds, strictly rising
// on this node, plus random bits): newer tasks sort after older.
func (s *Service) newID() string {
	now := time.Now().UnixNano()
	for {
		last := s.lastID.Load()
		if now <= last {
			now = last + 1
		}
		if s.lastID.CompareAndSwap(last, now) {
			break
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x%s", now, hex.EncodeToString(b[:]))
}

// opDir is the output subdirectory of operation i.
func opDir(i int, op vod.Operation) string {
	return fmt.Sprintf("%02d-%s", i+1, sanitize(op.Label()))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "op"
	}
	return string(b)
}
