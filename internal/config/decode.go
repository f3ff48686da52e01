package config

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The YAML is decoded by walking goccy/go-yaml's AST ourselves instead of
// calling yaml.Unmarshal: that way every error (unknown key, wrong type, bad
// value) carries the key path and line we want, the same walk records the
// line of every key for the semantic checks that run after decoding, and a
// value missing from the file simply keeps the default it was decoded onto.

// decoder decodes one YAML document onto a Config.
type decoder struct {
	file    string
	src     sources
	anchors map[string]ast.Node
}

// decodeYAML parses data and decodes it onto cfg, recording key lines in src.
func decodeYAML(file string, data []byte, cfg *Config, src sources) error {
	return decodeInto(file, data, reflect.ValueOf(cfg).Elem(), src)
}

// decodeInto parses data and decodes it onto v, a settable value.
func decodeInto(file string, data []byte, v reflect.Value, src sources) error {
	// Duplicate keys are reported by decodeStruct, with the key path.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return syntaxError(file, err)
	}
	d := &decoder{file: file, src: src, anchors: map[string]ast.Node{}}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return &Error{File: file, Line: lineOf(doc.Body), Err: errors.New("only one YAML document is allowed")}
		}
		body = doc.Body
	}
	if body == nil {
		return nil // empty file: all defaults
	}
	return d.decode(body, v, "", lineOf(body))
}

// syntaxError turns a parser error into an Error with the line it reports.
func syntaxError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Err: fmt.Errorf("YAML syntax error: %s", ye.GetMessage())}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line = tk.Position.Line
		}
		return e
	}
	return &Error{File: file, Err: fmt.Errorf("YAML syntax error: %w", err)}
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

func (d *decoder) errorf(line int, key, format string, args ...any) error {
	return &Error{File: d.file, Line: line, Key: key, Err: fmt.Errorf(format, args...)}
}

// unwrap resolves tags, anchors and aliases to the node they stand for.
func (d *decoder) unwrap(n ast.Node, key string, line int) (ast.Node, error) {
	for range 100 { // bounds alias chains
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			if t.Name != nil {
				d.anchors[t.Name.GetToken().Value] = t.Value
			}
			n = t.Value
		case *ast.AliasNode:
			name := ""
			if t.Value != nil {
				name = t.Value.GetToken().Value
			}
			a, ok := d.anchors[name]
			if !ok {
				return nil, d.errorf(line, key, "unknown alias *%s", name)
			}
			n = a
		default:
			return n, nil
		}
	}
	return nil, d.errorf(line, key, "alias chain too deep")
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// decode decodes node n into v; key is v's key path and line the line of
// that key, used for errors about the value.
func (d *decoder) decode(n ast.Node, v reflect.Value, key string, line int) error {
	n, err := d.unwrap(n, key, line)
	if err != nil {
		return err
	}
	if n == nil || n.Type() == ast.NullType {
		// "key:" with no value: sections keep their defaults, anything
		// else becomes empty (a nil override inherits).
		if v.Kind() != reflect.Struct {
			v.SetZero()
		}
		return nil
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		text, ok := scalarText(n)
		if !ok {
			return d.errorf(line, key, "expected a scalar value, got %s", describe(n))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			return &Error{File: d.file, Line: line, Key: key, Err: err}
		}
		return nil
	}
	if reflect.PointerTo(v.Type()).Implements(jsonUnmarshalerType) {
		// A type that only knows JSON (vod.Offset before it learnt
		// UnmarshalText, say) gets a scalar as the JSON it would have
		// been in an API request; a mapping or a list is decoded field by
		// field below.
		if raw, ok := scalarJSON(n); ok {
			if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
				return &Error{File: d.file, Line: line, Key: key, Err: err}
			}
			return nil
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := d.decode(n, nv.Elem(), key, line); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		return d.decodeStruct(n, v, key, line)
	case reflect.Slice:
		return d.decodeSlice(n, v, key, line)
	case reflect.Map:
		return d.decodeMap(n, v, key, line)
	case reflect.Float64:
		var f float64
		switch t := n.(type) {
		case *ast.FloatNode:
			f = t.Value
		case *ast.IntegerNode:
			switch x := t.Value.(type) {
			case int64:
				f = float64(x)
			case uint64:
				f = float64(x)
			}
		default:
			return d.errorf(line, key, "expected a number, got %s", describe(n))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return d.errorf(line, key, "expected a finite number, got %v", f)
		}
		v.SetFloat(f)
		return nil
	case reflect.String:
		text, ok := scalarText(n)
		if !ok {
			return d.errorf(line, key, "expected a string, got %s", describe(n))
		}
		v.SetString(text)
		return nil
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			return d.errorf(line, key, "expected true or false, got %s", describe(n))
		}
		v.SetBool(b.Value)
		return nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			return d.errorf(line, key, "expected an integer, got %s", describe(n))
		}
		var i int64
		switch x := in.Value.(type) {
		case int64:
			i = x
		case uint64:
			if x > 1<<63-1 {
				return d.errorf(line, key, "integer %d is too large", x)
			}
			i = int64(x)
		}
		if v.OverflowInt(i) {
			return d.errorf(line, key, "integer %d is out of range", i)
		}
		v.SetInt(i)
		return nil
	}
	return d.errorf(line, key, "unsupported field type %s", v.Type()) // a bug in this package
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, key string, line int) error {
	mn, ok := n.(ast.MapNode)
	if !ok {
		return d.errorf(line, key, "expected a mapping of keys, got %s", describe(n))
	}
	fields := yamlFields(v.Type())
	seen := map[string]bool{}
	for it := mn.MapRange(); it.Next(); {
		kv := it.KeyValue()
		kl := lineOf(kv.Key)
		name, err := d.keyName(kv.Key, key, kl)
		if err != nil {
			return err
		}
		fk := joinKey(key, name)
		fi, ok := fields[name]
		if !ok {
			return d.errorf(kl, fk, "unknown key %q (valid keys: %s)", name, strings.Join(fieldNames(v.Type()), ", "))
		}
		if seen[name] {
			return d.errorf(kl, fk, "duplicate key %q", name)
		}
		seen[name] = true
		d.src[fk] = source{line: kl}
		if err := d.decode(kv.Value, v.FieldByIndex(fi), fk, kl); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) keyName(k ast.MapKeyNode, parent string, line int) (string, error) {
	var n ast.Node = k
	if mk, ok := n.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	if n != nil && n.Type() == ast.MergeKeyType {
		return "", d.errorf(line, parent, "merge keys (<<) are not supported")
	}
	s, ok := scalarText(n)
	if !ok {
		return "", d.errorf(line, parent, "a key must be a plain name, got %s", describe(n))
	}
	return s, nil
}

// defaulter is implemented (on the pointer) by list and map element types
// whose entries start from per-entry defaults (a path rule's source_retry, a
// rung's codec), so a key left out of one entry gets its documented default
// rather than the zero value. A new element type (say a VOD task template
// in `templates: map[string]Operation`) only needs this method.
type defaulter interface{ setDefaults() }

// newElem returns a fresh element of type t holding its defaults.
func newElem(t reflect.Type) reflect.Value {
	ev := reflect.New(t).Elem()
	if df, ok := ev.Addr().Interface().(defaulter); ok {
		df.setDefaults()
	}
	return ev
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, key string, line int) error {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return d.errorf(line, key, "expected a list, got %s", describe(n))
	}
	et := v.Type().Elem()
	out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
	for i, item := range seq.Values {
		ek := fmt.Sprintf("%s[%d]", key, i)
		el := lineOf(item)
		if el == 0 {
			el = line
		}
		d.src[ek] = source{line: el}
		ev := newElem(et)
		if err := d.decode(item, ev, ek, el); err != nil {
			return err
		}
		out = reflect.Append(out, ev)
	}
	if out.Len() == 0 {
		out = reflect.Zero(v.Type())
	}
	v.Set(out)
	return nil
}

// mapKeyRE is what a map entry's name may be: it appears in key paths,
// REST URLs and references from other keys (`transcode: abr`), so it is
// kept to one plain word.
var mapKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateName reports whether s is usable as the name of a map entry
// (a ladder, a watermark): 1 to 64 letters, digits, _ or -. The API uses it
// for entries it creates, so they can be written back to a file.
func ValidateName(s string) error {
	if !mapKeyRE.MatchString(s) {
		return fmt.Errorf("invalid name %q: use 1 to 64 letters, digits, _ or -", s)
	}
	return nil
}

// decodeMap decodes a mapping with free-form names (transcode.ladders,
// watermarks) into a map[string]T. The mapping replaces the value decoded
// before it (the defaults) as a whole, like a list does: entries are not
// merged by name, so a file lists exactly the entries it wants. Each entry
// starts from its type's defaults (see defaulter).
func (d *decoder) decodeMap(n ast.Node, v reflect.Value, key string, line int) error {
	mn, ok := n.(ast.MapNode)
	if !ok {
		return d.errorf(line, key, "expected a mapping of names, got %s", describe(n))
	}
	if v.Type().Key().Kind() != reflect.String {
		return d.errorf(line, key, "unsupported map type %s", v.Type()) // a bug in this package
	}
	out := reflect.MakeMap(v.Type())
	for it := mn.MapRange(); it.Next(); {
		kv := it.KeyValue()
		kl := lineOf(kv.Key)
		name, err := d.keyName(kv.Key, key, kl)
		if err != nil {
			return err
		}
		if err := ValidateName(name); err != nil {
			return &Error{File: d.file, Line: kl, Key: key, Err: err}
		}
		ek := joinKey(key, name)
		nk := reflect.ValueOf(name).Convert(v.Type().Key())
		if out.MapIndex(nk).IsValid() {
			return d.errorf(kl, ek, "duplicate name %q", name)
		}
		d.src[ek] = source{line: kl}
		ev := newElem(v.Type().Elem())
		if err := d.decode(kv.Value, ev, ek, kl); err != nil {
			return err
		}
		out.SetMapIndex(nk, ev)
	}
	if out.Len() == 0 {
		out = reflect.Zero(v.Type()) // "{}" and "" decode alike
	}
	v.Set(out)
	return nil
}

// scalarText returns the text of a scalar node as written, so that
// `publish_pass: 12345` is the string "12345" and `max_bytes: 1024` feeds
// ByteSize's parser.
func scalarText(n ast.Node) (string, bool) {
	switch t := n.(type) {
	case *ast.StringNode:
		return t.Value, true
	case *ast.LiteralNode:
		if t.Value == nil {
			return "", true
		}
		return t.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return t.GetToken().Value, true
	}
	return "", false
}

// scalarJSON renders a scalar node as the JSON value it stands for: a
// number or boolean as written, anything else as a JSON string.
func scalarJSON(n ast.Node) ([]byte, bool) {
	switch t := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		raw := []byte(t.GetToken().Value)
		if json.Valid(raw) {
			return raw, true
		}
	}
	text, ok := scalarText(n)
	if !ok {
		return nil, false
	}
	raw, err := json.Marshal(text)
	return raw, err == nil
}

// describe names a node's kind for "expected X, got Y" messages.
func describe(n ast.Node) string {
	switch t := n.(type) {
	case ast.MapNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return "the string " + strconv.Quote(t.Value)
	case *ast.IntegerNode, *ast.FloatNode:
		return "the number " + t.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + t.GetToken().Value
	case nil:
		return "nothing"
	}
	return n.Type().String()
}

// yamlFields maps the YAML names of t's exported fields to field index
// paths (for reflect.Value.FieldByIndex). The fields of an embedded struct
// tagged `yaml:",inline"` (or embedded without a YAML name, as
// encoding/json promotes them) are t's own keys: vod.SnapshotSpec's image
// keys, a scheme operation's inline vod.Operation.
func yamlFields(t reflect.Type) map[string][]int {
	m := map[string][]int{}
	walkFields(t, nil, func(name string, index []int) { m[name] = index })
	return m
}

// fieldNames lists t's YAML keys in declaration order, for error hints.
func fieldNames(t reflect.Type) []string {
	var names []string
	walkFields(t, nil, func(name string, _ []int) { names = append(names, name) })
	return names
}

// walkFields calls fn with the YAML name and index path of every key of
// struct type t, inline fields expanded in place.
func walkFields(t reflect.Type, prefix []int, fn func(name string, index []int)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		if isInline(f) {
			walkFields(f.Type, index, fn)
			continue
		}
		if name := yamlName(f); name != "" {
			fn(name, index)
		}
	}
}

// isInline reports whether f is an embedded struct whose keys are its
// parent's.
func isInline(f reflect.StructField) bool {
	if !f.Anonymous || f.Type.Kind() != reflect.Struct {
		return false
	}
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name != "" {
		return false
	}
	return tag == "" || slices.Contains(strings.Split(opts, ","), "inline")
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || name == "" {
		return ""
	}
	return name
}
