package raftloop

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// Pending is a Ready of the synchronous loop whose write was saved and
// whose Messages were sent, waiting for the write to be durable.
type Pending struct {
	rd raft.Ready
}

// MustSync reports whether the write must be synced before FinishReady.
func (p *Pending) MustSync() bool { return p.rd.MustSync }

// Ready returns the Ready being handled, its snapshot's data assembled.
// It must not be modified.
func (p *Pending) Ready() *raft.Ready { return &p.rd }

// HandleReady handles the node's next Ready, if it has one. In the
// synchronous loop it does the whole of it, in the order of the package
// documentation; in the asynchronous mode it routes the Ready's messages
// to the workers' queues and the network.
func (l *Loop) HandleReady() error {
	_, err := l.NextReady()
	return err
}

// NextReady is HandleReady, reporting whether the node had a Ready: a
// driver that handles Readys until the node has none calls it until it
// reports false, asking the node once per Ready whether it has one
// (HasReady, then HandleReady, would ask twice).
func (l *Loop) NextReady() (handled bool, err error) {
	if !l.rn.HasReady() {
		return false, nil
	}
	var rd raft.Ready
	l.rn.ReadyInto(&rd)
	if l.async() {
		return true, l.routeAsync(rd)
	}
	if err := l.begin(&rd); err != nil {
		return true, err
	}
	if rd.MustSync {
		if err := l.cfg.Disk.Sync(); err != nil {
			return true, err
		}
	}
	return true, l.finish(&rd)
}

// async reports whether the node runs in the asynchronous storage mode.
func (l *Loop) async() bool { return l.cfg.async }

// BeginReady takes the node's next Ready in the synchronous loop, saves
// its Snapshot, Entries and HardState to the Disk as one write and sends
// its Messages, which may leave before the write is durable (thesis
// §10.2.1). The caller makes the write durable (Disk.Sync, when
// Pending.MustSync) and then calls FinishReady. It returns nil when the
// node has no Ready.
func (l *Loop) BeginReady() (*Pending, error) {
	if !l.rn.HasReady() {
		return nil, nil
	}
	p := &Pending{rd: l.rn.Ready()}
	if err := l.begin(&p.rd); err != nil {
		return nil, err
	}
	return p, nil
}

// begin does the first half of a synchronous Ready: save, then send
// Messages.
func (l *Loop) begin(rd *raft.Ready) error {
	if l.cfg.OnReady != nil {
		l.cfg.OnReady(*rd)
	}
	if !rd.Snapshot.IsEmpty() {
		snap, err := l.assemble(rd.Snapshot)
		if err != nil {
			return err
		}
		rd.Snapshot = snap
	}
	if holdsWrite(rd) {
		if err := l.cfg.Disk.Save(rd.HardState, rd.Entries, rd.Snapshot); err != nil {
			return err
		}
	}
	for _, m := range rd.LocalMessages {
		l.queueSnapshotWork(m)
	}
	l.send(rd.Messages)
	return nil
}

// holdsWrite reports whether rd has anything to persist: a Ready that
// only sends messages (an idle group's heartbeats) makes no write.
func holdsWrite(rd *raft.Ready) bool {
	return !rd.HardState.IsEmpty() || len(rd.Entries) > 0 || !rd.Snapshot.IsEmpty()
}

// FinishReady completes p once its write is durable: it sends the
// MessagesAfterPersist, restores the Snapshot and applies the
// CommittedEntries, releases the reads the applied state covers, and
// calls Advance.
func (l *Loop) FinishReady(p *Pending) error { return l.finish(&p.rd) }

// finish does the second half of a synchronous Ready, once its write is
// durable.
func (l *Loop) finish(rd *raft.Ready) error {
	l.send(rd.MessagesAfterPersist)
	if !rd.Snapshot.IsEmpty() {
		if err := l.restore(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := l.apply(rd.CommittedEntries); err != nil {
		return err
	}
	l.release(rd.ReadStates)
	l.rn.Advance()
	return nil
}

// send hands msgs to the network.
func (l *Loop) send(msgs []raftpb.Message) {
	if len(msgs) > 0 {
		l.cfg.Network.Send(msgs)
	}
}
