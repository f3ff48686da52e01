package webrtc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's leveled logs into the server's slog logger, so ICE
// and DTLS trouble shows up with the rest of the logs instead of on stderr.
// Pion is chatty: its info and warnings (closed pipes at hang-up, pings
// before candidates) go to debug, its errors to warn; trace is dropped.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(lvl slog.Level, msg string) {
	l.log.Log(context.Background(), lvl, msg)
}

func (l pionLogger) Trace(string)              {}
func (l pionLogger) Tracef(string, ...any)     {}
func (l pionLogger) Debug(msg string)          { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Debugf(f string, a ...any) { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (l pionLogger) Info(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Infof(f string, a ...any)  { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (l pionLogger) Warn(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Warnf(f string, a ...any)  { l.emit(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (l pionLogger) Error(msg string)          { l.emit(slog.LevelWarn, msg) }
func (l pionLogger) Errorf(f string, a ...any) { l.emit(slog.LevelWarn, fmt.Sprintf(f, a...)) }
