// Package server is the composition root of MPS: it turns a config into a
// running server by wiring the path manager, the protocol adapters, the HLS
// packager, the recorder, the REST API, metrics and the event bus together,
// and applies config reloads to them. It is the only package that imports
// all the others; they know only internal/stream and small helpers.
package server
