package kvnode

import (
	"time"

	raft "github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// processReady hands out every Ready the node has.
func (n *Node) processReady() error {
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		start := time.Now()
		var err error
		if n.cfg.Sync {
			err = n.handleSyncReady(&rd)
		} else {
			err = n.handleAsyncReady(&rd)
		}
		n.metrics.readyLatency.observe(time.Since(start))
		if err != nil {
			return err
		}
		if rd.SoftState != nil {
			n.onSoftState(*rd.SoftState)
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

// handleSyncReady handles a Ready of the synchronous loop in the order
// documented on raft.Ready: persist, send, apply, Advance.
func (n *Node) handleSyncReady(rd *raft.Ready) error {
	installed, err := n.disk.persist(rd.HardState, rd.Entries, &rd.Snapshot, rd.MustSync)
	if err != nil {
		return err
	}
	if err := n.storeDurable(rd.HardState, rd.Entries, installed); err != nil {
		return err
	}
	var saved []raftpb.Message
	for _, m := range rd.LocalMessages {
		if m.Type != raftpb.MsgSnapChunk {
			n.serveChunk(m)
			continue
		}
		if err := n.disk.saveChunk(m); err != nil {
			return err
		}
		n.metrics.chunksSaved.Add(1)
		saved = append(saved, m.Responses...)
	}
	n.metrics.countSent(rd.Messages)
	n.tr.Send(rd.Messages)
	n.tr.Send(rd.MessagesAfterPersist)
	n.onReadStates(rd.ReadStates)
	if installed != nil {
		if err := n.restore(*installed); err != nil {
			return err
		}
	}
	n.applyEntries(rd.CommittedEntries)
	n.rn.Advance()
	n.deliver(saved)
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
