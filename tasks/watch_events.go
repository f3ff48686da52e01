package tasks

// fileEventKind is what happened to a name in a watched folder.
type fileEventKind int

const (
	// fileTouched: created or written, by a writer whose close will not be
	// reported (no close events on this platform).
	fileTouched fileEventKind = iota
	// fileWriting: created or written; a close event will follow.
	fileWriting
	// fileClosed: a writer closed the file.
	fileClosed
	// fileMovedIn: renamed into the folder, complete.
	fileMovedIn
	// fileGone: deleted or renamed away.
	fileGone
	// fileRescan: events were lost; look at the whole folder again.
	fileRescan
)

// fileEvent is one event of a watched folder; Name is a base name.
type fileEvent struct {
	Name string
	Kind fileEventKind
}

// dirEvents is a running watch of one folder; Close stops it and closes
// Events.
type dirEvents interface {
	Events() <-chan fileEvent
	Errors() <-chan error
	Close() error
}
