package rafttest

import (
	"github.com/tickraft/raft"
	"github.com/tickraft/raft/raftpb"
)

// Campaign makes node id start an election now.
func (env *Env) Campaign(id uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.Campaign()
}

// Propose proposes data on node id. On the leader it returns the index and
// term the entry was given; a follower forwards it and returns zeros.
func (env *Env) Propose(id uint64, data []byte) (index, term uint64, err error) {
	rn, err := env.running(id)
	if err != nil {
		return 0, 0, err
	}
	return rn.Propose(data)
}

// ProposeConfChange proposes a membership change on node id.
func (env *Env) ProposeConfChange(id uint64, cc raftpb.ConfChangeI) (index, term uint64, err error) {
	rn, err := env.running(id)
	if err != nil {
		return 0, 0, err
	}
	return rn.ProposeConfChange(cc)
}

// TickElection lets an election timeout pass on node id.
//
// A follower or candidate is ticked one tick at a time until it campaigns
// (its role or term changes, or it has work to hand out where it had none),
// and at most 2*ElectionTick-1 times: the randomized timeout is below
// 2*ElectionTick, so a node that may campaign does, exactly once. A leader
// is ticked ElectionTick times: one CheckQuorum interval, with the
// heartbeats it sends on the way.
func (env *Env) TickElection(id uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	n := env.nodes[id]
	if rn.BasicStatus().RaftState == raft.StateLeader {
		for i := 0; i < n.electionTick(); i++ {
			rn.Tick()
		}
		return nil
	}
	tickUntilCampaign(rn, 2*n.electionTick()-1)
	return nil
}

// tickUntilCampaign ticks rn until it starts an election, at most max
// times.
func tickUntilCampaign(rn *raft.RawNode, max int) {
	before := rn.BasicStatus()
	hadReady := rn.HasReady()
	for i := 1; i <= max; i++ {
		rn.Tick()
		now := rn.BasicStatus()
		if now.RaftState != before.RaftState || now.Term != before.Term || (!hadReady && rn.HasReady()) {
			return
		}
	}
}

// TickHeartbeat ticks node id HeartbeatTick times: a leader sends its
// heartbeats.
func (env *Env) TickHeartbeat(id uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	for i := 0; i < env.nodes[id].heartbeatTick(); i++ {
		rn.Tick()
	}
	return nil
}

// TransferLeader asks node from to hand leadership to node to (thesis
// §3.10) and returns the library's refusal, if any. On the leader it starts
// the transfer; on a follower only a transfer to itself is forwarded.
func (env *Env) TransferLeader(from, to uint64) error {
	rn, err := env.running(from)
	if err != nil {
		return err
	}
	return rn.TransferLeader(to)
}

// ReportUnreachable tells node id that its last message to peer was lost.
func (env *Env) ReportUnreachable(id, peer uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	rn.ReportUnreachable(peer)
	return nil
}

// ReportPeerDown tells node id that peer is suspected down and returns
// the library's refusal, if any.
func (env *Env) ReportPeerDown(id, peer uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.ReportPeerDown(peer)
}

// TickN hands node id n ticks at once.
func (env *Env) TickN(id uint64, n int) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	rn.TickN(n)
	return nil
}

// ForgetLeader makes node id forget its leader.
func (env *Env) ForgetLeader(id uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.ForgetLeader()
}

// Status returns the status of node id.
func (env *Env) Status(id uint64) (raft.Status, error) {
	rn, err := env.running(id)
	if err != nil {
		return raft.Status{}, err
	}
	return rn.Status(), nil
}

// Step hands m to node id directly, bypassing the network and partitions,
// as a faulty or malicious peer could, whether or not m is addressed to
// id. It returns Step's error.
func (env *Env) Step(id uint64, m raftpb.Message) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.Step(m)
}

// ReadIndex asks node id for a linearizable read identified by ctx (thesis
// §6.4) and returns the library's refusal, if any. The answer comes as a
// ReadState in a later Ready.
func (env *Env) ReadIndex(id uint64, ctx []byte) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.ReadIndex(ctx)
}

// ReadLocal asks node id for a monotonic local read at or after minIndex
// and returns the library's refusal, if any.
func (env *Env) ReadLocal(id uint64, ctx []byte, minIndex uint64) error {
	rn, err := env.running(id)
	if err != nil {
		return err
	}
	return rn.ReadLocal(ctx, minIndex)
}
