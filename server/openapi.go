package server

import (
	_ "embed"
	"fmt"
	"net/http"

	"github.com/goccy/go-yaml"
)

// openapiYAML is the OpenAPI 3.1 document of the REST API. It is written
// by hand next to the code it describes; TestOpenAPIContract calls every
// route it lists against a running server, validates the answers against
// it, and fails when the server registers a route it lacks.
//
//go:embed openapi.yaml
var openapiYAML []byte

// openapiHandlers serves the document as YAML and as JSON (converted once,
// here, so a broken document fails the server's start in tests rather
// than a client's request).
func openapiHandlers() (yamlH, jsonH http.Handler, err error) {
	js, err := yaml.YAMLToJSON(openapiYAML)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	serve := func(ct string, body []byte) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(body)
		})
	}
	return serve("application/yaml", openapiYAML), serve("application/json", js), nil
}
