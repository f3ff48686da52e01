package server

import (
	"net/http"
	"slices"
	"strings"
)

// routeTable registers the server's HTTP routes and remembers the API
// operations among them ("GET /api/v1/streams/{path}"), so the OpenAPI
// contract test can check that the document lists exactly what the server
// serves. Subtree handlers (recordings, tasks, snapshots) declare the
// operations they serve below their prefix.
type routeTable struct {
	mux *http.ServeMux
	ops []string
}

func newRouteTable() *routeTable { return &routeTable{mux: http.NewServeMux()} }

// handle registers a method pattern ("GET /api/v1/x/{path...}") and
// records it as one operation, its {name...} wildcard written as the
// document's {name}. Protocol endpoints (HLS, WHIP/WHEP, the console's
// files) are registered on rt.mux directly: they are not REST operations.
func (t *routeTable) handle(pattern string, h http.Handler) {
	t.mux.Handle(pattern, h)
	if method, path, ok := strings.Cut(pattern, " "); ok {
		t.ops = append(t.ops, method+" "+strings.ReplaceAll(path, "...}", "}"))
	}
}

// handleFunc is handle for a function.
func (t *routeTable) handleFunc(pattern string, h http.HandlerFunc) { t.handle(pattern, h) }

// mount registers a subtree handler at each prefix and records the
// operations it serves below them.
func (t *routeTable) mount(h http.Handler, ops []string, prefixes ...string) {
	for _, p := range prefixes {
		t.mux.Handle(p, h)
	}
	t.ops = append(t.ops, ops...)
}

// describe records operations that a handler registered otherwise serves
// (a suffix below a wildcard path).
func (t *routeTable) describe(ops ...string) { t.ops = append(t.ops, ops...) }

// operations lists the recorded API operations, sorted and unique.
func (t *routeTable) operations() []string {
	out := slices.Clone(t.ops)
	slices.Sort(out)
	return slices.Compact(out)
}
