package recorder

// APIRoutes lists the operations Handler serves below APIPrefix, as the
// OpenAPI document writes them ({path} spans slashes). The server records
// them so its contract test can hold the document against the code; keep
// it in step with serveAPI.
func APIRoutes() []string {
	return []string{
		"GET " + APIPrefix,
		"GET " + APIPrefix + "/{path}",
		"POST " + APIPrefix + "/{path}/start",
		"POST " + APIPrefix + "/{path}/stop",
		"GET " + APIPrefix + "/{path}/segments",
		"GET " + APIPrefix + "/{path}/segments/{name}",
		"DELETE " + APIPrefix + "/{path}/segments/{name}",
		"GET " + APIPrefix + "/{path}/get",
	}
}
