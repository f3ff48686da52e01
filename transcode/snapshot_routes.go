package transcode

// SnapshotAPIRoutes lists the API operations SnapshotHandler serves below
// /api/v1/snapshots/, as the OpenAPI document writes them; the server
// records them for its contract test. Keep it in step with ServeHTTP.
func SnapshotAPIRoutes() []string {
	return []string{
		"GET " + apiPrefix + "{path}",
		"POST " + apiPrefix + "{path}",
	}
}
