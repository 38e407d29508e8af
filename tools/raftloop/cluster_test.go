package raftloop_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/raftloop"
)

// list is the state machine of the examples and tests: the payloads
// applied, in order, and the configuration.
type list struct {
	items []string
	conf  raftpb.ConfState
}

// Restore replaces the list with a snapshot's.
func (s *list) Restore(snap raftpb.Snapshot) error {
	s.items = strings.Fields(string(snap.Data))
	s.conf = snap.Metadata.ConfState
	return nil
}

// Apply appends a normal entry's payload, or takes a conf change's
// configuration.
func (s *list) Apply(e raftpb.Entry, conf raftloop.ConfApplied) error {
	switch {
	case conf.Change != nil && conf.Err == nil:
		s.conf = conf.State
	case conf.Change == nil && len(e.Data) > 0:
		s.items = append(s.items, string(e.Data))
	}
	return nil
}

// data encodes the list for a snapshot.
func (s *list) data() []byte { return []byte(strings.Join(s.items, " ")) }

// net is the examples' network: every message sent waits in the queue
// until deliver steps it, but those to or from a node that is down,
// which are lost.
type net struct {
	queue []raftpb.Message
	c     *cluster
	// sent counts the messages sent, by type.
	sent map[raftpb.MessageType]int
	// onSend, when set, sees every message as it is sent.
	onSend func(m raftpb.Message)
}

// Send queues copies of msgs.
func (n *net) Send(msgs []raftpb.Message) {
	if n.sent == nil {
		n.sent = map[raftpb.MessageType]int{}
	}
	for _, m := range msgs {
		n.sent[m.Type]++
		if n.onSend != nil {
			n.onSend(m)
		}
	}
	n.queue = append(n.queue, msgs...)
}

// member is one node of a cluster: its loop, disk and state machine.
type member struct {
	loop  *raftloop.Loop
	disk  *raftloop.CrashDisk
	sm    *list
	down  bool
	reads []string
	ticks int // elapsed ticks not yet taken by the loop
	// jobs are those the loop handed off (cluster.handOff), waiting for
	// the member's worker.
	jobs []raftloop.Job
	// chunksHandedOff counts the jobs handed off that save a chunk.
	chunksHandedOff int
}

// cluster is a group of members on one network.
type cluster struct {
	nodes map[uint64]*member
	net   *net
	cfg   func(id uint64) raft.Config
	// refused are the errors Step returned (the examples print them).
	refused []error
	// handOff makes the asynchronous loops hand their writes and chunks
	// to the members' workers (Config.HandOff), which run() completes.
	handOff bool
	// wrapDisk, when set, gives each loop its disk wrapped.
	wrapDisk func(d *raftloop.CrashDisk) raftloop.Disk
}

// newCluster boots voters 1..n, each on a CrashDisk holding the first
// configuration, and elects node 1.
func newCluster(n int, cfg func(id uint64) raft.Config) *cluster {
	c := &cluster{nodes: map[uint64]*member{}, cfg: cfg}
	c.net = &net{c: c}
	var voters []uint64
	for id := uint64(1); id <= uint64(n); id++ {
		voters = append(voters, id)
	}
	for _, id := range voters {
		cs := raftpb.ConfState{Voters: voters}
		d := raftloop.NewCrashDisk()
		d.Bootstrap(cs)
		c.start(id, d, &list{conf: cs}, 0)
	}
	must(c.nodes[1].loop.Campaign())
	c.run()
	return c
}

// start starts node id on disk d, its state machine sm applied up to
// applied.
func (c *cluster) start(id uint64, d *raftloop.CrashDisk, sm *list, applied uint64) *member {
	m := &member{disk: d, sm: sm}
	rc := raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, Applied: applied}
	if c.cfg != nil {
		rc = c.cfg(id)
		rc.Applied = applied
	}
	var handOff func(raftloop.Job)
	if c.handOff {
		handOff = func(j raftloop.Job) {
			if j.Chunk != nil {
				m.chunksHandedOff++
			}
			m.jobs = append(m.jobs, j)
		}
	}
	var disk raftloop.Disk = d
	if c.wrapDisk != nil {
		disk = c.wrapDisk(d)
	}
	l, err := raftloop.New(raftloop.Config{
		Raft: rc, Disk: disk, Network: c.net, StateMachine: sm, HandOff: handOff,
		Ticks: func() int { n := m.ticks; m.ticks = 0; return n },
		OnRead: func(rs raft.ReadState) {
			if rs.Err != nil {
				m.reads = append(m.reads, fmt.Sprintf("%s failed: %v", rs.RequestCtx, rs.Err))
				return
			}
			m.reads = append(m.reads, fmt.Sprintf("%s at %d: %v", rs.RequestCtx, rs.Index, sm.items))
		},
	})
	must(err)
	m.loop = l
	c.nodes[id] = m
	return m
}

// write saves job j, handed off by the member's loop, to its disk.
func (m *member) write(j raftloop.Job) error {
	if j.Chunk != nil {
		return m.disk.SaveChunk(j.Chunk.ID.Index, j.Chunk.ID.Term, j.Chunk.ID.Chunk, j.Chunk.Data)
	}
	return m.disk.Save(j.HardState, j.Entries, j.Snapshot)
}

// work is the member's worker for the jobs its loop handed off: it saves
// every job waiting, syncs once for all of them, and then reports each
// completed, in order.
func (m *member) work() error {
	jobs := m.jobs
	m.jobs = nil
	for _, j := range jobs {
		if err := m.write(j); err != nil {
			return err
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if err := m.disk.Sync(); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := m.loop.Completed(j.Seq); err != nil {
			return err
		}
	}
	return nil
}

// ids returns the members' IDs in order.
func (c *cluster) ids() []uint64 {
	var ids []uint64
	for id := range c.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// run runs every loop and delivers messages until nothing moves.
func (c *cluster) run() {
	for range 1000 {
		moved := false
		for _, id := range c.ids() {
			ran, err := c.nodes[id].loop.Run()
			must(err)
			moved = moved || ran || len(c.nodes[id].jobs) > 0
			must(c.nodes[id].work())
		}
		if !moved && len(c.net.queue) == 0 {
			return
		}
		c.deliver()
	}
	panic("the cluster never settles")
}

// deliver steps every queued message into its recipient; a message to or
// from a node that is down is lost and reported unreachable.
func (c *cluster) deliver() {
	msgs := c.net.queue
	c.net.queue = nil
	for _, m := range msgs {
		from, to := c.nodes[m.From], c.nodes[m.To]
		if to == nil || from.down || to.down {
			from.loop.ReportUnreachable(m.To)
			continue
		}
		if err := to.loop.Step(m); err != nil {
			c.refused = append(c.refused, err)
			fmt.Println("refused:", err)
		}
		if m.Type == raftpb.MsgSnap {
			from.loop.ReportSnapshot(m.To, false)
		}
	}
}

// tick lets n ticks elapse on every node, one at a time, running the
// cluster after each.
func (c *cluster) tick(n int) {
	for range n {
		for _, id := range c.ids() {
			c.nodes[id].ticks++
			c.nodes[id].loop.Tick()
		}
		c.run()
	}
}

// propose proposes each payload on the leader, node 1, and runs the
// cluster after each.
func (c *cluster) propose(payloads ...string) {
	for _, p := range payloads {
		_, _, err := c.nodes[1].loop.Propose([]byte(p))
		must(err)
		c.run()
	}
}

// must panics on an error the examples do not expect.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
