package raft

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// TestASharedGroupCacheChangesNoReadyStream: nodes that share one
// GroupCache hand out, Ready by Ready, byte for byte what nodes without
// one hand out, over the randomized scenarios of the determinism tests
// (ticks, proposals, drops, partitions, crashes and restarts).
func TestASharedGroupCacheChangesNoReadyStream(t *testing.T) {
	for _, seed := range determinismSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			own := runScenario(t, seed, 7)
			shared := runScenarioWith(t, seed, 7, NewGroupCache())
			if at := firstDifference(own.stream, shared.stream); at >= 0 {
				t.Fatalf("streams of %d and %d bytes differ from byte %d", len(own.stream), len(shared.stream), at)
			}
		})
	}
}

// TestAReadysMessagesStayIntactUntilAdvanceWithASharedCache: the arrays a
// GroupCache lends are the application's from Ready to Advance. Two groups
// share one cache; every round each node's Ready is taken before any is
// advanced, and then the nodes are advanced one by one, each delivering its
// messages first (so that its peers queue answers in arrays from the
// cache). The messages of every Ready not yet advanced must still be what
// they were when it was handed out.
func TestAReadysMessagesStayIntactUntilAdvanceWithASharedCache(t *testing.T) {
	cache := NewGroupCache()
	configure := func(cfg *Config) { cfg.GroupCache = cache }
	groups := [][]*clusterNode{newClusterNodes(t, 3, configure), newClusterNodes(t, 3, configure)}
	for _, nodes := range groups {
		c := benchCluster{nodes: nodes}
		c.elect(t)
	}
	type handed struct {
		nd         *clusterNode
		nodes      []*clusterNode
		rd         Ready
		msgs, post []raftpb.Message
	}
	checked := 0
	for round := 0; round < 200; round++ {
		var out []handed
		for _, nodes := range groups {
			if round%7 == 0 {
				if _, _, err := nodes[0].rn.Propose([]byte{byte(round)}); err != nil {
					t.Fatal(err)
				}
			}
			for _, nd := range nodes {
				nd.rn.Tick()
			}
			for _, nd := range nodes {
				if nd.rn.HasReady() {
					rd := nd.rn.Ready()
					out = append(out, handed{nd, nodes, rd, slices.Clone(rd.Messages), slices.Clone(rd.MessagesAfterPersist)})
				}
			}
		}
		for i, h := range out {
			h.nd.persist(t, &h.rd)
			for _, m := range append(slices.Clone(h.msgs), h.post...) {
				// A refusal (a message from an earlier term, say) is
				// part of the run; what matters is what the peer queues.
				_ = h.nodes[m.To-1].rn.Step(m)
			}
			h.nd.rn.Advance()
			for _, later := range out[i+1:] {
				checked++
				if diff := cmp.Diff(later.msgs, later.rd.Messages); diff != "" {
					t.Fatalf("round %d: node %d's Messages changed before its Advance (-handed +now):\n%s", round, later.nd.id, diff)
				}
				if diff := cmp.Diff(later.post, later.rd.MessagesAfterPersist); diff != "" {
					t.Fatalf("round %d: node %d's MessagesAfterPersist changed before its Advance (-handed +now):\n%s", round, later.nd.id, diff)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Ready was held while another node advanced: the test checked nothing")
	}
}
