// Package raftslog passes a tickraft node's log lines to a log/slog
// Logger, as structured records: the node's ID, its term and the peer a
// line is about become the attributes "node", "term" and "peer", so a JSON
// handler's output can be filtered and joined on them.
//
// It is supported API: the library itself imports no logging package (it
// reads no clock, and slog stamps records with the wall time), so this
// adapter lives beside it.
//
//	cfg.Logger = raftslog.New(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
package raftslog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tickraft/raft"
)

// Logger is a raft.Logger that writes to a *slog.Logger.
type Logger struct {
	l *slog.Logger
}

// New returns a raft.Logger writing to l; l's handler decides which
// levels are written (raft's levels have slog's values).
func New(l *slog.Logger) *Logger { return &Logger{l: l} }

// Enabled implements raft.Logger.
func (s *Logger) Enabled(level raft.Level) bool {
	return s.l.Enabled(context.Background(), slog.Level(level))
}

// Log implements raft.Logger: one record per line, its attributes in the
// order the node gave them.
func (s *Logger) Log(level raft.Level, msg string, attrs []raft.Attr) {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slogAttr(a)
	}
	s.l.LogAttrs(context.Background(), slog.Level(level), msg, out...)
}

// slogAttr converts one attribute: numbers stay numbers, errors and the
// library's named types (message types, roles) become their text.
func slogAttr(a raft.Attr) slog.Attr {
	switch v := a.Value.(type) {
	case uint64:
		return slog.Uint64(a.Key, v)
	case string:
		return slog.String(a.Key, v)
	case error:
		return slog.String(a.Key, v.Error())
	case fmt.Stringer:
		return slog.String(a.Key, v.String())
	}
	return slog.Any(a.Key, a.Value)
}
