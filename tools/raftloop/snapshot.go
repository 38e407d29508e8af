package raftloop

import (
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// queueSnapshotWork hands m to Config.OnSnapshotWork, or queues it for
// RunSnapshotWork.
func (l *Loop) queueSnapshotWork(m raftpb.Message) {
	if l.cfg.OnSnapshotWork != nil {
		l.cfg.OnSnapshotWork(m)
		return
	}
	l.qs().snapWork = append(l.qs().snapWork, m)
}

// SnapshotWork returns the number of jobs queued on the snapshot worker.
func (l *Loop) SnapshotWork() int { return len(l.peek().snapWork) }

// RunSnapshotWork completes the oldest job queued on the snapshot worker
// (DoSnapshotWork) and reports whether there was one.
func (l *Loop) RunSnapshotWork() (bool, error) {
	if len(l.peek().snapWork) == 0 {
		return false, nil
	}
	m := l.qs().snapWork[0]
	l.qs().snapWork = l.qs().snapWork[1:]
	return true, l.DoSnapshotWork(m)
}

// DoSnapshotWork does the snapshot worker's job m. A chunk request is
// served from the snapshot the Disk's Storage holds, or, when the Disk is
// a SnapshotSource, from any snapshot it still holds (refused with
// ChunkNotHeld otherwise), and the chunk sent; a received chunk is saved
// durably (ChunkDisk.SaveChunk) and its MsgSnapChunkSaved stepped.
func (l *Loop) DoSnapshotWork(m raftpb.Message) error {
	switch m.Type {
	case raftpb.MsgSnapChunkReq:
		snap, err := l.cfg.Disk.Storage().Snapshot()
		if err != nil {
			return err
		}
		if src, ok := l.cfg.Disk.(SnapshotSource); ok {
			if q, err := raftpb.ParseChunkRequest(m); err == nil && (q.ID.Index != snap.Metadata.Index || q.ID.Term != snap.Metadata.Term) {
				if data, held := src.ServedSnapshot(q.ID.Index, q.ID.Term); held {
					snap = raftpb.Snapshot{Data: data, Metadata: raftpb.SnapshotMetadata{Index: q.ID.Index, Term: q.ID.Term}}
				}
			}
		}
		l.cfg.Network.Send([]raftpb.Message{raft.ServeSnapshotChunkFrom(m, snap)})
	case raftpb.MsgSnapChunk:
		cd, err := l.chunkDisk()
		if err != nil {
			return err
		}
		c, err := raftpb.ParseChunk(m)
		if err != nil {
			return err
		}
		if err := cd.SaveChunk(c.ID.Index, c.ID.Term, c.ID.Chunk, c.Data); err != nil {
			return err
		}
		return l.deliver(m.Responses)
	default:
		return fmt.Errorf("%w: %v is not work for the snapshot worker", ErrNotSnapshotWork, m.Type)
	}
	return nil
}

// chunkDisk returns the Disk's chunk store.
func (l *Loop) chunkDisk() (ChunkDisk, error) {
	cd, ok := l.cfg.Disk.(ChunkDisk)
	if !ok {
		return nil, fmt.Errorf("%w: the chunked snapshot transfer needs a Disk that is a ChunkDisk", ErrConfig)
	}
	return cd, nil
}

// assemble fills in the data of a snapshot the node hands out to install
// after fetching it in chunks (it carries none): the data of the
// snapshot the Disk's Storage holds if it is that one (in the
// asynchronous mode the snapshot to restore is handed out once its write
// is durable, and its chunks may be gone by then), or else the chunks
// saved for its index and term, in order. Any other snapshot is returned
// as it is.
func (l *Loop) assemble(snap raftpb.Snapshot) (raftpb.Snapshot, error) {
	if !l.cfg.chunked || snap.Data != nil || snap.IsEmpty() {
		return snap, nil
	}
	if held, err := l.cfg.Disk.Storage().Snapshot(); err == nil && held.Data != nil &&
		held.Metadata.Index == snap.Metadata.Index && held.Metadata.Term == snap.Metadata.Term {
		snap.Data = held.Data
		return snap, nil
	}
	cd, err := l.chunkDisk()
	if err != nil {
		return snap, err
	}
	data, err := cd.Chunks(snap.Metadata.Index, snap.Metadata.Term)
	if err != nil {
		return snap, err
	}
	snap.Data = data
	return snap, nil
}
