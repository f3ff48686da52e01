package tasks

import "strings"

// APIRoutes lists the API operations Handler serves, as the OpenAPI
// document writes them ({file...} as {file}); the server records them for
// its contract test. It reads the same table Handler serves from.
func (s *Service) APIRoutes() []string {
	var out []string
	for _, r := range s.routes() {
		out = append(out, strings.ReplaceAll(r.pattern, "...}", "}"))
	}
	return out
}
