package transcode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// pipeProc is an ffmpeg child fed on stdin and read on stdout through OS
// pipes (not Go's io.Pipe, so ffmpeg reads and writes the kernel buffers
// directly), with the tail of its stderr kept for error messages.
type pipeProc struct {
	cmd    *exec.Cmd
	in     *os.File // write end of ffmpeg's stdin
	out    *os.File // read end of ffmpeg's stdout
	stderr *tail
}

// startPipeProc starts ffmpeg with args (no shell) bound to ctx. The caller
// owns in and out and must Wait on cmd.
func startPipeProc(ctx context.Context, ffmpeg string, args []string) (*pipeProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	p := &pipeProc{in: inW, out: outR, stderr: &tail{max: 4096}}
	p.cmd = exec.CommandContext(ctx, ffmpeg, args...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	err = p.cmd.Start()
	inR.Close() // the child has its own copies now
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	return p, nil
}
