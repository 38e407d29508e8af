package kvnode

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/framerelay"
	"github.com/tickraft/raft/tools/wal"
)

// memHub is an in-process network between hosts: each send hands a
// host's batch to its peers' inboxes, split by peer, as a socket transport
// would carry it in one frame. It counts what it carried (its own
// counters, not the hosts').
type memHub struct {
	mu      sync.Mutex
	inboxes map[uint64]chan []groupMsg
	hosts   map[uint64]*Host
	down    map[uint64]bool
	carried int
	// tap, when set, sees every message a host sends, before drop or a
	// full inbox may lose it, under the hub's lock.
	tap func(groupMsg)
	// drop, when set, loses the messages it matches, as a network that
	// cuts some links would; it is called under the hub's lock.
	drop func(groupMsg) bool
	// logs are the hosts' memory logs, by host ID, and unsafeAcks what
	// the hub saw acknowledged beyond what the sender's log held synced
	// (checkAck).
	logs       map[uint64]*memGroupLog
	unsafeAcks []string
}

func newMemHub() *memHub {
	return &memHub{inboxes: map[uint64]chan []groupMsg{}, hosts: map[uint64]*Host{}, down: map[uint64]bool{},
		logs: map[uint64]*memGroupLog{}}
}

// setLog records host id's memory log, whose synced state checkAck reads.
func (hub *memHub) setLog(id uint64, l *memGroupLog) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.logs[id] = l
}

// checkAck records an answer that host from sends for state its log does
// not hold synced: an append acknowledgement of entries the synced state
// lacks or holds with another term than the host's storage, or a granted
// vote the synced hard state does not record. It is the oracle of the
// host's fsync, judged from the memory log's synced state, not from the
// host.
func (hub *memHub) checkAck(from uint64, gm groupMsg) {
	m := gm.Message
	l := hub.logs[from]
	if l == nil || m.Reject {
		return
	}
	var bad string
	switch m.Type {
	case raftpb.MsgAppResp:
		bad = l.unsyncedAck(gm.Group, m.Index)
	case raftpb.MsgVoteResp:
		bad = l.unsyncedVote(gm.Group, m.Term, m.To)
	}
	if bad != "" {
		hub.unsafeAcks = append(hub.unsafeAcks, fmt.Sprintf("host %d, group %d, %s: %s", from, gm.Group, m.Type, bad))
	}
}

// memNet is one host's end of a memHub.
type memNet struct {
	hub  *memHub
	self uint64
	in   chan []groupMsg
}

// join connects h to the hub, as a process (re)started.
func (hub *memHub) join(h *Host) (groupNet, error) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	in := make(chan []groupMsg, 1024)
	hub.inboxes[h.cfg.ID], hub.hosts[h.cfg.ID] = in, h
	delete(hub.down, h.cfg.ID)
	return &memNet{hub: hub, self: h.cfg.ID, in: in}, nil
}

// leave disconnects id, and reports it unreachable to the others, as
// their transports would when its connections close.
func (hub *memHub) leave(id uint64) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.down[id] = true
	delete(hub.inboxes, id)
	for other, h := range hub.hosts {
		if other != id && !hub.down[other] {
			h.unreachable.push(id)
		}
	}
	delete(hub.hosts, id)
}

func (n *memNet) send(msgs []groupMsg) {
	hub := n.hub
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if hub.down[n.self] {
		return
	}
	byPeer := map[uint64][]groupMsg{}
	for _, gm := range msgs {
		hub.checkAck(n.self, gm)
		if hub.tap != nil {
			hub.tap(gm) // what was sent, dropped or not: a vote granted counts even if lost
		}
		if hub.drop != nil && hub.drop(gm) {
			continue
		}
		byPeer[gm.Message.To] = append(byPeer[gm.Message.To], gm)
	}
	for to, batch := range byPeer {
		in := hub.inboxes[to]
		if in == nil || hub.down[to] {
			continue
		}
		select {
		case in <- batch:
			hub.carried += len(batch)
		default: // a full inbox drops, as a full queue would
		}
	}
}

func (n *memNet) receive() <-chan []groupMsg { return n.in }

func (n *memNet) close() error { n.hub.leave(n.self); return nil }

// memGroupLog is a groupLog in memory: a MemoryStorage per group that the
// host reads and writes, and beside it the group's synced state, which
// only a write with sync moves forward. A host started again on the same
// memGroupLog finds the synced state alone: a crash (abandon) loses what
// was saved and not synced.
type memGroupLog struct {
	mu     sync.Mutex
	disks  map[uint64]*memGroupDisk
	nsyncs uint64
	// saves counts the group updates with something to persist (entries,
	// a hard state or a snapshot).
	saves uint64
	// skip, when set, makes open forget a group's storage: a planted bug
	// of a host that does not restore a group on restart.
	skip uint64
	// unsafeSnaps are the compactions asked beyond the synced state.
	unsafeSnaps []string
	// tombs are the term and vote kept for the groups dropped (durable at
	// once, as the shared log syncs a tombstone), until a sync records a
	// replica of the group again.
	tombs map[uint64]raftpb.HardState
	// creates counts the replicas created, by group.
	creates map[uint64]int
}

type memGroupDisk struct {
	l     *memGroupLog
	group uint64
	// fresh is set on a replica created after its group's tombstone and
	// not yet synced: a crash loses it, and the tombstone stands.
	fresh bool
	st    *raft.MemoryStorage
	// synced is what a crash keeps; unsynced the saves since the last
	// sync, to be replayed onto it.
	synced   *raft.MemoryStorage
	unsynced []func(*raft.MemoryStorage) error
}

// unsyncedAck describes why an acknowledgement of group's entries
// through index is not covered by the synced state, or returns "".
func (l *memGroupLog) unsyncedAck(group, index uint64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.disks[group]
	if d == nil {
		return "no synced state"
	}
	if last, _ := d.synced.LastIndex(); last < index {
		return fmt.Sprintf("index %d acknowledged with %d synced", index, last)
	}
	synced, err1 := d.synced.Term(index)
	held, err2 := d.st.Term(index)
	if err1 == nil && err2 == nil && synced != held {
		return fmt.Sprintf("index %d acknowledged at term %d with term %d synced", index, held, synced)
	}
	return ""
}

// unsyncedVote describes why a vote granted to candidate in term is not
// recorded by group's synced hard state, or returns "".
func (l *memGroupLog) unsyncedVote(group, term, candidate uint64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.disks[group]
	if d == nil {
		return "no synced state"
	}
	hs, _, _ := d.synced.InitialState()
	if hs.Term < term || (hs.Term == term && hs.Vote != candidate) {
		return fmt.Sprintf("vote for %d in term %d with term %d, vote %d synced", candidate, term, hs.Term, hs.Vote)
	}
	return ""
}

func newMemGroupLog() *memGroupLog {
	return &memGroupLog{disks: map[uint64]*memGroupDisk{}, tombs: map[uint64]raftpb.HardState{}, creates: map[uint64]int{}}
}

func (l *memGroupLog) open(group uint64, voters []uint64) (groupDisk, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.disks[group]; d != nil && d.fresh {
		delete(l.disks, group) // created on demand, never synced
	}
	if _, dropped := l.tombs[group]; dropped {
		return nil, nil
	}
	if d := l.disks[group]; d != nil && group != l.skip {
		d.unsynced = nil
		d.st = copyStorage(d.synced)
		return d, nil
	}
	if len(voters) == 0 {
		return nil, nil
	}
	synced := raft.NewMemoryStorage()
	synced.SetConfState(raftpb.ConfState{Voters: voters})
	d := &memGroupDisk{l: l, group: group, st: copyStorage(synced), synced: synced}
	l.disks[group] = d
	return d, nil
}

func (l *memGroupLog) tombstone(group uint64) (raftpb.HardState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs, ok := l.tombs[group]
	return hs, ok
}

// create makes an empty replica of group; its hard state is saved with
// the next sync, which also ends the group's tombstone.
func (l *memGroupLog) create(group uint64, hs raftpb.HardState) (groupDisk, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.disks[group] != nil && !l.disks[group].fresh {
		return nil, fmt.Errorf("group %d is held already", group)
	}
	l.creates[group]++
	d := &memGroupDisk{l: l, group: group, fresh: true, st: raft.NewMemoryStorage(), synced: raft.NewMemoryStorage()}
	d.st.SetHardState(hs)
	d.unsynced = append(d.unsynced, func(st *raft.MemoryStorage) error { return st.SetHardState(hs) })
	l.disks[group] = d
	return d, nil
}

// drop records the group's tombstone durably and forgets its storage.
func (d *memGroupDisk) drop(hs raftpb.HardState) error {
	l := d.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.disks[d.group] != d {
		return fmt.Errorf("group %d: dropping a disk the log no longer holds", d.group)
	}
	delete(l.disks, d.group)
	l.tombs[d.group] = raftpb.HardState{Term: hs.Term, Vote: hs.Vote}
	return nil
}

// holds reports whether the log holds a replica of group (synced or
// not), and the term and vote of its tombstone, if it has one.
func (l *memGroupLog) holds(group uint64) (held bool, tomb raftpb.HardState, dropped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tomb, dropped = l.tombs[group]
	return l.disks[group] != nil, tomb, dropped
}

// syncedTerm returns the term of group's entry at index in the log's
// synced state (the disk model), or 0 if it holds none there.
func (l *memGroupLog) syncedTerm(group, index uint64) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.disks[group]
	if d == nil {
		return 0
	}
	t, _ := d.synced.Term(index)
	return t
}

// copyStorage returns a MemoryStorage holding what st holds.
func copyStorage(st *raft.MemoryStorage) *raft.MemoryStorage {
	out := raft.NewMemoryStorage()
	snap, _ := st.Snapshot()
	if !snap.IsEmpty() {
		out.ApplySnapshot(snap)
	}
	hs, cs, _ := st.InitialState()
	if snap.IsEmpty() {
		out.SetConfState(cs)
	}
	first, _ := st.FirstIndex()
	last, _ := st.LastIndex()
	for lo := first; lo <= last; {
		ents, _ := st.Entries(lo, last+1, 1<<62)
		out.Append(ents)
		lo += uint64(len(ents))
	}
	out.SetHardState(hs)
	return out
}

func (l *memGroupLog) write(sync bool) error {
	if !sync {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nsyncs++
	for g, d := range l.disks {
		for _, op := range d.unsynced {
			if err := op(d.synced); err != nil {
				return err
			}
		}
		d.unsynced = nil
		if d.fresh {
			d.fresh = false
			delete(l.tombs, g)
		}
	}
	return nil
}

// pinning: the memory log has no segments.
func (l *memGroupLog) pinning() []wal.Pin { return nil }

func (l *memGroupLog) syncs() uint64 { l.mu.Lock(); defer l.mu.Unlock(); return l.nsyncs }
func (l *memGroupLog) close() error  { return l.write(true) }

// abandon loses what was saved and not synced, as a crash does.
func (l *memGroupLog) abandon() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for g, d := range l.disks {
		d.unsynced = nil
		if d.fresh {
			delete(l.disks, g)
		}
	}
}

func (d *memGroupDisk) Storage() raft.Storage { return d.st }
func (d *memGroupDisk) Sync() error           { return nil }

func (d *memGroupDisk) Save(hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if !hs.IsEmpty() || len(ents) > 0 || !snap.IsEmpty() {
		d.l.mu.Lock()
		d.l.saves++
		d.l.mu.Unlock()
	}
	if err := saveTo(d.st, hs, ents, snap); err != nil {
		return err
	}
	ents = append([]raftpb.Entry(nil), ents...)
	d.l.mu.Lock()
	d.unsynced = append(d.unsynced, func(st *raft.MemoryStorage) error { return saveTo(st, hs, ents, snap) })
	d.l.mu.Unlock()
	return nil
}

// saveTo writes a Ready's state to st in the persistence order.
func saveTo(st *raft.MemoryStorage, hs raftpb.HardState, ents []raftpb.Entry, snap raftpb.Snapshot) error {
	if !snap.IsEmpty() {
		if err := st.ApplySnapshot(snap); err != nil {
			return err
		}
	}
	if err := st.Append(ents); err != nil {
		return err
	}
	if !hs.IsEmpty() {
		return st.SetHardState(hs)
	}
	return nil
}

// compact compacts both the host's storage and the synced state, as the
// shared log's snapshot marker is synced at once; the entries up to an
// applied index are synced already.
func (d *memGroupDisk) compact(index uint64, cs raftpb.ConfState, data []byte) error {
	d.l.mu.Lock()
	defer d.l.mu.Unlock()
	if last, _ := d.synced.LastIndex(); last < index {
		// A snapshot of state not yet durable: the host applied entries
		// it had not synced. The host only warns of a failed compaction,
		// so the test is failed from here (stopAll).
		d.l.unsafeSnaps = append(d.l.unsafeSnaps, fmt.Sprintf("a snapshot at %d with %d synced", index, last))
		return fmt.Errorf("snapshot at %d beyond the synced index %d", index, last)
	}
	for _, st := range []*raft.MemoryStorage{d.st, d.synced} {
		if _, err := st.CreateSnapshot(index, &cs, data); err != nil {
			return err
		}
		if err := st.Compact(index); err != nil {
			return err
		}
	}
	return nil
}

// hostCluster is a cluster of hosts in this process: on an in-process
// network and memory logs, or (sockets) on loopback sockets and files.
type hostCluster struct {
	t       *testing.T
	dir     string
	groups  int
	sockets bool
	base    Config
	peers   []Peer
	hub     *memHub
	logs    map[uint64]*memGroupLog
	// relays, when not empty, are in front of each host's Raft address:
	// the other hosts dial the relay (newRelayedHostCluster).
	relays map[uint64]*framerelay.Relay
	hosts  map[uint64]*Host
	c      *Client
}

// hostTestConfig is the configuration of the test hosts: fast ticks, a
// snapshot every few entries of a group.
func hostTestConfig() Config {
	return Config{
		TickInterval: 10 * time.Millisecond, ElectionTicks: 10, HeartbeatTicks: 1,
		SnapshotInterval: 8, RequestTimeout: 3 * time.Second,
	}
}

// newHostCluster starts n hosts of groups groups each.
func newHostCluster(t *testing.T, n, groups int, sockets bool) *hostCluster {
	t.Helper()
	return newHostClusterWith(t, n, groups, sockets, hostTestConfig())
}

// newHostClusterWith starts n hosts of groups groups each, configured as
// base.
func newHostClusterWith(t *testing.T, n, groups int, sockets bool, base Config) *hostCluster {
	t.Helper()
	return buildHostCluster(t, n, groups, sockets, false, base)
}

// newRelayedHostCluster starts n hosts of groups groups each on loopback
// sockets, configured as base, each host's peers dialling it through a
// framerelay.Relay that counts the frames on the wire.
func newRelayedHostCluster(t *testing.T, n, groups int, base Config) *hostCluster {
	t.Helper()
	return buildHostCluster(t, n, groups, true, true, base)
}

// buildHostCluster starts the hosts of newHostClusterWith, with a relay
// in front of each host's Raft address when relayed.
func buildHostCluster(t *testing.T, n, groups int, sockets, relayed bool, base Config) *hostCluster {
	t.Helper()
	hc := &hostCluster{t: t, dir: t.TempDir(), groups: groups, sockets: sockets, base: base,
		hub: newMemHub(), logs: map[uint64]*memGroupLog{}, hosts: map[uint64]*Host{},
		relays: map[uint64]*framerelay.Relay{}}
	ports, err := LoopbackAddrs(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for id := uint64(1); id <= uint64(n); id++ {
		hc.peers = append(hc.peers, Peer{ID: id, RaftAddr: ports[2*id-2], HTTPAddr: ports[2*id-1]})
		addrs = append(addrs, ports[2*id-1])
		if relayed {
			r, err := framerelay.Start(ports[2*id-2])
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Close)
			hc.relays[id] = r
		}
	}
	t.Cleanup(hc.stopAll)
	for id := uint64(1); id <= uint64(n); id++ {
		hc.start(id)
	}
	hc.c = NewClient(addrs...)
	return hc
}

// config returns host id's configuration.
func (hc *hostCluster) config(id uint64) Config {
	c := hc.base
	c.ID, c.Groups = id, hc.groups
	c.DataDir = filepath.Join(hc.dir, fmt.Sprintf("host%d", id))
	for _, p := range hc.peers {
		if p.ID == id {
			c.RaftAddr, c.HTTPAddr = p.RaftAddr, p.HTTPAddr
		} else {
			if r := hc.relays[p.ID]; r != nil {
				p.RaftAddr = r.Addr()
			}
			c.Peers = append(c.Peers, p)
		}
	}
	return c
}

// start starts host id (again), on its addresses, retrying while the
// killed host's ports are still held.
func (hc *hostCluster) start(id uint64) {
	hc.t.Helper()
	c := hc.config(id)
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := hc.startOnce(c)
		if err == nil {
			hc.hosts[id] = h
			return
		}
		if time.Now().After(deadline) {
			hc.t.Fatalf("starting host %d: %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (hc *hostCluster) startOnce(c Config) (*Host, error) {
	if hc.sockets {
		return StartHost(c)
	}
	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return nil, err
	}
	c.HTTPListener = ln
	c = c.withDefaults()
	if err := c.validateHost(); err != nil {
		return nil, err
	}
	l := hc.logs[c.ID]
	if l == nil {
		l = newMemGroupLog()
		hc.logs[c.ID] = l
		hc.hub.setLog(c.ID, l)
	}
	return startHost(c, l, nil, hc.hub.join)
}

// kill kills host id abruptly.
func (hc *hostCluster) kill(id uint64) {
	hc.hosts[id].Kill()
	delete(hc.hosts, id)
}

// stopAll stops every host still running, and fails the test if a host
// acknowledged entries it had not synced.
func (hc *hostCluster) stopAll() {
	for id, h := range hc.hosts {
		if err := h.Stop(); err != nil {
			hc.t.Errorf("host %d stopped with %v", id, err)
		}
		delete(hc.hosts, id)
	}
	hc.hub.mu.Lock()
	defer hc.hub.mu.Unlock()
	for _, bad := range hc.hub.unsafeAcks[:min(len(hc.hub.unsafeAcks), 5)] {
		hc.t.Errorf("durability: %s", bad)
	}
	for id, l := range hc.logs {
		l.mu.Lock()
		for _, bad := range l.unsafeSnaps[:min(len(l.unsafeSnaps), 5)] {
			hc.t.Errorf("durability: host %d: %s", id, bad)
		}
		l.mu.Unlock()
	}
}

// status returns host id's status with every group.
func (hc *hostCluster) status(ctx context.Context, id uint64) (*HostStatus, error) {
	var st HostStatus
	if _, err := hc.c.call(ctx, hc.peers[id-1].HTTPAddr, "GET", "/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
