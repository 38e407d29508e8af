package raft

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// The ownership of the arrays behind entries (the Ready contract): a slice
// of entries a Ready hands out (Entries, CommittedEntries, the Entries of
// its messages) belongs to the application until the next Advance, after
// which the node may take its array back; the node copies the entries it
// keeps from a message, so a transport may reuse its own arrays once Step
// returns. ownershipDriver checks both sides: it compares every slice a
// Ready handed out with a copy taken at Ready just before it calls Advance,
// after making the node append between the two, and it writes junk over
// its own copies of delivered messages' entries once they are stepped.

// handedEntries holds the entry slices one Ready handed out, as handed out
// and as copied when it was.
type handedEntries struct {
	what      []string
	got, want [][]raftpb.Entry
}

// handedOut records every entry slice rd hands out.
func handedOut(rd *Ready) *handedEntries {
	h := &handedEntries{}
	add := func(what string, ents []raftpb.Entry) {
		if len(ents) > 0 {
			h.what = append(h.what, what)
			h.got = append(h.got, ents)
			h.want = append(h.want, slices.Clone(ents))
		}
	}
	add("Entries", rd.Entries)
	add("CommittedEntries", rd.CommittedEntries)
	for _, m := range append(slices.Clone(rd.Messages), rd.MessagesAfterPersist...) {
		add(fmt.Sprintf("%s to %d", m.Type, m.To), m.Entries)
	}
	return h
}

// unchanged fails unless every slice still holds what it held at Ready.
func (h *handedEntries) unchanged(t *testing.T, id uint64) {
	t.Helper()
	for i := range h.got {
		for j := range h.got[i] {
			g, w := &h.got[i][j], &h.want[i][j]
			if g.Term != w.Term || g.Index != w.Index || g.Type != w.Type || !bytes.Equal(g.Data, w.Data) {
				t.Fatalf("node %d wrote into the %s it handed out before Advance: entry %d is %d/%d %q, was %d/%d %q",
					id, h.what[i], j, g.Term, g.Index, g.Data, w.Term, w.Index, w.Data)
			}
		}
	}
}

// ownershipDriver runs a cluster whose transport copies the entries of
// the messages it queues into an arena and writes junk over the arena
// once a round is delivered.
type ownershipDriver struct {
	t     *testing.T
	nodes []*clusterNode
	inbox []raftpb.Message
	arena []raftpb.Entry
	// cut drops every message to or from the node it names.
	cut map[uint64]bool
	// proposed is the payload proposed at each index.
	proposed map[uint64]string
	// between runs on a node after its Ready is persisted and sent, before
	// Advance.
	between func(nd *clusterNode, rd *Ready)
}

func newOwnershipDriver(t *testing.T) *ownershipDriver {
	reuse := func(cfg *Config) { cfg.ReuseEntryArrays = true }
	d := &ownershipDriver{t: t, nodes: newClusterNodes(t, 3, reuse), cut: map[uint64]bool{}, proposed: map[uint64]string{}}
	if err := d.nodes[0].rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	d.settle()
	return d
}

// propose proposes count payloads on node 1 and records them.
func (d *ownershipDriver) propose(count int) {
	for i := 0; i < count; i++ {
		p := fmt.Sprintf("p%d", len(d.proposed))
		index, _, err := d.nodes[0].rn.Propose([]byte(p))
		if err != nil {
			d.t.Fatal(err)
		}
		d.proposed[index] = p
	}
}

// handleReady handles one Ready of nd, checking what it hands out.
func (d *ownershipDriver) handleReady(nd *clusterNode) {
	rd := nd.rn.Ready()
	h := handedOut(&rd)
	nd.persist(d.t, &rd)
	d.queue(rd.Messages)
	d.queue(rd.MessagesAfterPersist)
	for _, e := range rd.CommittedEntries {
		if want, ok := d.proposed[e.Index]; len(e.Data) > 0 && (!ok || string(e.Data) != want) {
			d.t.Fatalf("node %d applies %q at %d, %q was proposed there", nd.id, e.Data, e.Index, want)
		}
		nd.applied = e.Index
	}
	if d.between != nil {
		d.between(nd, &rd)
	}
	h.unchanged(d.t, nd.id)
	nd.rn.Advance()
}

// queue copies msgs, and their entries into the arena.
func (d *ownershipDriver) queue(msgs []raftpb.Message) {
	for _, m := range msgs {
		if d.cut[m.From] || d.cut[m.To] {
			continue
		}
		k := len(d.arena)
		d.arena = append(d.arena, m.Entries...)
		m.Entries = d.arena[k:len(d.arena):len(d.arena)]
		d.inbox = append(d.inbox, m)
	}
}

// deliver steps the inbox into its recipients, then writes junk over the
// arena: the recipients must have copied what they keep.
func (d *ownershipDriver) deliver() {
	msgs := d.inbox
	d.inbox = nil
	for _, m := range msgs {
		if err := d.nodes[m.To-1].rn.Step(m); err != nil {
			d.t.Fatalf("step %s %d->%d: %v", m.Type, m.From, m.To, err)
		}
	}
	for i := range d.arena {
		d.arena[i] = raftpb.Entry{Term: 99, Index: 99, Data: []byte("junk")}
	}
	d.arena = d.arena[:0]
}

// settle runs rounds until no node has a Ready and nothing is in flight.
func (d *ownershipDriver) settle() {
	for round := 0; round < 1000; round++ {
		moved := false
		for _, nd := range d.nodes {
			for nd.rn.HasReady() {
				d.handleReady(nd)
				moved = true
			}
		}
		if !moved && len(d.inbox) == 0 {
			return
		}
		d.deliver()
	}
	d.t.Fatal("the cluster does not settle")
}

// TestNeitherNodeNorTransportWritesIntoEntriesTheOtherOwns: across batches
// of many sizes, with the leader proposing and every node taking messages
// between a Ready and its Advance, and a follower cut off and catching up,
// no node writes into an entry slice it handed out before Advance, every
// node applies what was proposed, and no node keeps (and so reads back
// junk from) the array behind a delivered message's entries.
func TestNeitherNodeNorTransportWritesIntoEntriesTheOtherOwns(t *testing.T) {
	d := newOwnershipDriver(t)
	extra := 0        // proposals left to make between a Ready and its Advance this round
	anyReady := false // whether to make them after any Ready, or only one handing out entries to apply
	d.between = func(nd *clusterNode, rd *Ready) {
		// Appends while the Ready's arrays are the application's: when it
		// hands out entries to apply (the tail is then empty, and a new
		// array is wanted), or after any Ready (into the array whose
		// entries the Ready hands out to persist).
		if nd.id == 1 && extra > 0 && (anyReady || len(rd.CommittedEntries) > 0) {
			extra--
			d.propose(3)
		}
		for i, m := range d.inbox {
			if m.To == nd.id { // a received append, copied while the Ready is out
				if err := nd.rn.Step(m); err != nil {
					t.Fatalf("step %s %d->%d: %v", m.Type, m.From, m.To, err)
				}
				d.inbox = slices.Delete(d.inbox, i, i+1)
				break
			}
		}
	}
	for round, batch := range []int{1, 64, 1024, 5, 1024, 2, 300, 1024, 1, 1} {
		d.cut[3] = round >= 3 && round < 6
		extra, anyReady = 4, round%2 == 1
		d.propose(batch)
		d.settle()
	}
	d.cut[3] = false
	d.propose(1)
	d.settle()
	last := d.nodes[0].applied
	for _, nd := range d.nodes {
		if nd.applied != last {
			t.Fatalf("node %d applied up to %d, node 1 up to %d", nd.id, nd.applied, last)
		}
	}
	if len(d.proposed) < 3425 {
		t.Fatalf("only %d proposals", len(d.proposed))
	}
}

// TestAMessageKeptPastItsSendersAdvanceIsRefused: a transport that keeps a
// message past its sender's Advance without copying its entries, against
// the contract, does not get stale entries accepted silently: once the
// sender has applied them it takes their array back, cleared, and the
// recipient refuses the message.
func TestAMessageKeptPastItsSendersAdvanceIsRefused(t *testing.T) {
	d := newOwnershipDriver(t)
	leader := d.nodes[0]
	d.propose(16) // an array large enough to be taken back
	rd := leader.rn.Ready()
	var stale raftpb.Message
	for _, m := range rd.Messages {
		if m.Type == raftpb.MsgApp && m.To == 3 && len(m.Entries) > 0 {
			stale = m // kept as it is, its entries not copied
		}
	}
	if stale.To == 0 {
		t.Fatal("the leader sent node 3 no append with entries")
	}
	leader.persist(t, &rd)
	d.cut[3] = true
	d.queue(rd.Messages)
	leader.rn.Advance()
	d.settle() // node 2 acknowledges; the leader commits and applies
	if leader.applied < stale.Entries[0].Index && stale.Entries[0].Index != 0 {
		t.Fatalf("the leader applied up to %d, short of %d", leader.applied, stale.Entries[0].Index)
	}
	err := d.nodes[2].rn.Step(stale)
	if !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("a stale append whose array the leader took back was stepped with %v, want ErrInvalidMessage", err)
	}
}

// TestWithoutReuseEntrySlicesStayValidAfterAdvance: without
// ReuseEntryArrays (the default), every entry slice a Ready hands out
// (Entries, CommittedEntries, the Entries of its messages) still holds
// what it held when handed out, long after Advance, as etcd raft's do,
// so that an application may apply committed entries on another
// goroutine or encode messages later. The slices are kept uncopied over
// batches of many sizes and compared with copies at the end.
func TestWithoutReuseEntrySlicesStayValidAfterAdvance(t *testing.T) {
	c := newBenchClusterReusing(t, 3, false)
	c.elect(t)
	type kept struct {
		what       string
		held, then []raftpb.Entry
	}
	var all []kept
	keep := func(what string, ents []raftpb.Entry) {
		if len(ents) > 0 {
			all = append(all, kept{what, ents, slices.Clone(ents)})
		}
	}
	c.onReady = func(nd *clusterNode, rd Ready) {
		keep(fmt.Sprintf("node %d Entries", nd.id), rd.Entries)
		keep(fmt.Sprintf("node %d CommittedEntries", nd.id), rd.CommittedEntries)
		for _, m := range append(slices.Clone(rd.Messages), rd.MessagesAfterPersist...) {
			keep(fmt.Sprintf("node %d %s to %d", nd.id, m.Type, m.To), m.Entries)
		}
	}
	for round, batch := range []int{1, 64, 1024, 5, 1024, 2, 300, 1024, 1, 16} {
		for i := 0; i < batch; i++ {
			if _, _, err := c.nodes[0].rn.Propose([]byte(fmt.Sprintf("r%d-%d", round, i))); err != nil {
				t.Fatal(err)
			}
		}
		c.stabilize(t)
	}
	for _, k := range all {
		for i := range k.then {
			if !reflect.DeepEqual(k.held[i], k.then[i]) {
				t.Fatalf("%s: entry %d of a slice handed out is now %d/%d %q, was %d/%d %q when handed out",
					k.what, i, k.held[i].Term, k.held[i].Index, k.held[i].Data, k.then[i].Term, k.then[i].Index, k.then[i].Data)
			}
		}
	}
	if len(all) < 60 {
		t.Fatalf("only %d slices kept", len(all))
	}
}
