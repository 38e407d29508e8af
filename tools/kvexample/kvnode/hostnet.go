package kvnode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/kvexample/transport"
)

// carrierMagic opens the Context of a carrier message: the messages of
// several groups from one process to another, sent as one message, so
// one frame, of the transport.
const carrierMagic = "tkg1"

// maxCarrierBytes bounds the group messages packed in one carrier; a
// round's messages to a peer beyond it take several.
const maxCarrierBytes = 1 << 20

// errCarrier is wrapped by the errors of a carrier that does not decode.
var errCarrier = errors.New("kvnode: malformed group carrier")

// socketNet is a host's network over the TCP transport (one connection
// per pair of processes): each send packs the messages of every group for
// a peer into carrier messages (a MsgApp whose Context holds them, each
// tagged with its group), so that one flush of a round writes one frame
// per peer whatever the number of groups. A goroutine unpacks the
// carriers received.
type socketNet struct {
	tr   *transport.Transport
	self uint64
	log  *slog.Logger
	in   chan []groupMsg
	done chan struct{}
	wg   sync.WaitGroup
}

// startSocketNet starts the host's transport and its network.
func (h *Host) startSocketNet(logger *slog.Logger) (groupNet, error) {
	c := &h.cfg
	peers := map[uint64]string{}
	for _, p := range c.Peers {
		peers[p.ID] = p.RaftAddr
	}
	tr, err := transport.New(transport.Config{
		ID: c.ID, ListenAddr: c.RaftAddr, Listener: c.RaftListener, Peers: peers,
		Unreachable: h.unreachable.push, Logger: logger,
		MinBackoff:      min(transport.DefaultMinBackoff, c.TickInterval),
		MaxBackoff:      min(transport.DefaultMaxBackoff, c.TickInterval*time.Duration(c.ElectionTicks)/2),
		MaxInboundConns: c.MaxInboundConns, MaxFrameBytes: c.MaxFrameBytes,
		FrameTimeout: c.FrameTimeout, MaxRecvMsgsPerSec: c.MaxRecvMsgsPerSec, TLS: c.TLS, ClusterID: c.ClusterID,
	})
	c.RaftListener = nil
	if err != nil {
		return nil, err
	}
	h.tr = tr
	n := &socketNet{tr: tr, self: c.ID, log: h.log, in: make(chan []groupMsg, 64), done: make(chan struct{})}
	n.wg.Add(1)
	go n.unpackLoop()
	return n, nil
}

// send packs msgs by peer into carriers and hands them to the transport.
func (n *socketNet) send(msgs []groupMsg) {
	var carriers []raftpb.Message
	byPeer := map[uint64][]byte{}
	var order []uint64
	for i := range msgs {
		to := msgs[i].msg.To
		buf, ok := byPeer[to]
		if !ok {
			order = append(order, to)
			buf = []byte(carrierMagic)
		}
		if len(buf) > maxCarrierBytes {
			carriers = append(carriers, n.carrier(to, buf))
			buf = []byte(carrierMagic)
		}
		byPeer[to] = appendGroupMsg(buf, &msgs[i])
	}
	for _, to := range order {
		carriers = append(carriers, n.carrier(to, byPeer[to]))
	}
	n.tr.Send(carriers)
}

// carrier is the carrier message of packed to peer to.
func (n *socketNet) carrier(to uint64, packed []byte) raftpb.Message {
	return raftpb.Message{Type: raftpb.MsgApp, From: n.self, To: to, Context: packed}
}

// appendGroupMsg appends gm to a carrier's Context: its group, its
// message's length and the message.
func appendGroupMsg(buf []byte, gm *groupMsg) []byte {
	buf = binary.AppendUvarint(buf, gm.group)
	buf = binary.AppendUvarint(buf, uint64(gm.msg.Size()))
	return gm.msg.AppendMarshal(buf)
}

// unpackCarrier returns the group messages of a carrier from process
// from. A carrier that does not decode, or holds a message that is not
// from its sender, is refused whole.
func unpackCarrier(m *raftpb.Message) ([]groupMsg, error) {
	rest, ok := bytes.CutPrefix(m.Context, []byte(carrierMagic))
	if !ok || m.Type != raftpb.MsgApp {
		return nil, fmt.Errorf("%w: no carrier magic", errCarrier)
	}
	var out []groupMsg
	for len(rest) > 0 {
		group, k := binary.Uvarint(rest)
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad group", errCarrier)
		}
		rest = rest[k:]
		size, k := binary.Uvarint(rest)
		if k <= 0 || size > uint64(len(rest)-k) {
			return nil, fmt.Errorf("%w: bad length", errCarrier)
		}
		rest = rest[k:]
		var gm groupMsg
		gm.group = group
		if err := gm.msg.Unmarshal(rest[:size]); err != nil {
			return nil, fmt.Errorf("%w: %w", errCarrier, err)
		}
		if gm.msg.From != m.From || gm.msg.To != m.To {
			return nil, fmt.Errorf("%w: message %d->%d in a carrier %d->%d", errCarrier, gm.msg.From, gm.msg.To, m.From, m.To)
		}
		rest = rest[size:]
		out = append(out, gm)
	}
	return out, nil
}

// unpackLoop unpacks received carriers until close.
func (n *socketNet) unpackLoop() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case m := <-n.tr.Receive():
			batch, err := unpackCarrier(&m)
			if err != nil {
				n.log.Warn("dropping a carrier", "from", m.From, "error", err)
				continue
			}
			select {
			case n.in <- batch:
			case <-n.done:
				return
			}
		}
	}
}

func (n *socketNet) receive() <-chan []groupMsg { return n.in }

func (n *socketNet) frames() (sent, received uint64) {
	st := n.tr.Stats()
	return st.FramesSent, st.FramesReceived
}

// close closes the transport and stops the unpacking.
func (n *socketNet) close() error {
	err := n.tr.Close()
	close(n.done)
	n.wg.Wait()
	return err
}
