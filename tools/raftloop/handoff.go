package raftloop

import (
	"errors"
	"fmt"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// Job is storage work of the asynchronous mode that the loop hands to the
// application's own worker (Config.HandOff) instead of doing it on its
// goroutine: a write the node handed out (MsgStorageAppend) or a snapshot
// chunk to save (MsgSnapChunk). The worker makes it durable on a
// goroutine of its own, as it likes (one sync for several jobs), and the
// loop's goroutine then reports it with [Loop.Completed]. The loop keeps
// the job's acknowledgements until then.
//
// A job's slices (Entries, Snapshot.Data, Chunk.Data) belong to the node:
// the worker reads them and must not modify them.
type Job struct {
	// Seq numbers the jobs handed off by one Loop, from 1, in the order
	// the node handed them out. Completed takes it back.
	Seq uint64
	// Snapshot, Entries and HardState are a write's, to be saved in that
	// order as Disk.Save saves them: the snapshot (empty when none; its
	// data assembled when it arrived in chunks), then the entries
	// (replacing any stored at the same or later indexes), then the hard
	// state (empty when it did not change).
	Snapshot  raftpb.Snapshot
	Entries   []raftpb.Entry
	HardState raftpb.HardState
	// Chunk is the snapshot chunk to save durably, as ChunkDisk.SaveChunk
	// saves it; nil for a write.
	Chunk *raftpb.Chunk
}

// ErrCompletion is wrapped by the error Completed returns for a Seq that
// names no job waiting for its completion: one never handed off, or one
// already completed.
var ErrCompletion = errors.New("raftloop: completion of no job waiting")

// ErrNotSnapshotWork is wrapped by the error of Loop.DoSnapshotWork for a
// message that is neither a chunk request nor a chunk to save.
var ErrNotSnapshotWork = errors.New("raftloop: not snapshot work")

// handoff is a job handed off and the acknowledgements it holds back
// until it completes.
type handoff struct {
	seq   uint64
	done  bool
	resps []raftpb.Message
}

// handOffs turns the append worker's messages and the snapshot chunks
// to save of a Ready into jobs, numbered in order, and keeps their
// responses.
func (l *Loop) handOffs(msgs []raftpb.Message) ([]Job, error) {
	var jobs []Job
	for _, m := range msgs {
		j := Job{}
		if m.Type == raftpb.MsgSnapChunk {
			c, err := raftpb.ParseChunk(m)
			if err != nil {
				return nil, err
			}
			j.Chunk = &c
		} else {
			if m.Snapshot != nil {
				j.Snapshot = *m.Snapshot
			}
			j.Entries, j.HardState = m.Entries, m.StorageAppendHardState()
		}
		l.qs().handedSeq++
		j.Seq = l.qs().handedSeq
		l.qs().handed = append(l.qs().handed, handoff{seq: j.Seq, resps: m.Responses})
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// handsOff reports whether m is work the loop hands to Config.HandOff.
func (l *Loop) handsOff(m raftpb.Message) bool {
	if l.cfg.HandOff == nil {
		return false
	}
	return m.To == raft.LocalAppendThread || (m.To == raft.LocalSnapshotThread && m.Type == raftpb.MsgSnapChunk)
}

// HandedOff returns the number of jobs handed to Config.HandOff whose
// acknowledgements are not yet delivered.
func (l *Loop) HandedOff() int { return len(l.peek().handed) }

// Completed reports that the job numbered seq, handed to Config.HandOff,
// is durable: a write saved and synced (and, when the Disk's Storage is
// not the worker's, recorded in that Storage first), a chunk saved. It
// must be called on the loop's goroutine. The loop delivers the
// acknowledgements of the jobs in the order they were handed off: those
// of seq once every job handed off before it has completed too, and then
// those of the completed jobs after it, each job's responses in order
// (those to this node through Step, the others to the Network). A job
// completed ahead of an earlier one thus waits for it, and a completion
// that never comes holds back every later acknowledgement.
//
// A seq that names no job waiting (never handed off, or completed
// already) is refused with an error wrapping ErrCompletion and changes
// nothing. An error from the node is a broken contract, as for RunAppend.
func (l *Loop) Completed(seq uint64) error {
	i, ok := l.waiting(seq)
	if !ok {
		q := l.peek()
		return fmt.Errorf("%w: job %d (%d handed off, %d waiting)", ErrCompletion, seq, q.handedSeq, len(q.handed))
	}
	l.qs().handed[i].done = true
	return l.deliverCompleted()
}

// waiting returns the position in the queue of the job numbered seq, if
// it waits for its completion.
func (l *Loop) waiting(seq uint64) (int, bool) {
	q := l.peek()
	if len(q.handed) == 0 || seq < q.handed[0].seq {
		return 0, false
	}
	i := int(seq - q.handed[0].seq)
	if i >= len(q.handed) || q.handed[i].done {
		return 0, false
	}
	return i, true
}

// deliverCompleted delivers the acknowledgements of the completed jobs at
// the head of the queue, oldest first: a write's acknowledgements go out
// only once it and every earlier write are durable (thesis §3.8).
func (l *Loop) deliverCompleted() error {
	q := l.peek()
	for len(q.handed) > 0 && q.handed[0].done {
		h := q.handed[0]
		q.handed[0] = handoff{}
		q.handed = q.handed[1:]
		if err := l.deliver(h.resps); err != nil {
			return err
		}
	}
	return nil
}
