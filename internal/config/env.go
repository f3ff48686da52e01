package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix starts every environment override: MPS_<SECTION>_<KEY>, e.g.
// MPS_RTMP_ADDRESS or MPS_HLS_PART_DURATION. Containers are configured this
// way without mounting a file. Lists are comma-separated. The paths,
// webhooks and schemes lists and the named-entry maps (watermarks,
// transcode.ladders, templates) have no overrides: they only make sense in a file. Variables naming an
// unknown section are ignored (they may be meant for something else); an
// unknown key in a known section is an error, so a typo is not silently
// dropped.
const EnvPrefix = "MPS_"

// applyEnv applies the MPS_* entries of environ ("NAME=value" strings, as
// from os.Environ) to cfg and records them in src so that validation errors
// name the variable.
func applyEnv(cfg *Config, environ []string, src sources) error {
	env := slices.Clone(environ)
	slices.Sort(env) // deterministic order and errors
	cv := reflect.ValueOf(cfg).Elem()
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		rest, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok {
			continue
		}
		sec, fv, key, err := lookupEnv(cv, rest)
		if err != nil {
			return &Error{Env: name, Err: err}
		}
		if !fv.IsValid() {
			continue // not a config section
		}
		if err := setFromString(fv, value); err != nil {
			return &Error{Env: name, Key: joinKey(sec, key), Err: err}
		}
		src[joinKey(sec, key)] = source{env: name}
	}
	return nil
}

// lookupEnv finds the field a variable name (without the prefix) sets. It
// returns an invalid Value when the name matches no section.
func lookupEnv(cv reflect.Value, rest string) (section string, field reflect.Value, key string, err error) {
	ct := cv.Type()
	for i := 0; i < ct.NumField(); i++ {
		sec := yamlName(ct.Field(i))
		if sec == "" || ct.Field(i).Type.Kind() != reflect.Struct {
			continue // paths
		}
		k, ok := strings.CutPrefix(rest, strings.ToUpper(sec)+"_")
		if !ok {
			continue
		}
		sv := cv.Field(i)
		key = strings.ToLower(k)
		fi, ok := yamlFields(sv.Type())[key]
		if !ok {
			var valid []string
			for _, n := range envKeys(sv.Type()) {
				valid = append(valid, EnvPrefix+strings.ToUpper(sec+"_"+n))
			}
			return sec, reflect.Value{}, key, fmt.Errorf("unknown setting %s.%s (valid: %s)", sec, key, strings.Join(valid, ", "))
		}
		if !envSettable(sv.FieldByIndex(fi).Type()) {
			return sec, reflect.Value{}, key, fmt.Errorf("%s.%s is a mapping of named entries or a nested section and can only be set in the file", sec, key)
		}
		return sec, sv.FieldByIndex(fi), key, nil
	}
	return "", reflect.Value{}, "", nil
}

// envKeys lists the keys of section type st that have an environment
// variable: all but the named-entry maps (transcode.ladders) and nested
// sections (ai.providers), which, like the paths list, only make sense in a
// file.
func envKeys(st reflect.Type) []string {
	var keys []string
	for _, n := range fieldNames(st) {
		if envSettable(st.FieldByIndex(yamlFields(st)[n]).Type) {
			keys = append(keys, n)
		}
	}
	return keys
}

// envSettable reports whether a setting of type t can be given as one
// environment variable: scalars, lists and text-encoded values can; maps
// nested structs and lists of them (auth.users) cannot.
func envSettable(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return true
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return false
	case reflect.Pointer, reflect.Slice:
		return t.Elem().Kind() != reflect.Struct
	}
	return true
}

// setFromString parses an environment value into v by v's type.
func setFromString(v reflect.Value, s string) error {
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return tu.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid boolean %q: use true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("invalid number %q", s)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		var list []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list).Convert(v.Type()))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}
