package rafttest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/core"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// Env is a cluster of in-memory nodes and the network between them. The
// zero value is not usable; create one with [NewEnv].
type Env struct {
	nodes map[uint64]*Node
	// ids are the IDs of every node ever added, in ascending order: the
	// order in which everything is visited and printed.
	ids []uint64
	// queues holds, per recipient, the messages sent to it and not yet
	// delivered, in the order they were sent.
	queues map[uint64][]raftpb.Message
	// groups maps a node to its side of the partition; nil when healed.
	groups map[uint64]int
	// Logger, if set, receives the log lines of every node added after it
	// is set (a node's own NodeOptions.Logger wins). Transcripts never
	// show log lines; tools such as raftscript -v do.
	Logger raft.Logger
	// SetRandomizedElectionTimeout, if set, replaces a node's current
	// randomized election timeout; set-randomized-election-timeout needs
	// it. The library offers no such method to applications, so the raft
	// package's own tests provide it (as etcd raft's tests do for its
	// harness); elsewhere the command prints an error.
	SetRandomizedElectionTimeout func(rn *raft.RawNode, ticks int)
}

// NewEnv returns an Env with no nodes, an empty network and no partition.
func NewEnv() *Env {
	return &Env{nodes: map[uint64]*Node{}, queues: map[uint64][]raftpb.Message{}}
}

// NodeOptions configures the nodes that [Env.AddNodes] creates. The zero
// value gives nodes with the library's defaults (PreVote and CheckQuorum
// on) that boot with an empty configuration.
type NodeOptions struct {
	// Voters and Learners form the configuration the nodes boot with.
	// When both are empty the nodes boot with no configuration and wait
	// to be added by a conf change and caught up by a snapshot.
	Voters, Learners []uint64
	// Index, when non-zero, makes the nodes boot from a snapshot at that
	// index (term 1) holding the configuration, as if entries up to Index
	// had been applied and compacted.
	Index uint64
	// DisablePreVote and DisableCheckQuorum turn off the library's
	// defaults.
	DisablePreVote, DisableCheckQuorum bool
	// ElectionTick and HeartbeatTick are the timeouts in ticks; zero means
	// the library's default.
	ElectionTick, HeartbeatTick int
	// MaxSizePerMsg and MaxInflightMsgs bound replication; zero means the
	// library's default.
	MaxSizePerMsg   uint64
	MaxInflightMsgs int
	// Seed seeds each node's election timeouts; zero means the node's ID,
	// so that runs are reproducible and nodes differ.
	Seed uint64
	// KeepLeaderAfterRemoval sets the Config field of the same name: a
	// leader that applies its own removal keeps leading instead of
	// stepping down.
	KeepLeaderAfterRemoval bool
	// LeaseReads sets Config.LeaseReads: the leader answers reads without
	// a heartbeat round while its lease holds.
	LeaseReads bool
	// Quiesce sets Config.Quiesce: an idle group's leader puts it to
	// sleep.
	Quiesce bool
	// AsyncStorage sets Config.AsyncStorageWrites: storage work leaves
	// the Ready as messages to the node's append and apply workers, which
	// the harness completes one at a time (see [Env.ProcessAppendThread]).
	AsyncStorage bool
	// MaxInflightBytes, MaxUncommittedSize, MaxUncommittedEntries and
	// MaxCommittedPerReady set the Config bounds MaxInflightBytes,
	// MaxUncommittedEntriesSize, MaxUncommittedEntries and
	// MaxCommittedEntriesPerReady; zero means the library's default.
	MaxInflightBytes      uint64
	MaxUncommittedSize    uint64
	MaxUncommittedEntries int
	MaxCommittedPerReady  int
	// MaxCommittedSizePerReady sets Config.MaxCommittedSizePerReady: the
	// payload bytes handed out to apply and not yet applied; zero means
	// the library's default.
	MaxCommittedSizePerReady uint64
	// SnapshotChunkSize and SnapshotInterval set the Config fields of the
	// same names (the chunked snapshot transfer); SnapshotSize is the
	// bytes of state-machine data in every snapshot (see SnapshotData).
	SnapshotChunkSize, SnapshotInterval uint64
	SnapshotSize                        int
	// MaxSnapshotChunksInflight and MaxSnapshotChunksPerSource set the
	// Config bounds of the same names; zero means the library's default.
	MaxSnapshotChunksInflight, MaxSnapshotChunksPerSource int
	// Logger receives the node's log lines; nil means Env.Logger, or
	// none.
	Logger raft.Logger
}

// Node is one member of an Env: its RawNode, its durable storage and the
// state machine it applied.
type Node struct {
	// ID is the node's ID.
	ID uint64
	// Options are the options the node was created with; Restart uses
	// them again.
	Options NodeOptions
	// RawNode is the running node, or nil while the node is crashed.
	RawNode *raft.RawNode
	// Storage is what the node persisted. It survives a crash.
	Storage *raft.MemoryStorage
	// Applied are the entries the state machine applied, in order. Entries
	// covered by a snapshot the node received are not in it.
	Applied []raftpb.Entry
	// AppliedIndex is the index of the last entry applied, or of the
	// snapshot applied last.
	AppliedIndex uint64
	// ConfState is the configuration as of AppliedIndex.
	ConfState raftpb.ConfState

	// loop runs RawNode (tools/raftloop), with its own queues of the
	// asynchronous node's storage work; host is the harness's side of it
	// (loop.go). Both are nil while the node is crashed.
	loop *raftloop.Loop
	host *host
	// snapWork is the queue of the node's snapshot worker; chunks are
	// the chunks it received, per snapshot (see chunks.go).
	snapWork []raftpb.Message
	chunks   map[snapKey]map[uint64][]byte

	// confs records each configuration with the index it took effect at,
	// so that a snapshot at an earlier index gets the right one.
	confs []confAt
}

// queuedWrites returns the writes queued on the node's append worker.
func (n *Node) queuedWrites() int {
	if n.loop == nil {
		return 0
	}
	return n.loop.Appending()
}

// confAt is a configuration and the index from which it holds.
type confAt struct {
	index uint64
	cs    raftpb.ConfState
}

// errDown is wrapped by the errors of operations on a crashed node.
var errDown = errors.New("node is down")

// IDs returns the IDs of every node, crashed or not, in ascending order.
func (env *Env) IDs() []uint64 { return slices.Clone(env.ids) }

// Node returns the node with the given ID, or nil if there is none.
func (env *Env) Node(id uint64) *Node { return env.nodes[id] }

// node returns the node with the given ID, or an error if it does not exist.
func (env *Env) node(id uint64) (*Node, error) {
	n := env.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("no node %d", id)
	}
	return n, nil
}

// running returns the RawNode of a node that is up, or an error.
func (env *Env) running(id uint64) (*raft.RawNode, error) {
	n, err := env.node(id)
	if err != nil {
		return nil, err
	}
	if n.RawNode == nil {
		return nil, fmt.Errorf("node %d: %w", id, errDown)
	}
	return n.RawNode, nil
}

// AddNodes adds count nodes with the next free IDs (1, 2, ... for the
// first call) and returns their IDs. Each gets a fresh MemoryStorage that
// holds opts' configuration, or a snapshot at opts.Index holding it. The
// configuration is taken from opts alone, not from the running nodes: a
// node added to a running group should be given the configuration the
// group had before the change that adds it (so that replaying the log from
// index 1 ends in the group's configuration), or none at all and be caught
// up by a snapshot.
func (env *Env) AddNodes(count int, opts NodeOptions) ([]uint64, error) {
	var added []uint64
	if opts.Logger == nil {
		opts.Logger = env.Logger
	}
	for i := 0; i < count; i++ {
		id := uint64(len(env.ids) + 1)
		n, err := env.bootNode(id, opts)
		if err != nil {
			return added, err
		}
		env.nodes[id] = n
		env.ids = append(env.ids, id)
		added = append(added, id)
	}
	return added, nil
}

// bootNode creates the storage of a new node and starts it.
func (env *Env) bootNode(id uint64, opts NodeOptions) (*Node, error) {
	cs := raftpb.ConfState{Voters: slices.Clone(opts.Voters), Learners: slices.Clone(opts.Learners)}
	n := &Node{ID: id, Options: opts, Storage: raft.NewMemoryStorage(), ConfState: cs}
	if opts.Index > 0 {
		snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: opts.Index, Term: 1, ConfState: cs}}
		if err := n.Storage.ApplySnapshot(snap); err != nil {
			return nil, err
		}
		n.AppliedIndex = opts.Index
	} else {
		n.Storage.SetConfState(cs)
	}
	n.confs = []confAt{{index: opts.Index, cs: cs}}
	if err := n.start(env); err != nil {
		return nil, fmt.Errorf("node %d: %w", id, err)
	}
	return n, nil
}

// config returns the node's Config for its options, storage and applied
// index.
func (n *Node) config() *raft.Config {
	seed := n.Options.Seed
	if seed == 0 {
		seed = n.ID
	}
	return &raft.Config{
		ID:                 n.ID,
		Storage:            n.Storage,
		Applied:            n.AppliedIndex,
		Seed:               seed,
		ElectionTick:       n.Options.ElectionTick,
		HeartbeatTick:      n.Options.HeartbeatTick,
		MaxSizePerMsg:      n.Options.MaxSizePerMsg,
		MaxInflightMsgs:    n.Options.MaxInflightMsgs,
		DisablePreVote:     n.Options.DisablePreVote,
		DisableCheckQuorum: n.Options.DisableCheckQuorum,
		CheckContract:      true, // the harness's own loop is checked

		KeepLeaderAfterRemoval: n.Options.KeepLeaderAfterRemoval,

		LeaseReads:                  n.Options.LeaseReads,
		Quiesce:                     n.Options.Quiesce,
		AsyncStorageWrites:          n.Options.AsyncStorage,
		MaxInflightBytes:            n.Options.MaxInflightBytes,
		MaxUncommittedEntriesSize:   n.Options.MaxUncommittedSize,
		MaxUncommittedEntries:       n.Options.MaxUncommittedEntries,
		MaxCommittedEntriesPerReady: n.Options.MaxCommittedPerReady,
		MaxCommittedSizePerReady:    n.Options.MaxCommittedSizePerReady,
		SnapshotChunkSize:           n.Options.SnapshotChunkSize,
		SnapshotInterval:            n.Options.SnapshotInterval,
		MaxSnapshotChunksInflight:   n.Options.MaxSnapshotChunksInflight,
		MaxSnapshotChunksPerSource:  n.Options.MaxSnapshotChunksPerSource,
		Logger:                      n.Options.Logger,
	}
}

// electionTick returns the node's election timeout in ticks.
func (n *Node) electionTick() int {
	if n.Options.ElectionTick > 0 {
		return n.Options.ElectionTick
	}
	return core.DefaultElectionTick
}

// heartbeatTick returns the node's heartbeat interval in ticks.
func (n *Node) heartbeatTick() int {
	if n.Options.HeartbeatTick > 0 {
		return n.Options.HeartbeatTick
	}
	return core.DefaultHeartbeatTick
}

// setConf records cs as the configuration from index on.
func (n *Node) setConf(index uint64, cs raftpb.ConfState) {
	n.ConfState = cs
	n.confs = append(n.confs, confAt{index: index, cs: cs})
}

// confAtIndex returns the configuration that held at index.
func (n *Node) confAtIndex(index uint64) raftpb.ConfState {
	cs := n.confs[0].cs
	for _, c := range n.confs {
		if c.index <= index {
			cs = c.cs
		}
	}
	return cs
}

// Crash stops node id: its RawNode, with everything it had not handed out
// for persisting, is lost, and so are the messages queued to it and, for an
// asynchronous node, the writes and applies its workers had not completed.
// Its storage keeps what was persisted, and the messages it already sent
// stay in the network.
func (env *Env) Crash(id uint64) error {
	if _, err := env.running(id); err != nil {
		return err
	}
	n := env.nodes[id]
	n.RawNode, n.loop, n.host, n.snapWork = nil, nil, nil, nil
	delete(env.queues, id)
	return nil
}

// Restart starts a crashed node again from its storage. The state machine
// is durable only through snapshots: it restarts from the storage's
// snapshot (Config.Applied is its index) and re-applies the committed
// entries after it, which rebuilds the configuration as well.
func (env *Env) Restart(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	if n.RawNode != nil {
		return fmt.Errorf("node %d is running", id)
	}
	snap, _ := n.Storage.Snapshot()
	n.rollBackTo(snap)
	if err := n.start(env); err != nil {
		return fmt.Errorf("node %d: %w", id, err)
	}
	return nil
}

// rollBackTo resets the state machine to what snap holds.
func (n *Node) rollBackTo(snap raftpb.Snapshot) {
	idx := snap.Metadata.Index
	keep := 0
	for keep < len(n.Applied) && n.Applied[keep].Index <= idx {
		keep++
	}
	n.Applied = n.Applied[:keep]
	n.AppliedIndex = idx
	_, cs, _ := n.Storage.InitialState()
	n.ConfState = cs
	n.confs = []confAt{{index: idx, cs: cs}}
}

// Compact makes node id snapshot its state machine at index, which it
// must have applied, and discard its log up to there.
func (env *Env) Compact(id, index uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	if index > n.AppliedIndex {
		return fmt.Errorf("node %d cannot compact at %d: applied only up to %d", id, index, n.AppliedIndex)
	}
	cs := n.confAtIndex(index)
	if _, err := n.Storage.CreateSnapshot(index, &cs, SnapshotData(index, n.Options.SnapshotSize)); err != nil {
		return err
	}
	return n.Storage.Compact(index)
}
