package kvnode

import (
	"context"
	"fmt"
	"log/slog"
)

// raftLogger passes the Raft node's log lines to slog.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) logf(level slog.Level, format string, args []any) {
	if r.l.Enabled(context.Background(), level) {
		r.l.Log(context.Background(), level, fmt.Sprintf(format, args...), "component", "raft")
	}
}

// Debugf implements raft.Logger.
func (r raftLogger) Debugf(format string, args ...any) { r.logf(slog.LevelDebug, format, args) }

// Infof implements raft.Logger.
func (r raftLogger) Infof(format string, args ...any) { r.logf(slog.LevelInfo, format, args) }

// Warningf implements raft.Logger.
func (r raftLogger) Warningf(format string, args ...any) { r.logf(slog.LevelWarn, format, args) }

// Errorf implements raft.Logger.
func (r raftLogger) Errorf(format string, args ...any) { r.logf(slog.LevelError, format, args) }
