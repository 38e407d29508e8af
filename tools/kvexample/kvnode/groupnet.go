package kvnode

import "github.com/tickraft/raft/tools/kvexample/transport"

// groupMsg is a Raft message of one group, as the transport's group mode
// carries it. Under the replica-ID rule its From and To are process IDs.
type groupMsg = transport.GroupMessage

// groupNet is what a Host needs of its network: the messages of many
// groups sent in one call (the messages of one round, which a transport
// may carry to each peer in one frame), and received in batches.
type groupNet interface {
	// send queues msgs for their peers and returns at once; it retains
	// them (their payloads must not be modified). A message that cannot
	// be queued is dropped: Raft retransmits.
	send(msgs []groupMsg)
	// receive returns the channel of received batches; each belongs to
	// the receiver.
	receive() <-chan []groupMsg
	// close stops the network abruptly.
	close() error
}
