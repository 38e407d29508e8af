package checker

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
)

// Observation is what a driver saw of one node after a step: the fields of
// its BasicStatus and its whole log.
type Observation struct {
	// ID is the node's ID; it must not be zero.
	ID uint64
	// Soft is the node's role and the leader it knows.
	Soft core.SoftState
	// Hard is the node's term, vote and commit index.
	Hard raftpb.HardState
	// Applied is the highest index the node reports as applied.
	Applied uint64
	// Log is the node's whole log: the entries in its storage followed by
	// those it holds but has not persisted yet, contiguous and in index
	// order. After compaction it starts past index 1. The History copies
	// the slice but shares each entry's Data, which must not be modified
	// afterwards.
	Log []raftpb.Entry
}

// History is everything a driver observed of a cluster, in the order it
// was recorded. Every record gets the next event number, which reports
// quote. The zero value is not usable: call NewHistory.
type History struct {
	events uint64
	nodes  map[uint64]*nodeHistory
	acks   []ack
}

// nodeHistory is one node's records, cut into epochs at each restart.
type nodeHistory struct {
	id     uint64
	epochs []*epoch
}

// epoch is one run of a node, from boot or a restart to the next restart.
// Volatile state carries over only within an epoch.
type epoch struct {
	event     uint64
	persisted raftpb.HardState
	// persistedApplied is the applied index the node restarted from.
	persistedApplied uint64
	obs              []observed
	applied          []appliedRecord
}

// observed is an Observation with its event number.
type observed struct {
	event uint64
	Observation
}

// appliedRecord is one entry, or one snapshot (only its index and term are
// kept, in entry), that a node applied.
type appliedRecord struct {
	event    uint64
	node     uint64
	entry    raftpb.Entry
	snapshot bool
}

// ack is a proposal a driver acknowledged to its client as committed.
type ack struct {
	event uint64
	entry raftpb.Entry
}

// NewHistory returns an empty History.
func NewHistory() *History {
	return &History{nodes: make(map[uint64]*nodeHistory)}
}

// Events returns the number of records so far; the last record's event
// number.
func (h *History) Events() uint64 { return h.events }

// Observe records what o says of node o.ID. A log that is not contiguous,
// or an ID of zero, is refused with an error and recorded nowhere.
func (h *History) Observe(o Observation) error {
	if o.ID == 0 {
		return fmt.Errorf("checker: observation of node 0")
	}
	for i := 1; i < len(o.Log); i++ {
		if o.Log[i].Index != o.Log[i-1].Index+1 {
			return fmt.Errorf("checker: log of node %d jumps from index %d to %d", o.ID, o.Log[i-1].Index, o.Log[i].Index)
		}
	}
	ep := h.current(o.ID)
	o.Log = h.keepLog(o.ID, o.Log)
	h.events++
	ep.obs = append(ep.obs, observed{event: h.events, Observation: o})
	return nil
}

// Apply records that node id applied ents, in order. The entries are
// copied; their Data is shared and must not be modified afterwards.
func (h *History) Apply(id uint64, ents []raftpb.Entry) {
	ep := h.current(id)
	for _, e := range ents {
		h.events++
		ep.applied = append(ep.applied, appliedRecord{event: h.events, node: id, entry: e})
	}
}

// ApplySnapshot records that node id replaced its state with the snapshot
// described by meta.
func (h *History) ApplySnapshot(id uint64, meta raftpb.SnapshotMetadata) {
	ep := h.current(id)
	h.events++
	e := raftpb.Entry{Index: meta.Index, Term: meta.Term}
	ep.applied = append(ep.applied, appliedRecord{event: h.events, node: id, entry: e, snapshot: true})
}

// Restart records that node id restarted from what it had persisted: the
// HardState persisted and the applied index its state machine recovered.
// Everything volatile is forgotten. A driver whose node boots from
// non-empty storage calls Restart before anything else for it.
func (h *History) Restart(id uint64, persisted raftpb.HardState, applied uint64) {
	n := h.node(id)
	h.events++
	n.epochs = append(n.epochs, &epoch{event: h.events, persisted: persisted, persistedApplied: applied})
}

// Acknowledge records that the proposal e (its index, term and data, as
// Propose returned them) was acknowledged to a client as committed.
func (h *History) Acknowledge(e raftpb.Entry) {
	h.events++
	h.acks = append(h.acks, ack{event: h.events, entry: e})
}

// node returns the records of node id, creating them with a first epoch.
func (h *History) node(id uint64) *nodeHistory {
	n, ok := h.nodes[id]
	if !ok {
		n = &nodeHistory{id: id}
		h.nodes[id] = n
	}
	return n
}

// current returns the epoch node id is in, starting the boot epoch when
// nothing of the node was recorded yet.
func (h *History) current(id uint64) *epoch {
	n := h.node(id)
	if len(n.epochs) == 0 {
		n.epochs = append(n.epochs, &epoch{})
	}
	return n.epochs[len(n.epochs)-1]
}

// keepLog returns the log to store: the slice already stored for the
// node's last observation when nothing changed, so that a quiet node costs
// no memory, and a copy otherwise.
func (h *History) keepLog(id uint64, log []raftpb.Entry) []raftpb.Entry {
	if prev, ok := h.lastLog(id); ok && sameEntries(prev, log) {
		return prev
	}
	return slices.Clone(log)
}

// lastLog returns the log of the node's last observation, in any epoch.
func (h *History) lastLog(id uint64) ([]raftpb.Entry, bool) {
	n := h.nodes[id]
	for i := len(n.epochs) - 1; i >= 0; i-- {
		if obs := n.epochs[i].obs; len(obs) > 0 {
			return obs[len(obs)-1].Log, true
		}
	}
	return nil, false
}

// sortedNodes returns the nodes' records in ID order.
func (h *History) sortedNodes() []*nodeHistory {
	out := make([]*nodeHistory, 0, len(h.nodes))
	for _, id := range slices.Sorted(maps.Keys(h.nodes)) {
		out = append(out, h.nodes[id])
	}
	return out
}

// observations returns every observation of every node, in event order.
func (h *History) observations() []observed {
	return inEventOrder(h, func(ep *epoch) []observed { return ep.obs }, func(o *observed) uint64 { return o.event })
}

// appliedRecords returns every apply record of every node, in event order.
func (h *History) appliedRecords() []appliedRecord {
	return inEventOrder(h, func(ep *epoch) []appliedRecord { return ep.applied }, func(r *appliedRecord) uint64 { return r.event })
}

// inEventOrder gathers the records that of returns for every epoch of
// every node and sorts them by their event numbers, which are unique.
func inEventOrder[T any](h *History, of func(*epoch) []T, event func(*T) uint64) []T {
	var out []T
	for _, n := range h.sortedNodes() {
		for _, ep := range n.epochs {
			out = append(out, of(ep)...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return event(&out[i]) < event(&out[j]) })
	return out
}

// sameEntries reports whether a and b hold the same entries.
func sameEntries(a, b []raftpb.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameEntry(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameEntry reports whether a and b are the same entry: index, term, type
// and data.
func sameEntry(a, b raftpb.Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

// entryAt returns the entry at index i of a contiguous log, if it holds it.
func entryAt(log []raftpb.Entry, i uint64) (raftpb.Entry, bool) {
	if len(log) == 0 || i < log[0].Index || i > log[len(log)-1].Index {
		return raftpb.Entry{}, false
	}
	return log[i-log[0].Index], true
}

// firstIndex returns the index of a log's first entry, or 0 when empty.
func firstIndex(log []raftpb.Entry) uint64 {
	if len(log) == 0 {
		return 0
	}
	return log[0].Index
}

// lastIndex returns the index of a log's last entry, or 0 when empty.
func lastIndex(log []raftpb.Entry) uint64 {
	if len(log) == 0 {
		return 0
	}
	return log[len(log)-1].Index
}

// sameSlice reports whether a and b are the same stored log (keepLog
// shares unchanged logs), so that checkers visit each version once.
func sameSlice(a, b []raftpb.Entry) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
