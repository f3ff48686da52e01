package config

import (
	"fmt"
	"net/url"
	"path"
	"reflect"
	"strings"

	"mps/internal/vod"
)

// Checks of the VOD sections: templates and schemes. An operation is
// checked by vod's own Validate (so the file accepts exactly what a task
// request does), and the names it refers to — watermarks, enhance
// templates — must exist, so a typo fails at load rather than when a file
// arrives at 3 a.m.

func (v *validator) templates(c *Config) error {
	for _, name := range names(c.Templates) {
		if err := v.operation(c, "templates."+name, c.Templates[name]); err != nil {
			return err
		}
	}
	return nil
}

// operation checks one operation, a template or an inline scheme
// operation, whose key path is prefix.
func (v *validator) operation(c *Config, prefix string, op vod.Operation) error {
	if err := op.Validate(); err != nil {
		return v.wrap(prefix, err)
	}
	if t := op.Transcode; t != nil {
		for i, n := range t.Watermarks {
			if err := v.watermarkRef(c, fmt.Sprintf("%s.transcode.watermarks[%d]", prefix, i), n); err != nil {
				return err
			}
		}
		for i, n := range t.Enhancements {
			if e, ok := c.Templates[n]; !ok || e.Type != vod.TypeEnhance {
				return v.errorf(fmt.Sprintf("%s.transcode.enhancements[%d]", prefix, i),
					"unknown enhance template %q (want the name of a template of type enhance)", n)
			}
		}
	}
	if err := v.auditRefs(c, prefix, op.Audit); err != nil {
		return err
	}
	if w := op.Watermark; w != nil {
		for i, n := range w.Names {
			if err := v.watermarkRef(c, fmt.Sprintf("%s.watermark.names[%d]", prefix, i), n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *validator) schemes(c *Config) error {
	seen := map[string]int{}
	for i := range c.Schemes {
		s := &c.Schemes[i]
		p := fmt.Sprintf("schemes[%d]", i)
		k := func(name string) string { return p + "." + name }
		if err := ValidateName(s.Name); err != nil {
			return v.wrap(k("name"), err)
		}
		if j, dup := seen[s.Name]; dup {
			return v.errorf(k("name"), "duplicate scheme name %q (also schemes[%d])", s.Name, j)
		}
		seen[s.Name] = i
		if err := v.trigger(c, k("trigger"), s.Trigger); err != nil {
			return err
		}
		if len(s.Operations) == 0 {
			return v.errorf(k("operations"), "a scheme needs at least one operation")
		}
		for j, r := range s.Operations {
			if err := v.opRef(c, fmt.Sprintf("%s[%d]", k("operations"), j), r); err != nil {
				return err
			}
		}
		if err := v.schemeOutput(k("output"), s.Output); err != nil {
			return err
		}
		if t := s.Output.Target; t != "" {
			if _, ok := c.Storage.Target(t); !ok {
				return v.errorf(k("output.target"), "no storage target %q (see storage.targets)", t)
			}
		}
		if err := v.schemeNotify(k("notify"), s.Notify); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) trigger(c *Config, prefix string, t SchemeTrigger) error {
	if w := t.Watch; w != nil {
		if strings.TrimSpace(w.Dir) == "" {
			return v.errorf(prefix+".watch.dir", "a watch trigger needs a directory")
		}
		if strings.ContainsRune(w.Dir, 0) {
			return v.errorf(prefix+".watch.dir", "invalid directory %q", w.Dir)
		}
		if _, err := path.Match(w.Glob, ""); err != nil {
			return v.errorf(prefix+".watch.glob", "invalid glob %q: %w", w.Glob, err)
		}
	}
	if r := t.Recording; r != nil {
		if _, err := path.Match(r.Path, ""); err != nil {
			return v.errorf(prefix+".recording.path", "invalid glob %q: %w", r.Path, err)
		}
	}
	if b := t.Bucket; b != nil {
		if _, ok := c.Storage.Target(b.Target); !ok {
			return v.errorf(prefix+".bucket.target", "no storage target %q (see storage.targets)", b.Target)
		}
		if _, err := path.Match(b.Glob, ""); err != nil {
			return v.errorf(prefix+".bucket.glob", "invalid glob %q: %w", b.Glob, err)
		}
	}
	return nil
}

// inlineOpKeys are the keys of an inline operation, for pointing at the
// one that clashes with a template reference.
var inlineOpKeys = fieldNames(reflect.TypeFor[vod.Operation]())

func (v *validator) opRef(c *Config, p string, r OpRef) error {
	inline := !reflect.ValueOf(r.Operation).IsZero()
	switch {
	case r.Template != "" && inline:
		keys := make([]string, 0, len(inlineOpKeys))
		for _, n := range inlineOpKeys {
			keys = append(keys, p+"."+n)
		}
		return v.errorf(v.pick(keys...), "give either template: or an inline operation, not both")
	case r.Template != "":
		if _, ok := c.Templates[r.Template]; !ok {
			return v.errorf(p+".template", "unknown template %q (%s)", r.Template, defined(c.Templates, "templates"))
		}
		return nil
	case !inline:
		return v.errorf(p, "an operation needs template: NAME or an inline operation with type:")
	}
	return v.operation(c, p, r.Operation)
}

// maxOutputPath bounds an output dir or prefix, like the task service does.
const maxOutputPath = 200

func (v *validator) schemeOutput(prefix string, o SchemeOutput) error {
	if o.Dir != "" && o.Prefix != "" {
		return v.errorf(v.pick(prefix+".prefix", prefix+".dir"), "set either dir or prefix, not both")
	}
	for _, f := range []struct{ key, val string }{{"dir", o.Dir}, {"prefix", o.Prefix}} {
		if err := checkOutputPath(f.val); err != nil {
			return v.wrap(prefix+"."+f.key, err)
		}
	}
	return nil
}

// checkOutputPath accepts "" or a relative /-separated path that stays
// under tasks.output_dir.
func checkOutputPath(p string) error {
	if p == "" {
		return nil
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) || (len(p) > 1 && p[1] == ':') {
		return fmt.Errorf("invalid path %q: must be relative to tasks.output_dir, with / separators", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return fmt.Errorf("invalid path %q: must not contain .. (it must stay under tasks.output_dir)", p)
		}
	}
	if len(path.Clean(p)) > maxOutputPath {
		return fmt.Errorf("invalid path %q: longer than %d bytes", p, maxOutputPath)
	}
	return nil
}

func (v *validator) schemeNotify(prefix string, n SchemeNotify) error {
	if err := v.oneOf(prefix+".mode", n.Mode, NotifyFinish, NotifyChange, NotifyNone); err != nil {
		return err
	}
	for i, w := range n.Webhooks {
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.errorf(fmt.Sprintf("%s.webhooks[%d]", prefix, i), "invalid URL %q: want http:// or https://", w)
		}
	}
	if n.Secret != "" && len(n.Webhooks) == 0 {
		return v.errorf(prefix+".secret", "signs notify.webhooks, but there are none")
	}
	return nil
}
