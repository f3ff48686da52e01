package tasks

import (
	"bytes"
	"encoding/json"
	"testing"

	"mps/internal/config"
)

// FuzzTaskRequest feeds arbitrary bodies to the task request decoding and
// checks of POST /api/v1/tasks: nothing panics, and an operation that is
// accepted once is accepted again after a JSON round trip (what the queue
// stores is what runs).
func FuzzTaskRequest(f *testing.F) {
	for _, s := range []string{
		`{"input":"upload:abc","operations":[{"type":"snapshot","snapshot":{"times":["1s","50%"]}}]}`,
		`{"input":"http://h/x.mp4","operations":[{"template":"mp4_720p"}],"output":{"prefix":"a"}}`,
		`{"input":"/x","operations":[{"type":"transcode","transcode":{"container":"hls","video":{"codec":"h264","width":-1}}}]}`,
		`{"input":"x","operations":[{"type":"enhance","enhance":{"loudnorm":{"i":-16}}}],"notify":{"url":"http://h","mode":"change"}}`,
		`{"operations":[{"type":"sample","sample":{"every":"10%","max":0}}],"priority":-5,"session_id":"s"}`,
		`{"operations":[{"type":"watermark","watermark":{"names":["x"]}}]}`,
		`{}`, `[]`, `null`, `{"input":1}`,
	} {
		f.Add([]byte(s))
	}
	s, err := New(Config{DataDir: f.TempDir()}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req Request
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil {
			return
		}
		_ = validNotify(req.Notify.SchemeNotify)
		_, _ = outputDir(req.Output, "0123abcd")
		_ = s.checkInput(req.Input)
		for _, r := range req.Operations {
			op, err := s.resolveOp(r)
			if err != nil {
				continue
			}
			b, err := json.Marshal(config.OpRef{Operation: op})
			if err != nil {
				t.Fatalf("accepted operation does not encode: %v", err)
			}
			var again config.OpRef
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatalf("accepted operation %s does not decode: %v", b, err)
			}
			if _, err := s.resolveOp(again); err != nil {
				t.Fatalf("operation accepted, then refused after a round trip: %s: %v", b, err)
			}
		}
	})
}
