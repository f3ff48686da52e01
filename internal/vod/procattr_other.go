//go:build !linux

package vod

import "os/exec"

// detach is a no-op where the parent-death signal does not exist.
func detach(*exec.Cmd) {}
