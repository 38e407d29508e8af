package main

import "fmt"

// lineLogger collects the nodes' log lines of one block, for -v.
type lineLogger struct{ lines []string }

func (l *lineLogger) add(level, format string, args []any) {
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

// Debugf, Infof, Warningf and Errorf record a line at their level.
func (l *lineLogger) Debugf(format string, args ...any)   { l.add("DEBUG", format, args) }
func (l *lineLogger) Infof(format string, args ...any)    { l.add("INFO", format, args) }
func (l *lineLogger) Warningf(format string, args ...any) { l.add("WARN", format, args) }
func (l *lineLogger) Errorf(format string, args ...any)   { l.add("ERROR", format, args) }

// take returns the lines collected since the last take.
func (l *lineLogger) take() []string {
	out := l.lines
	l.lines = nil
	return out
}
