package raftloop

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// routeAsync handles a Ready of the asynchronous storage mode, which
// carries only Messages: the storage work goes to the workers' queues,
// or to Config.HandOff, the rest to the network, so the leader's appends
// leave with its own write still on its way (thesis §10.2.1). The jobs
// are handed off before the messages are sent, so that the worker's
// write starts first.
func (l *Loop) routeAsync(rd raft.Ready) error {
	if l.cfg.OnReady != nil {
		l.cfg.OnReady(rd)
	}
	out := rd.Messages[:0:0]
	var handed []raftpb.Message
	for _, m := range rd.Messages {
		switch {
		case l.handsOff(m):
			if err := l.assembleIn(&m); err != nil {
				return err
			}
			handed = append(handed, m)
		case m.To == raft.LocalAppendThread:
			if err := l.assembleIn(&m); err != nil {
				return err
			}
			l.qs().appends = append(l.qs().appends, m)
		case m.To == raft.LocalApplyThread:
			if err := l.assembleIn(&m); err != nil {
				return err
			}
			l.qs().applies = append(l.qs().applies, m)
		case m.To == raft.LocalSnapshotThread:
			l.queueSnapshotWork(m)
		default:
			out = append(out, m)
		}
	}
	jobs, err := l.handOffs(handed)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		l.cfg.HandOff(j)
	}
	l.send(out)
	l.release(rd.ReadStates)
	return nil
}

// assembleIn gives the snapshot a storage worker's message carries its
// data, as the node hands it out: from then on the chunks of older
// snapshots may be discarded. The message's snapshot is replaced by a
// copy, since the node shares it.
func (l *Loop) assembleIn(m *raftpb.Message) error {
	if m.Snapshot == nil {
		return nil
	}
	snap, err := l.assemble(*m.Snapshot)
	if err != nil {
		return err
	}
	m.Snapshot = &snap
	return nil
}

// Appending returns the number of writes queued on the append worker.
func (l *Loop) Appending() int { return len(l.peek().appends) }

// Applying returns the number of jobs queued on the apply worker.
func (l *Loop) Applying() int { return len(l.peek().applies) }

// RunAppend completes the oldest write queued on the append worker: it
// saves the MsgStorageAppend's snapshot, entries and hard state
// (StorageAppendHardState), syncs them, and then delivers the message's Responses.
// It reports whether there was a write.
func (l *Loop) RunAppend() (bool, error) {
	if len(l.peek().appends) == 0 {
		return false, nil
	}
	m := l.qs().appends[0]
	l.qs().appends = l.qs().appends[1:]
	var snap raftpb.Snapshot
	if m.Snapshot != nil {
		snap = *m.Snapshot
	}
	hs := m.StorageAppendHardState()
	if err := l.cfg.Disk.Save(hs, m.Entries, snap); err != nil {
		return true, err
	}
	if err := l.cfg.Disk.Sync(); err != nil {
		return true, err
	}
	return true, l.deliver(m.Responses)
}

// RunApply completes the oldest job queued on the apply worker: it
// restores the MsgStorageApply's snapshot, if any, and applies its
// committed entries, then releases the reads they cover and delivers the
// message's Responses. It reports whether there was a job.
func (l *Loop) RunApply() (bool, error) {
	if len(l.peek().applies) == 0 {
		return false, nil
	}
	m := l.qs().applies[0]
	l.qs().applies = l.qs().applies[1:]
	if m.Snapshot != nil {
		if err := l.restore(*m.Snapshot); err != nil {
			return true, err
		}
	}
	if err := l.apply(m.Entries); err != nil {
		return true, err
	}
	l.release(nil)
	return true, l.deliver(m.Responses)
}

// deliver delivers a worker's responses in order: those to this node
// through Step, the others to the network. A response the node refuses is
// a broken contract (the checked mode's *raft.ContractError) and stops
// the loop.
func (l *Loop) deliver(resps []raftpb.Message) error {
	id := l.rn.BasicStatus().ID
	for i := range resps {
		if resps[i].To != id {
			l.send(resps[i : i+1 : i+1])
			continue
		}
		if err := l.stepLocal(resps[i]); err != nil {
			return err
		}
	}
	return nil
}
