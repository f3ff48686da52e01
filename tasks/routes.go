package tasks

// APIRoutes lists the API operations Handler serves, as the OpenAPI
// document writes them; the server records them for its contract test.
// Keep it in step with Handler.
func APIRoutes() []string {
	return []string{
		"POST /api/v1/tasks",
		"GET /api/v1/tasks",
		"GET /api/v1/tasks/{id}",
		"DELETE /api/v1/tasks/{id}",
		"POST /api/v1/uploads",
		"GET /api/v1/schemes",
		"GET /api/v1/schemes/{name}",
		"POST /api/v1/schemes/{name}/{action}",
		"GET /api/v1/templates",
		"GET /api/v1/outputs/{file}",
	}
}
