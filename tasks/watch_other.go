//go:build !linux

package tasks

import (
	"fmt"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
)

// fsnotifyDir watches a folder where close events are not available: a
// file counts as arrived once it stays unchanged for the settle time.
type fsnotifyDir struct {
	w      *fsnotify.Watcher
	events chan fileEvent
	done   chan struct{}
	stop   chan struct{}
}

func watchDir(dir string) (dirEvents, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	d := &fsnotifyDir{w: w, events: make(chan fileEvent, 256), done: make(chan struct{}), stop: make(chan struct{})}
	go d.forward()
	return d, nil
}

func (d *fsnotifyDir) forward() {
	defer close(d.done)
	defer close(d.events)
	for ev := range d.w.Events {
		name := filepath.Base(ev.Name)
		switch {
		case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
			d.send(fileEvent{name, fileGone})
		case ev.Has(fsnotify.Create), ev.Has(fsnotify.Write):
			d.send(fileEvent{name, fileTouched})
		}
	}
}

func (d *fsnotifyDir) send(ev fileEvent) {
	select {
	case d.events <- ev:
	case <-d.stop:
	}
}

func (d *fsnotifyDir) Events() <-chan fileEvent { return d.events }
func (d *fsnotifyDir) Errors() <-chan error     { return d.w.Errors }

func (d *fsnotifyDir) Close() error {
	close(d.stop)
	err := d.w.Close()
	<-d.done
	return err
}
