package checker

import (
	"cmp"
	"slices"
)

// WriteAt is a write that took effect: its key and unique value, and the
// log index of the entry that applied it.
type WriteAt struct {
	Key   string
	Value string
	Index uint64
}

// LocalRead is a read one node served from its own state machine
// (RawNode.ReadLocal): the client asked for a state at or after MinIndex
// (an index it had already seen: its last write's, or the one its last
// read was served at), the node served it at its applied index Served,
// and it returned Value ("" when the key was never written).
type LocalRead struct {
	Client   uint64
	Key      string
	Value    string
	MinIndex uint64
	Served   uint64
}

// CheckLocalReads verifies the guarantees of local reads, which are not
// linearizable: a read returns a value written at or below the index it
// was served at, and no older than the newest write to its key at or
// below MinIndex (read-your-writes, and monotonic reads when the client
// passes the newest index it has seen). writes must hold every write that
// took effect, each value once.
func CheckLocalReads(writes []WriteAt, reads []LocalRead) error {
	at := make(map[string]WriteAt, len(writes))
	byKey := make(map[string][]uint64)
	for _, w := range writes {
		at[w.Key+"\x00"+w.Value] = w
		byKey[w.Key] = append(byKey[w.Key], w.Index)
	}
	for _, idx := range byKey {
		slices.Sort(idx)
	}
	for _, r := range reads {
		if err := checkLocalRead(r, at, byKey[r.Key]); err != nil {
			return err
		}
	}
	return nil
}

// checkLocalRead checks one read against the writes of its key, whose
// indexes are sorted in idx.
func checkLocalRead(r LocalRead, at map[string]WriteAt, idx []uint64) error {
	var got uint64 // the index of the write read; 0 for the initial value
	if r.Value != "" {
		w, ok := at[r.Key+"\x00"+r.Value]
		if !ok {
			return violation(LocalReadOrder, "client %d read %s=%q, a value that never took effect", r.Client, r.Key, r.Value)
		}
		got = w.Index
	}
	if got > r.Served {
		return violation(LocalReadOrder, "client %d read %s=%q, written at index %d, from a state served at index %d",
			r.Client, r.Key, r.Value, got, r.Served)
	}
	// The newest write to the key at or below MinIndex.
	n, _ := slices.BinarySearchFunc(idx, r.MinIndex+1, cmp.Compare[uint64])
	if n > 0 && idx[n-1] > got {
		return violation(LocalReadOrder, "client %d read %s=%q (index %d) though it asked for index %d or later, and the key was written at index %d",
			r.Client, r.Key, r.Value, got, r.MinIndex, idx[n-1])
	}
	return nil
}
