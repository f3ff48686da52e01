package config

import (
	"fmt"
	"strings"
)

// Error is a configuration error located where the bad value came from: the
// file and line of a YAML key, or the environment variable that set it. Its
// message reads `mps.yaml:12: rtmp.address: invalid address "abc": ...`, so
// an operator can go straight to the line; the API can also use the fields.
type Error struct {
	// File is the config file name as given to Load or Parse.
	File string
	// Line is the 1-based line of the key, 0 when unknown.
	Line int
	// Env is the environment variable that set the value, if one did.
	Env string
	// Key is the key path, e.g. "paths[2].pattern"; empty for YAML syntax
	// errors.
	Key string
	// Err is the underlying problem.
	Err error
}

// Error formats the location, key and problem on one line.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("environment variable " + e.Env)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	default:
		b.WriteString(e.File)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap exposes the underlying problem to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// source is where the value of one key came from.
type source struct {
	line int    // line in the file, when from YAML
	env  string // variable name, when from the environment
}

// sources maps key paths ("rtmp.address", "paths[1].record") to where they
// were set, so that validation after decoding can still point at a line.
type sources map[string]source

// locate builds an Error for key, pointing at the closest located key: the
// key itself or, failing that, its nearest set parent (a value inherited
// from the global section is reported at the override that inherited it).
func locate(file string, src sources, key string, err error) *Error {
	e := &Error{File: file, Key: key, Err: err}
	for k := key; k != ""; k = parentKey(k) {
		if s, ok := src[k]; ok {
			e.Line, e.Env = s.line, s.env
			break
		}
	}
	return e
}

// parentKey strips the last element of a key path: "a.b[2]" -> "a.b",
// "a.b" -> "a", "a" -> "".
func parentKey(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

// joinKey appends a field name to a key path.
func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
