package core

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// Level is the severity of a log line. Its values are those of log/slog's
// levels, so an adapter converts one by value.
type Level int8

// The levels, from the chattiest.
const (
	// LevelDebug: a message ignored as harmless (stale, duplicate, from a
	// node that left), a step of a snapshot transfer.
	LevelDebug Level = -4
	// LevelInfo: a change of role, term or leader; a snapshot restored; a
	// transfer started or abandoned.
	LevelInfo Level = 0
	// LevelWarn: a refused message or request, a lost quorum, persisted
	// state the node had to correct.
	LevelWarn Level = 4
	// LevelError: the application's storage failed the node.
	LevelError Level = 8
)

// String returns DEBUG, INFO, WARN or ERROR.
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	}
	return "LEVEL(" + strconv.Itoa(int(l)) + ")"
}

// Attr is one attribute of a log line. Value is one of: uint64 (node IDs,
// terms, indexes, counts), string, error, or a type of the library with a
// String method (raftpb.MessageType, StateType).
type Attr struct {
	Key   string
	Value any
}

// String returns key=value.
func (a Attr) String() string { return a.Key + "=" + fmt.Sprint(a.Value) }

// Logger receives a node's log lines. The node never writes anywhere else,
// and builds no line whose level is not enabled. Every line's attributes
// start with the node's ID ("node") and term ("term"); the peer a line is
// about, if any, is "peer". Implementations must not panic or exit, and
// must not keep attrs after Log returns.
type Logger interface {
	// Enabled reports whether lines of level are wanted.
	Enabled(level Level) bool
	// Log receives one line: its level, a constant message and its
	// attributes.
	Log(level Level, msg string, attrs []Attr)
}

// FormatLogLine renders a line as text: LEVEL msg key=value ..., for
// loggers that write plain text.
func FormatLogLine(level Level, msg string, attrs []Attr) string {
	var b strings.Builder
	b.WriteString(level.String())
	b.WriteByte(' ')
	b.WriteString(msg)
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.String())
	}
	return b.String()
}

// discardLogger drops everything; it is the default Logger.
type discardLogger struct{}

func (discardLogger) Enabled(Level) bool        { return false }
func (discardLogger) Log(Level, string, []Attr) {}

// logs reports whether lines of level are wanted, so that a call site of
// a frequent line builds its attributes only then.
func (r *Raft) logs(level Level) bool { return r.settings.logger.Enabled(level) }

// log sends a line with the node's ID and term first.
func (r *Raft) log(level Level, msg string, attrs ...Attr) {
	if !r.settings.logger.Enabled(level) {
		return
	}
	all := make([]Attr, 0, 2+len(attrs))
	all = append(all, Attr{"node", r.id}, Attr{"term", r.term})
	r.settings.logger.Log(level, msg, append(all, attrs...))
}

// peerAttr names the peer a line is about.
func peerAttr(id uint64) Attr { return Attr{"peer", id} }

// msgAttr names the type of the message a line is about.
func msgAttr(m raftpb.Message) Attr { return Attr{"msg_type", m.Type} }

// errAttr carries the error a line reports.
func errAttr(err error) Attr { return Attr{"err", err} }
