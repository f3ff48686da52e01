package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"mps/ai"
	"mps/internal/config"
	"mps/internal/vod"
	"mps/internal/watermark"
	"mps/server"
	"mps/tasks"
)

const processUsage = `Usage:
  mps process INPUT -o DIR (-t TEMPLATE)... [--op JSON]... [--scheme NAME] [-c FILE]

Runs operations on a media file locally, without a server or a queue, the
way a task runs them. Templates and schemes come from the config file (-c,
else ./mps.yaml, else the built-in defaults); --op adds an inline operation
as JSON, e.g. --op '{"type":"snapshot","snapshot":{"times":["1s","50%"]}}'.
Progress is a bar on a terminal and plain lines otherwise; the results are
printed as JSON on stdout. The exit code is 1 when an operation fails.
`

// multi collects a repeated flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func process(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("process", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, processUsage) }
	var templates, inline multi
	fs.Var(&templates, "t", "template name from the config (repeatable)")
	fs.Var(&inline, "op", "inline operation as JSON (repeatable)")
	scheme := fs.String("scheme", "", "run the operations of this scheme")
	out := fs.String("o", "", "output directory (required)")
	file := fs.String("c", "", "config file for templates and schemes")
	// accept INPUT before or after the flags
	var input string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		input, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if input == "" && fs.NArg() > 0 {
		input = fs.Arg(0)
	}
	if input == "" || *out == "" {
		fmt.Fprint(stderr, "mps process: INPUT and -o DIR are required\n\n"+processUsage)
		return 2
	}
	cfg, _, err := config.LoadOrDefault(*file)
	if err != nil {
		fmt.Fprintln(stderr, "mps process:", err)
		return 2
	}
	ops, err := resolveOps(cfg, templates, inline, *scheme)
	if err != nil {
		fmt.Fprintln(stderr, "mps process:", err)
		return 2
	}
	if _, err := os.Stat(input); err != nil {
		fmt.Fprintln(stderr, "mps process:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(stderr)
	env := &vod.Env{Watermark: func(name string) (watermark.Template, error) {
		t, ok := server.WatermarkTemplate(cfg, name)
		if !ok {
			return t, fmt.Errorf("unknown watermark %q", name)
		}
		return t, nil
	}, Extensions: ai.Extensions(cfg, nil)}
	results, err := tasks.RunLocalWith(ctx, env, input, ops, *out, prog.update)
	prog.done()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"input": input, "output": *out, "results": results})
	if err != nil {
		fmt.Fprintln(stderr, "mps process: failed:", err)
		return 1
	}
	return 0
}

// resolveOps turns template names, inline JSON and a scheme into the list of
// operations to run, in that order.
func resolveOps(cfg *config.Config, templates, inline []string, scheme string) ([]vod.Operation, error) {
	var ops []vod.Operation
	for _, name := range templates {
		op, ok := cfg.Templates[name]
		if !ok {
			return nil, fmt.Errorf("unknown template %q (known: %s)", name, strings.Join(templateNames(cfg), ", "))
		}
		op.Name = name
		ops = append(ops, op)
	}
	for _, js := range inline {
		var op vod.Operation
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return nil, fmt.Errorf("--op %s: %w", js, err)
		}
		ops = append(ops, op)
	}
	if scheme != "" {
		sc, ok := findScheme(cfg, scheme)
		if !ok {
			return nil, fmt.Errorf("unknown scheme %q", scheme)
		}
		for _, ref := range sc.Operations {
			if ref.Template != "" {
				op, ok := cfg.Templates[ref.Template]
				if !ok {
					return nil, fmt.Errorf("scheme %s: unknown template %q", scheme, ref.Template)
				}
				op.Name = ref.Template
				ops = append(ops, op)
				continue
			}
			ops = append(ops, ref.Operation)
		}
	}
	if len(ops) == 0 {
		return nil, errors.New("no operation: give -t TEMPLATE, --op JSON or --scheme NAME")
	}
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			return nil, fmt.Errorf("operation %d (%s): %w", i+1, op.Label(), err)
		}
	}
	return ops, nil
}

func templateNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Templates))
	for n := range cfg.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func findScheme(cfg *config.Config, name string) (config.Scheme, bool) {
	for _, sc := range cfg.Schemes {
		if sc.Name == name {
			return sc, true
		}
	}
	return config.Scheme{}, false
}
