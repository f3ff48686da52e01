//go:build linux

package tasks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// inotifyDir watches a folder with inotify directly, because the close of
// a file opened for writing (IN_CLOSE_WRITE) is the reliable sign that a
// copy has finished, and the fsnotify release in use does not export it.
type inotifyDir struct {
	f      *os.File
	events chan fileEvent
	errs   chan error
	done   chan struct{}
	stop   chan struct{}
}

const inotifyMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO |
	unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func watchDir(dir string) (dirEvents, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, inotifyMask); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	// A non-blocking descriptor is served by the runtime poller, so Close
	// ends a pending Read.
	w := &inotifyDir{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan fileEvent, 256),
		errs: make(chan error, 1), done: make(chan struct{}), stop: make(chan struct{})}
	go w.read()
	return w, nil
}

func (w *inotifyDir) Events() <-chan fileEvent { return w.events }
func (w *inotifyDir) Errors() <-chan error     { return w.errs }

// Close stops the reader and waits for it.
func (w *inotifyDir) Close() error {
	close(w.stop)
	err := w.f.Close()
	<-w.done
	return err
}

func (w *inotifyDir) read() {
	defer close(w.done)
	defer close(w.events)
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				w.errs <- fmt.Errorf("inotify read: %w", err) // buffered: sent once
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			name := buf[off+unix.SizeofInotifyEvent : min(n, off+unix.SizeofInotifyEvent+nameLen)]
			off += unix.SizeofInotifyEvent + nameLen
			ev, ok := inotifyEvent(mask, string(bytes.TrimRight(name, "\x00")))
			if !ok {
				continue
			}
			if ev.Kind == fileGone && ev.Name == "" {
				w.errs <- fmt.Errorf("watched folder removed or moved")
				return
			}
			select {
			case w.events <- ev:
			case <-w.stop:
				return
			}
		}
	}
}

// inotifyEvent maps one inotify event.
func inotifyEvent(mask uint32, name string) (fileEvent, bool) {
	switch {
	case mask&unix.IN_Q_OVERFLOW != 0:
		return fileEvent{Kind: fileRescan}, true
	case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
		return fileEvent{Kind: fileGone}, true
	case name == "" || mask&unix.IN_ISDIR != 0:
		return fileEvent{}, false
	case mask&unix.IN_CLOSE_WRITE != 0:
		return fileEvent{name, fileClosed}, true
	case mask&unix.IN_MOVED_TO != 0:
		return fileEvent{name, fileMovedIn}, true
	case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
		return fileEvent{name, fileGone}, true
	case mask&(unix.IN_CREATE|unix.IN_MODIFY) != 0:
		return fileEvent{name, fileWriting}, true
	}
	return fileEvent{}, false
}
