package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"mps/internal/config"
	"mps/internal/testutil"
)

// contractCall is one documented operation as the contract test calls it:
// the path parameters, query and body, and the statuses it accepts.
type contractCall struct {
	params map[string]string
	query  url.Values
	body   []byte
	ctype  string
	want   []int
	// stream marks an answer that never ends (Server-Sent Events): its
	// status and headers are checked, its body is not read.
	stream bool
}

// TestOpenAPIContract holds openapi.yaml against the running server: the
// document is valid OpenAPI 3.1; it lists exactly the operations the
// server registers (a new route without documentation fails here); and
// every documented operation is called on a server with a live RTMP
// stream, recordings, snapshots and tasks, its answer validated against
// the document's schema for that status.
func TestOpenAPIContract(t *testing.T) {
	needFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	doc := loadOpenAPI(t)

	cfg := testConfig(t)
	cfg.Record.Enabled = true
	cfg.Record.SegmentDuration = config.Duration(2 * time.Second)
	cfg.Snapshots.Enabled = true
	cfg.Tasks.InputRoots = []string{testutil.TestData("")}
	cfg.Schemes = []config.Scheme{{Name: "thumbs", Enabled: true, Operations: []config.OpRef{{Template: "thumbnails"}},
		Notify: config.SchemeNotify{Mode: config.NotifyNone}}}
	s := startServer(t, cfg)
	base := "http://" + s.HTTPAddr()

	documented := documentedOps(doc)
	if served := s.apiOps; !slices.Equal(served, keys(documented)) {
		t.Fatalf("the server's operations and openapi.yaml differ\n  served only:     %v\n  documented only: %v",
			missing(served, keys(documented)), missing(keys(documented), served))
	}

	publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmp://"+s.RTMPAddr()+"/live/api", true)
	seg := waitFinishedSegment(t, base, "live/api")
	task := finishedTask(t, base)

	calls := contractCalls(seg, task)
	order := []string{ // state-changing calls last
		"POST /api/v1/recordings/{path}/stop", "POST /api/v1/recordings/{path}/start",
		"DELETE /api/v1/recordings/{path}/segments/{name}", "DELETE /api/v1/tasks/{id}",
		"DELETE /api/v1/streams/{path}",
	}
	ops := keys(documented)
	slices.SortStableFunc(ops, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			c, ok := calls[op]
			if !ok {
				t.Fatalf("no contract call for %s: add one to contractCalls", op)
			}
			callAndValidate(t, ctx, doc, base, op, documented[op], c)
		})
	}
}

// loadOpenAPI parses and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.yaml is OpenAPI %s, want 3.1", doc.OpenAPIMajorMinor())
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	return doc
}

// documentedOps maps "METHOD /path" to the route of each operation.
func documentedOps(doc *openapi3.T) map[string]*routers.Route {
	out := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return out
}

// contractCalls gives each documented operation its arguments, using a
// finished recording segment and a finished task of the running server.
func contractCalls(seg map[string]any, task map[string]any) map[string]contractCall {
	ok := []int{http.StatusOK}
	p := map[string]string{"path": "live/api"}
	taskID := task["id"].(string)
	output := firstOutput(task)
	upload := []byte("\x00\x00\x00\x18ftypmp42") // stored as given; never run
	request, _ := json.Marshal(map[string]any{"input": testutil.TestData("h264_aac_1s_gop.mp4"),
		"operations": []any{map[string]any{"type": "probe"}}})
	return map[string]contractCall{
		"GET /healthz":                                  {want: ok},
		"GET /metrics":                                  {want: ok},
		"GET /api/v1/openapi.json":                      {want: ok},
		"GET /api/v1/openapi.yaml":                      {want: ok},
		"GET /api/v1/config":                            {want: ok},
		"GET /api/v1/capabilities":                      {want: ok},
		"GET /api/v1/config/origins":                    {want: ok},
		"GET /api/v1/listeners":                         {want: ok},
		"GET /api/v1/events":                            {query: url.Values{"limit": {"10"}}, want: ok},
		"GET /api/v1/events/stream":                     {want: ok, stream: true},
		"GET /api/v1/streams":                           {want: ok},
		"GET /api/v1/streams/{path}":                    {params: p, want: ok},
		"DELETE /api/v1/streams/{path}":                 {params: p, want: []int{http.StatusNoContent}},
		"GET /api/v1/sources":                           {want: ok},
		"GET /api/v1/recordings":                        {want: ok},
		"GET /api/v1/recordings/{path}":                 {params: p, want: ok},
		"POST /api/v1/recordings/{path}/start":          {params: p, want: ok},
		"POST /api/v1/recordings/{path}/stop":           {params: p, want: ok},
		"GET /api/v1/recordings/{path}/segments":        {params: p, want: ok},
		"GET /api/v1/recordings/{path}/segments/{name}": {params: map[string]string{"path": "live/api", "name": seg["name"].(string)}, want: ok},
		"DELETE /api/v1/recordings/{path}/segments/{name}": {params: map[string]string{"path": "live/api", "name": seg["name"].(string)},
			want: []int{http.StatusNoContent}},
		"GET /api/v1/recordings/{path}/get": {params: p, want: ok,
			query: url.Values{"start": {seg["start"].(string)}, "duration": {"1s"}}},
		"GET /api/v1/snapshots/{path}":         {params: p, want: ok},
		"POST /api/v1/snapshots/{path}":        {params: p, want: ok},
		"GET /api/v1/streams/{path}/subtitles": {params: p, want: []int{http.StatusNotFound}},
		"GET /api/v1/search":                   {query: url.Values{"q": {"hello"}}, want: ok},
		"GET /api/v1/transcoders":              {want: ok},
		"POST /api/v1/tasks":                   {body: request, ctype: "application/json", want: []int{http.StatusCreated}},
		"GET /api/v1/tasks":                    {query: url.Values{"limit": {"5"}}, want: ok},
		"GET /api/v1/tasks/{id}":               {params: map[string]string{"id": taskID}, want: ok},
		"GET /api/v1/tasks/health":             {want: ok},
		"DELETE /api/v1/tasks/{id}":            {params: map[string]string{"id": taskID}, want: []int{http.StatusConflict}},
		"GET /api/v1/highlights/{path}":        {params: p, want: ok},
		"GET /api/v1/highlights/{path}/clips/{name}": {params: map[string]string{"path": "live/api", "name": "20260101T000000.000Z.mp4"},
			want: []int{http.StatusNotFound}},
		"POST /api/v1/uploads": {query: url.Values{"name": {"x.mp4"}}, body: upload, ctype: "application/octet-stream",
			want: []int{http.StatusCreated}},
		"GET /api/v1/schemes":                  {want: ok},
		"GET /api/v1/schemes/{name}":           {params: map[string]string{"name": "thumbs"}, want: ok},
		"POST /api/v1/schemes/{name}/{action}": {params: map[string]string{"name": "thumbs", "action": "disable"}, want: ok},
		"POST /api/v1/schemes/{name}/bucket-events": {params: map[string]string{"name": "thumbs"}, ctype: "application/json",
			body: []byte(`{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"object":{"key":"a.mp4"}}}]}`), want: []int{http.StatusNotFound}},
		"GET /api/v1/templates":      {want: ok},
		"GET /api/v1/outputs/{file}": {params: map[string]string{"file": output}, want: ok},
	}
}

// callAndValidate makes one call and validates the answer against the
// route's documented response for its status.
func callAndValidate(t *testing.T, ctx context.Context, doc *openapi3.T, base, op string, route *routers.Route, c contractCall) {
	t.Helper()
	path := route.Path
	for k, v := range c.params {
		path = strings.Replace(path, "{"+k+"}", v, 1)
	}
	u := base + path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, route.Method, u, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	var body []byte
	if !c.stream {
		body, _ = io.ReadAll(resp.Body)
	}
	cancel()
	resp.Body.Close()
	if !slices.Contains(c.want, resp.StatusCode) {
		t.Fatalf("%s: status %d, want %v: %.300s", op, resp.StatusCode, c.want, body)
	}
	// The request as the document sees it: path parameters unescaped
	// ({path} spans slashes, so it is given here rather than routed).
	vreq, _ := http.NewRequestWithContext(ctx, route.Method, u, bytes.NewReader(c.body))
	if c.ctype != "" {
		vreq.Header.Set("Content-Type", c.ctype)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: c.params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		t.Errorf("%s: the test's request does not match the document: %v", op, err)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	if ct != "application/json" {
		opts.ExcludeResponseBody = true // media and text bodies: the content type is checked below
		if content := route.Operation.Responses.Status(resp.StatusCode); content != nil && content.Value.Content != nil && content.Value.Content.Get(ct) == nil {
			t.Errorf("%s: answered %s, which the document does not list for %d", op, ct, resp.StatusCode)
		}
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
	if err != nil {
		t.Errorf("%s: answer does not match the document: %v\n%.500s", op, err, body)
	}
}

// waitFinishedSegment waits for a path's first finished recording segment
// and returns it as the API lists it.
func waitFinishedSegment(t *testing.T, base, path string) map[string]any {
	t.Helper()
	var seg map[string]any
	testutil.WaitFor(t, 30*time.Second, "a finished recording segment", func() bool {
		var list struct{ Items []map[string]any }
		if getJSON(t, base+"/api/v1/recordings/"+path+"/segments", &list) != http.StatusOK {
			return false
		}
		for _, s := range list.Items {
			if s["recording"] == false {
				seg = s
				return true
			}
		}
		return false
	})
	return seg
}

// finishedTask runs the thumbnails template on a sample file and returns
// the finished task as the API shows it.
func finishedTask(t *testing.T, base string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"input": testutil.TestData("h264_aac_1s_gop.mp4"),
		"operations": []any{map[string]any{"template": "thumbnails"}}})
	resp, err := http.Post(base+"/api/v1/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var task map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&task)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d %v", resp.StatusCode, task)
	}
	id := task["id"].(string)
	testutil.WaitFor(t, 60*time.Second, "the task to finish", func() bool {
		getJSON(t, base+"/api/v1/tasks/"+id, &task)
		return task["status"] == "FINISH" || task["status"] == "FAIL"
	})
	if task["status"] != "FINISH" {
		t.Fatalf("task failed: %v", task)
	}
	return task
}

// firstOutput is the first result file of a task, relative to /outputs/.
func firstOutput(task map[string]any) string {
	for _, op := range task["ops"].([]any) {
		res, _ := op.(map[string]any)["result"].(map[string]any)
		files, _ := res["files"].([]any)
		for _, f := range files {
			p, _ := f.(map[string]any)["path"].(string)
			if rest, ok := strings.CutPrefix(p, "/outputs/"); ok {
				return rest
			}
		}
	}
	return "missing"
}

func keys(m map[string]*routers.Route) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// missing lists the elements of a that b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
