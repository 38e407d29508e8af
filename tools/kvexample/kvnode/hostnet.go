package kvnode

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/tickraft/raft/tools/kvexample/transport"
)

// socketNet is a host's network: the TCP transport in its group mode
// (transport.Config.Groups), one connection per pair of processes, whose
// writer puts everything queued for a peer into one frame per flush, so
// that the messages of a round to a peer, of every group, leave together.
type socketNet struct {
	tr *transport.Transport
}

// startSocketNet starts the host's transport. Its bound on the messages
// one peer may make the host step per second is Config.MaxRecvMsgsPerSec
// per group. Its queue per peer holds queuedPerGroup messages per group,
// so that one round of every group (a heartbeat, an answer, an append)
// never overflows it: an overflow drops messages and reports the peer
// unreachable, which would wake the groups it leads (peersDown). The
// number of groups and their first voters are its GroupLayout: a process
// started with another number, which would route keys to other groups, or
// with other first voters, which would bootstrap groups on a
// configuration the others never had, is refused. Its
// HostsGroup is the set of groups with a replica here (hostedSet): the
// messages of other groups are dropped there, but for those only a
// group's leader sends, which may create a replica (replicaOnDemand),
// and removed notices.
func (h *Host) startSocketNet(logger *slog.Logger) (groupNet, error) {
	c := &h.cfg
	peers := map[uint64]string{}
	for _, p := range c.Peers {
		peers[p.ID] = p.RaftAddr
	}
	tr, err := transport.New(transport.Config{
		ID: c.ID, ListenAddr: c.RaftAddr, Listener: c.RaftListener, Peers: peers,
		Groups: true, HostsGroup: h.hosted.hosts,
		Unreachable: h.unreachable.push, Logger: logger,
		MinBackoff:      min(transport.DefaultMinBackoff, c.TickInterval),
		MaxBackoff:      min(transport.DefaultMaxBackoff, c.TickInterval*time.Duration(c.ElectionTicks)/2),
		MaxInboundConns: c.MaxInboundConns, MaxFrameBytes: c.MaxFrameBytes,
		FrameTimeout: c.FrameTimeout, MaxRecvMsgsPerSec: c.MaxRecvMsgsPerSec * len(h.groups),
		MaxQueueMsgs: max(transport.DefaultMaxQueueMsgs, queuedPerGroup*len(h.groups)),
		TLS:          c.TLS, ClusterID: c.ClusterID, GroupLayout: groupLayout(len(h.groups), c.firstVoters()),
	})
	c.RaftListener = nil
	if err != nil {
		return nil, err
	}
	h.tr = tr
	return socketNet{tr: tr}, nil
}

// queuedPerGroup is how many messages per group a host's queue to a peer
// holds.
const queuedPerGroup = 8

// groupLayout is the transport's GroupLayout of a host of groups groups
// that started on voters.
func groupLayout(groups int, voters []uint64) string {
	return "groups=" + strconv.Itoa(groups) + " voters=" + idList(voters)
}

func (n socketNet) send(msgs []groupMsg) { n.tr.SendGroups(msgs) }

func (n socketNet) receive() <-chan []groupMsg { return n.tr.ReceiveGroups() }

func (n socketNet) close() error { return n.tr.Close() }
