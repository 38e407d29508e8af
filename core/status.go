package core

import (
	"github.com/tickraft/raft/tracker"
)

// Status is a full view of a node: its basic status, and on the leader the
// configuration and a copy of each peer's progress.
type Status struct {
	BasicStatus
	Config   tracker.Config
	Progress map[uint64]tracker.Progress
	// UncommittedBytes is the payload of the leader's uncommitted tail.
	UncommittedBytes uint64
}

// Status returns a copy of the node's state; it allocates, unlike
// BasicStatus.
func (r *Raft) Status() Status {
	s := Status{BasicStatus: r.BasicStatus(), Config: r.trk.Config.Clone()}
	if r.state != StateLeader {
		return s
	}
	s.UncommittedBytes = r.uncommittedSize
	s.Progress = make(map[uint64]tracker.Progress, len(r.trk.Progress))
	r.trk.Visit(func(id uint64, pr *tracker.Progress) {
		p := *pr
		p.Inflights = pr.Inflights.Clone()
		s.Progress[id] = p
	})
	return s
}
