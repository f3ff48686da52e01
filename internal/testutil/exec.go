package testutil

import "os/exec"

// lookPath finds a command on PATH.
func lookPath(name string) (string, error) { return exec.LookPath(name) }
