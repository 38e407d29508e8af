package sim

import (
	"fmt"
	"io"
)

// eventKind names what happened in one event of a run.
type eventKind uint8

const (
	evSend eventKind = iota + 1
	evDeliver
	evLost
	evTick
	evReady
	evDurable
	evApply
	evCrash
	evRestart
	evRetire
	evFault
	evInvoke
	evReturn
	evCompact
	evPhase
	evFailure
	evReport
	evResume
	evChunkSaved
	evPeerDown
	// evOwedTicks is a host handing a woken node the ticks it skipped
	// while the node slept; evFalseSuspicion a ReportPeerDown of a leader
	// the network model could reach (evPeerDown: one it could not).
	evOwedTicks
	evFalseSuspicion
	numEventKinds
)

// eventLog digests every event of a run into one hash, so that two runs
// can be compared event for event, and prints them when tracing. The hash
// is FNV-1a over the events' step, kind, node and values; the text is for
// people and is not hashed.
type eventLog struct {
	hash  uint64
	count uint64
	// kinds counts the events of each kind, so that a batch of runs is
	// judged on what it did from its log (requireCoverage), not from
	// counters kept beside the calls.
	kinds [numEventKinds]uint64
	w     io.Writer
	// stepsPerTick turns steps into the "tick.step" times of the trace.
	stepsPerTick int
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newEventLog(w io.Writer, stepsPerTick int) eventLog {
	return eventLog{hash: fnvOffset, w: w, stepsPerTick: stepsPerTick}
}

// mix adds v to the hash, byte by byte.
func (l *eventLog) mix(v uint64) {
	for i := 0; i < 8; i++ {
		l.hash ^= v & 0xff
		l.hash *= fnvPrime
		v >>= 8
	}
}

// add records one event.
func (l *eventLog) add(step uint64, k eventKind, node uint64, vals ...uint64) {
	l.count++
	l.kinds[k]++
	l.mix(step)
	l.mix(uint64(k))
	l.mix(node)
	for _, v := range vals {
		l.mix(v)
	}
}

// addBytes adds b to the hash of the last event.
func (l *eventLog) addBytes(b []byte) {
	for _, c := range b {
		l.hash ^= uint64(c)
		l.hash *= fnvPrime
	}
}

// tracing reports whether events are printed.
func (l *eventLog) tracing() bool { return l.w != nil }

// printf prints one line of the trace at step, prefixed by its time as
// "tick.step".
func (l *eventLog) printf(step uint64, format string, args ...any) {
	spt := uint64(l.stepsPerTick)
	fmt.Fprintf(l.w, "%4d.%d ", step/spt, step%spt)
	fmt.Fprintf(l.w, format, args...)
	fmt.Fprintln(l.w)
}
