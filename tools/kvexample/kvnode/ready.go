package kvnode

import (
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// processReady hands out every Ready the node has.
func (n *Node) processReady() error {
	for n.rn.HasReady() {
		start := time.Now()
		var err error
		if n.cfg.Sync {
			err = n.handleSyncReady() // syncloop.go
		} else {
			rd := n.rn.Ready()
			if rd.SoftState != nil {
				ss := *rd.SoftState
				n.softState = &ss
			}
			err = n.handleAsyncReady(&rd)
		}
		n.metrics.readyLatency.observe(time.Since(start))
		if err != nil {
			return err
		}
		if ss := n.softState; ss != nil {
			n.softState = nil
			n.onSoftState(*ss)
		}
	}
	return nil
}

// handleAsyncReady routes the messages of a Ready of the asynchronous
// mode (raft doc.go, "The asynchronous storage mode"): writes to the disk
// worker, which persists them while the loop goes on; chunk requests are
// served at once from the snapshot in memory, received chunks go to the
// disk worker; the rest to peers. Applying is done inline, after the
// peers' messages have left, and acknowledged at once.
func (n *Node) handleAsyncReady(rd *raft.Ready) error {
	var peers, applies []raftpb.Message
	for _, m := range rd.Messages {
		switch m.To {
		case raft.LocalAppendThread:
			n.jobs.push(diskJob{kind: jobAppend, msg: m})
		case raft.LocalApplyThread:
			applies = append(applies, m)
		case raft.LocalSnapshotThread:
			if m.Type == raftpb.MsgSnapChunk {
				n.jobs.push(diskJob{kind: jobChunk, msg: m})
			} else {
				n.serveChunk(m)
			}
		default:
			peers = append(peers, m)
		}
	}
	n.metrics.countSent(peers)
	n.tr.Send(peers)
	n.onReadStates(rd.ReadStates)
	for _, m := range applies {
		if err := n.applyMessage(m); err != nil {
			return err
		}
		n.deliver(m.Responses)
	}
	n.afterApply()
	return nil
}

// serveChunk is the snapshot worker's answer to a chunk request: the bytes
// of the snapshot held in memory, if it is the one asked for. Every member
// snapshots at the same indexes with the same bytes, so a chunk served
// here matches the chunks other sources serve.
func (n *Node) serveChunk(m raftpb.Message) {
	n.metrics.chunksServed.Add(1)
	held, _ := n.storage.Snapshot()
	n.tr.Send([]raftpb.Message{raft.ServeSnapshotChunkFrom(m, held)})
}
