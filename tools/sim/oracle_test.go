package sim

import (
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// ents returns entries lo..hi of size bytes each.
func ents(lo, hi uint64, size int) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, raftpb.Entry{Index: i, Term: 1, Data: make([]byte, size)})
	}
	return out
}

// TestStreamWatchCountsWhatIsOnTheWire: the in-flight oracle counts each
// entry sent above the acknowledged index once (a probe resent is not
// counted twice), frees what an answer acknowledges, forgets the stream
// on a restart, and counts messages only from the Ready after the first
// answer (probes made before it may ride in that Ready).
func TestStreamWatchCountsWhatIsOnTheWire(t *testing.T) {
	var w streamWatch
	l := leaderWatch{followers: map[uint64]*streamWatch{2: &w}}
	w.sent(ents(1, 3, 10)) // a probe
	w.sent(ents(1, 4, 10)) // resent, one entry longer
	if w.bytes != 40 || len(w.msgs) != 0 {
		t.Fatalf("after two probes: %d bytes, %d messages; want 40, 0", w.bytes, len(w.msgs))
	}
	w.acknowledge(2)
	w.sent(ents(3, 5, 10)) // a probe made before the answer, in the same Ready
	if w.bytes != 30 || len(w.msgs) != 0 {
		t.Fatalf("after the answer: %d bytes, %d messages; want 30, 0", w.bytes, len(w.msgs))
	}
	l.readyDone()
	w.sent(ents(6, 7, 10))
	w.sent(ents(8, 8, 10))
	if w.bytes != 60 || len(w.msgs) != 2 {
		t.Fatalf("replicating: %d bytes, %d messages; want 60, 2", w.bytes, len(w.msgs))
	}
	w.acknowledge(1) // older than what was acknowledged: nothing changes
	w.acknowledge(7)
	if w.bytes != 10 || len(w.msgs) != 1 || w.ack != 7 {
		t.Fatalf("after acknowledging 7: %d bytes, %d messages, ack %d; want 10, 1, 7", w.bytes, len(w.msgs), w.ack)
	}
	w.restart()
	if w.bytes != 0 || len(w.msgs) != 0 || w.replicating || w.ack != 7 {
		t.Fatalf("after a restart: %d bytes, %d messages, replicating %v, ack %d; want 0, 0, false, 7", w.bytes, len(w.msgs), w.replicating, w.ack)
	}
}
