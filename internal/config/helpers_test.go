package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// clearEnv removes every MPS_* variable for the duration of the test, so
// the developer's environment cannot change results.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
}

func typeOf(c *Config) reflect.Type   { return reflect.TypeOf(c).Elem() }
func valueOf(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }
