package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// defaultYAML is the canonical default configuration. configs/mps.yaml is a
// byte-identical copy (enforced by a test): the documented file is exactly
// what runs when no file is given.
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the file `mps serve` reads when no -c flag is given and it
// exists in the working directory.
const DefaultFile = "mps.yaml"

// DefaultYAML returns the documented default configuration file, e.g. for
// `mps config` style commands or an API endpoint that shows it.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Defaults returns a fresh copy of the built-in defaults, without
// environment overrides. Each call parses the embedded YAML again so callers
// may modify the result freely.
func Defaults() *Config {
	cfg, err := parse("default.yaml", defaultYAML, nil)
	if err != nil {
		panic("config: built-in defaults are invalid: " + err.Error()) // caught by tests
	}
	return cfg
}

// Parse decodes and validates YAML data over the defaults, without
// environment overrides; name is used in error messages. Keys missing from
// data keep their defaults.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, nil)
}

// ParseEnv is Parse with the environment overrides in environ ("NAME=value"
// strings, as from os.Environ) applied before validation.
func ParseEnv(name string, data []byte, environ []string) (*Config, error) {
	return parse(name, data, environ)
}

func parse(name string, data []byte, environ []string) (*Config, error) {
	// Decode the built-in defaults first so that a key missing from data
	// keeps its default.
	cfg := &Config{}
	if err := decodeYAML("default.yaml", defaultYAML, cfg, sources{}); err != nil {
		return nil, fmt.Errorf("built-in defaults: %w", err)
	}
	src := sources{}
	if err := decodeYAML(name, data, cfg, src); err != nil {
		return nil, err
	}
	if err := applyEnv(cfg, environ, src); err != nil {
		return nil, err
	}
	if err := validate(cfg, name, src); err != nil {
		return nil, err
	}
	cfg.origin = origins{file: name, src: src}
	return cfg, nil
}

// Load reads file, applies MPS_* environment overrides and validates. Every
// error names the file, line and key (or the variable).
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseEnv(file, data, os.Environ())
}

// LoadOrDefault implements the CLI rule: with a file name, Load it; with ""
// load ./mps.yaml when it exists, else use the built-in defaults. The
// environment overrides apply in every case. It also returns the file it
// read ("" for built-in defaults) so the caller knows what to watch.
func LoadOrDefault(file string) (*Config, string, error) {
	if file != "" {
		cfg, err := Load(file)
		return cfg, file, err
	}
	if _, err := os.Stat(DefaultFile); err == nil {
		cfg, err := Load(DefaultFile)
		return cfg, DefaultFile, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseEnv("built-in defaults", defaultYAML, os.Environ())
	return cfg, "", err
}
