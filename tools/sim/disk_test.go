package sim

import (
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

func entries(lo, hi, term uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, raftpb.Entry{Index: i, Term: term, Data: []byte("x")})
	}
	return out
}

func TestWritesBecomeDurableInTheOrderTheyWereMade(t *testing.T) {
	d := disk{st: raft.NewMemoryStorage()}
	d.enqueue(10, 5, &diskWrite{entries: entries(1, 2, 1)})
	d.enqueue(11, 0, &diskWrite{entries: entries(3, 3, 1)}) // fast, but behind the first
	if w := d.due(14); w != nil {
		t.Fatal("a write became durable early")
	}
	if w := d.due(15); w == nil || w.entries[0].Index != 1 {
		t.Fatalf("first due: %+v", w)
	}
	if w := d.due(15); w == nil || w.entries[0].Index != 3 {
		t.Fatalf("second due: %+v", w)
	}
	if !d.idle() {
		t.Fatal("writes left")
	}
}

func TestACrashKeepsOnlyAPrefixOfTheOldestWrite(t *testing.T) {
	d := disk{st: raft.NewMemoryStorage()}
	if err := d.persist(&diskWrite{entries: entries(1, 2, 1), hard: raftpb.HardState{Term: 1, Commit: 2}}, 3); err != nil {
		t.Fatal(err)
	}
	d.enqueue(0, 3, &diskWrite{entries: entries(3, 5, 2), hard: raftpb.HardState{Term: 2, Vote: 1, Commit: 4}})
	d.enqueue(0, 3, &diskWrite{entries: entries(6, 6, 2)})
	kept, of, err := d.crash(2 + 4*7) // modulo the 4 records: 2
	if err != nil || kept != 2 || of != 4 {
		t.Fatalf("kept %d of %d: %v", kept, of, err)
	}
	last, _ := d.st.LastIndex()
	hs, _, _ := d.st.InitialState()
	if last != 4 || hs != (raftpb.HardState{Term: 1, Commit: 2}) || !d.idle() {
		t.Fatalf("after the crash: last index %d, %v, idle %t", last, hs, d.idle())
	}
}
