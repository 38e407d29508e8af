// Package workload defines what every driver of the comparison must do the
// same way, whichever Raft library it drives: the configuration numbers
// both libraries get, the entry payloads, and the bound on the log a
// driver keeps in storage.
//
// A driver runs in-memory groups in one goroutine. A loop iteration of the
// replication workload proposes a batch of entries on node 1 and then
// stabilizes the group: every node that has a Ready persists its snapshot,
// entries and hard state to the library's MemoryStorage, hands its
// messages to the network, applies its committed entries (checking that
// their indexes follow on) and calls Advance; then the network steps every
// message it holds into its recipient; and so on until no node has a Ready
// and no message is in flight. The idle workload ticks every node of a
// group and then stabilizes it.
package workload

// Params are the configuration numbers both libraries are given. Fields
// one library lacks are left at the other's default; the package doc of
// each driver says which.
type Params struct {
	// ElectionTick and HeartbeatTick are the election timeout and the
	// heartbeat interval, in ticks.
	ElectionTick, HeartbeatTick int
	// MaxSizePerMsg bounds the entry bytes of one append message.
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds the appends in flight to one follower, and
	// MaxInflightBytes their bytes.
	MaxInflightMsgs  int
	MaxInflightBytes uint64
	// MaxUncommittedEntriesSize bounds the bytes of the leader's
	// uncommitted tail.
	MaxUncommittedEntriesSize uint64
	// MaxCommittedSizePerReady bounds the bytes of committed entries one
	// Ready hands out.
	MaxCommittedSizePerReady uint64
}

// DefaultParams returns the configuration of the comparison: tickraft's
// defaults, which are also the values an etcd deployment commonly sets
// (a 10-tick election timeout, heartbeats every tick, 1 MiB messages, 256
// appends in flight). PreVote and CheckQuorum are on in both libraries.
func DefaultParams() Params {
	return Params{
		ElectionTick:              10,
		HeartbeatTick:             1,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxInflightBytes:          64 << 20,
		MaxUncommittedEntriesSize: 256 << 20,
		MaxCommittedSizePerReady:  64 << 20,
	}
}

// CompactEvery is how many applied entries a node's storage may hold
// before the driver compacts it up to the applied index, so that long runs
// keep a bounded log.
const CompactEvery = 1 << 14

// MaxStabilizeRounds bounds the rounds of Ready handling and delivery one
// stabilization may take before the driver reports that the group does
// not quiesce.
const MaxStabilizeRounds = 10000

// Payload returns the entry data every proposal of a run carries: size
// bytes of a fixed pattern. Both libraries keep a reference to it, so one
// slice serves every proposal.
func Payload(size int) []byte {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	return data
}
