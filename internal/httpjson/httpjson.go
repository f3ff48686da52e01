// Package httpjson writes the JSON answers of every HTTP API of MPS (the
// server's, the recorder's, the task service's), so that all of them share
// one error body, {"error": "..."}, and one content type.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Error is the body of every API error answer.
type Error struct {
	Error string `json:"error"`
}

// Write writes v as an indented JSON body with the status code.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers with code and {"error": msg}.
func WriteError(w http.ResponseWriter, code int, msg string) {
	Write(w, code, Error{Error: msg})
}
