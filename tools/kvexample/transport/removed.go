package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// RemovedNoticeBytes is the length of the notice a node writes back on an
// incoming connection from a node it has applied the removal of: the
// magic "tkrX" and the index of the removal as an 8-byte big-endian
// integer. It is the only thing ever written back on a connection.
const RemovedNoticeBytes = 4 + 8

// removedMagic opens a removed notice.
const removedMagic = "tkrX"

// errRemovedPeer ends an incoming connection from a removed node.
var errRemovedPeer = errors.New("transport: the sender was removed from the cluster")

// AppendRemovedNotice appends the notice that the recipient was removed at
// index.
func AppendRemovedNotice(buf []byte, index uint64) []byte {
	buf = append(buf, removedMagic...)
	return binary.BigEndian.AppendUint64(buf, index)
}

// tellRemoved answers a connection from node from, which this node applied
// the removal of at index, with the notice, and ends the connection.
func (t *Transport) tellRemoved(conn net.Conn, from, index uint64) error {
	conn.SetWriteDeadline(time.Now().Add(t.cfg.HelloTimeout))
	conn.Write(AppendRemovedNotice(nil, index))
	t.log.Info("told a removed node it was removed", "peer", from, "index", index)
	return fmt.Errorf("%w: node %d at index %d", errRemovedPeer, from, index)
}

// readRemovedNotice reads what a peer writes back on an outgoing
// connection until it closes, and returns the index of a removed notice,
// or 0 when the connection ended without one.
func readRemovedNotice(r io.Reader) uint64 {
	var b [RemovedNoticeBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil || string(b[:4]) != removedMagic {
		return 0
	}
	return binary.BigEndian.Uint64(b[4:])
}
