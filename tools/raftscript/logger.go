package main

import "github.com/tickraft/raft"

// lineLogger collects the nodes' log lines of one block, for -v.
type lineLogger struct{ lines []string }

// Enabled implements raft.Logger: every level is recorded.
func (l *lineLogger) Enabled(raft.Level) bool { return true }

// Log implements raft.Logger: it records the line as text.
func (l *lineLogger) Log(level raft.Level, msg string, attrs []raft.Attr) {
	l.lines = append(l.lines, raft.FormatLogLine(level, msg, attrs))
}

// take returns the lines collected since the last take.
func (l *lineLogger) take() []string {
	out := l.lines
	l.lines = nil
	return out
}
