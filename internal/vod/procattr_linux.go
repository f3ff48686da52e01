package vod

import (
	"os/exec"
	"syscall"
)

// detach makes the kernel kill ffmpeg if this process dies (kill -9, a
// crash), so a dead node leaves no encoder writing into outputs that a
// re-run is about to replace.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
