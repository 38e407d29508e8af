package transport

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tickraft/raft/raftpb"
)

// HelloBytes is the length of the hello that opens every connection: the
// magic "tkr\x02", the sender's ID, the recipient's ID and the cluster's
// token (see the package documentation).
const HelloBytes = 4 + 8 + 8 + 8

// FrameHeaderBytes is the length of the big-endian length prefix of a frame.
const FrameHeaderBytes = 4

// helloMagic opens every hello of a single-group transport; its last
// byte is the format version.
const helloMagic = "tkr\x02"

// groupsHelloMagic opens every hello of a multi-group transport
// (Config.Groups): format version 3, whose frames are batches.
const groupsHelloMagic = "tkr\x03"

// initialBodyBytes is the most ReadFrame allocates for a frame before any
// of its bytes arrived; the buffer doubles as they do.
const initialBodyBytes = 64 << 10

// ErrMalformed is wrapped by every error that means a peer sent bytes that
// break the framing: a bad hello, a length above the limit, a message that
// does not decode or does not fit its connection. Errors of the connection
// itself (io.EOF, io.ErrUnexpectedEOF, network errors) do not wrap it.
var ErrMalformed = errors.New("transport: malformed input")

// ErrGroupMode is wrapped, with ErrMalformed, by the error for a hello of
// the other mode: a multi-group hello received by a single-group transport
// or the reverse. Such connections are counted in Stats.GroupModeErrors.
var ErrGroupMode = errors.New("peer runs the other group mode")

// ErrFrameTooLarge is wrapped, with ErrMalformed, by the error for a frame
// whose length prefix exceeds the limit.
var ErrFrameTooLarge = errors.New("frame too large")

// AppendHello appends the hello of a connection from node from to node to
// of a transport with no cluster ID.
func AppendHello(buf []byte, from, to uint64) []byte {
	return AppendClusterHello(buf, "", from, to)
}

// AppendClusterHello appends the hello of a connection from node from to
// node to of cluster.
func AppendClusterHello(buf []byte, cluster string, from, to uint64) []byte {
	buf = append(buf, helloMagic...)
	buf = binary.BigEndian.AppendUint64(buf, from)
	buf = binary.BigEndian.AppendUint64(buf, to)
	return binary.BigEndian.AppendUint64(buf, ClusterToken(cluster))
}

// ClusterToken is the 8 bytes that stand for a cluster ID in a hello: the
// first 8 bytes of its SHA-256, or zero for no cluster ID. It tells
// misconfigured clusters apart; it proves nothing (see TLSConfig).
func ClusterToken(cluster string) uint64 {
	if cluster == "" {
		return 0
	}
	sum := sha256.Sum256([]byte(cluster))
	return binary.BigEndian.Uint64(sum[:8])
}

// ReadHello reads a hello from r for a transport with no cluster ID; see
// ReadClusterHello.
func ReadHello(r io.Reader, local uint64) (from uint64, err error) {
	return ReadClusterHello(r, "", local)
}

// ReadClusterHello reads a hello from r and returns the sender's ID. It
// fails with an error wrapping ErrMalformed when the magic is wrong, the
// sender is zero or local, or the recipient is not local, and with one
// wrapping ErrIdentity when the hello is from another cluster.
// A multi-group hello fails with an error wrapping ErrGroupMode.
func ReadClusterHello(r io.Reader, cluster string, local uint64) (from uint64, err error) {
	return readHello(r, cluster, local, helloMagic, groupsHelloMagic)
}

// GroupsToken is what a multi-group transport of cluster with the given
// Config.GroupLayout passes as its cluster to AppendGroupsHello and
// ReadGroupsHello: cluster itself for an empty layout, else cluster and
// layout joined by a NUL byte, so that the hello's token (ClusterToken)
// differs between layouts.
func GroupsToken(cluster, layout string) string {
	if layout == "" {
		return cluster
	}
	return cluster + "\x00" + layout
}

// AppendGroupsHello appends the hello of a multi-group connection from
// process from to process to of cluster: a hello with the magic "tkr\x03".
func AppendGroupsHello(buf []byte, cluster string, from, to uint64) []byte {
	buf = append(buf, groupsHelloMagic...)
	buf = binary.BigEndian.AppendUint64(buf, from)
	buf = binary.BigEndian.AppendUint64(buf, to)
	return binary.BigEndian.AppendUint64(buf, ClusterToken(cluster))
}

// ReadGroupsHello is ReadClusterHello for a multi-group transport: it
// expects the hello of AppendGroupsHello and fails on a single-group hello
// with an error wrapping ErrGroupMode.
func ReadGroupsHello(r io.Reader, cluster string, local uint64) (from uint64, err error) {
	return readHello(r, cluster, local, groupsHelloMagic, helloMagic)
}

// readHello reads a hello that must open with magic; otherMode is the
// magic of the other group mode, refused with ErrGroupMode.
func readHello(r io.Reader, cluster string, local uint64, magic, otherMode string) (from uint64, err error) {
	var b [HelloBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	if string(b[:4]) == otherMode {
		return 0, fmt.Errorf("%w: %w: hello from node %d has magic %q, want %q", ErrMalformed, ErrGroupMode,
			binary.BigEndian.Uint64(b[4:12]), b[:4], magic)
	}
	if string(b[:4]) != magic {
		return 0, fmt.Errorf("%w: hello has magic %q, want %q", ErrMalformed, b[:4], magic)
	}
	from = binary.BigEndian.Uint64(b[4:12])
	to := binary.BigEndian.Uint64(b[12:20])
	token := binary.BigEndian.Uint64(b[20:28])
	switch {
	case token != ClusterToken(cluster):
		return 0, fmt.Errorf("%w: hello from node %d of another cluster or group layout (token %x, want %x)", ErrIdentity, from, token, ClusterToken(cluster))
	case from == 0 || from == local:
		return 0, fmt.Errorf("%w: hello from node %d to node %d", ErrMalformed, from, local)
	case to != local:
		return 0, fmt.Errorf("%w: hello addressed to node %d, this is node %d", ErrMalformed, to, local)
	}
	return from, nil
}

// AppendFrame appends the frame of m (its length prefix and its encoding)
// to buf and returns the extended slice.
func AppendFrame(buf []byte, m *raftpb.Message) []byte {
	return appendFrame(buf, m, m.Size())
}

// appendFrame is AppendFrame for a message whose encoded size the caller
// already knows (a queued message carries it), sparing a walk over its
// entries.
func appendFrame(buf []byte, m *raftpb.Message, size int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(size))
	return m.AppendMarshal(buf)
}

// ReadFrame reads one frame from r and decodes its message. A length above
// maxFrameBytes fails with ErrFrameTooLarge before anything is allocated
// for the body, and the body's buffer grows only as its bytes arrive. The
// message's byte fields alias a buffer allocated for this frame alone, so
// the caller owns the message outright. Malformed input returns an error
// wrapping ErrMalformed; a connection that ends returns io.EOF (between
// frames) or io.ErrUnexpectedEOF (inside one).
func ReadFrame(r io.Reader, maxFrameBytes int) (raftpb.Message, error) {
	var hdr [FrameHeaderBytes]byte
	m, _, err := readFrame(r, &hdr, maxFrameBytes)
	return m, err
}

// readFrame is ReadFrame reading the prefix into hdr (which a connection
// reuses, sparing an allocation per frame) and also returning the frame's
// length with its prefix.
func readFrame(r io.Reader, hdr *[FrameHeaderBytes]byte, maxFrameBytes int) (raftpb.Message, int, error) {
	body, err := readFrameBody(r, hdr, maxFrameBytes)
	if err != nil {
		return raftpb.Message{}, 0, err
	}
	var m raftpb.Message
	if err := m.Unmarshal(body); err != nil {
		return raftpb.Message{}, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, FrameHeaderBytes + len(body), nil
}

// readFrameBody reads one frame's length prefix into hdr and then its body
// into a buffer allocated for it alone, refusing a length above
// maxFrameBytes before allocating anything.
func readFrameBody(r io.Reader, hdr *[FrameHeaderBytes]byte, maxFrameBytes int) ([]byte, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(maxFrameBytes) {
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrMalformed, ErrFrameTooLarge, n, maxFrameBytes)
	}
	return readBody(r, int(n))
}

// readBody reads exactly n bytes from r into a new buffer that starts at
// no more than initialBodyBytes and doubles, capped at n, as bytes arrive.
func readBody(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, min(n, initialBodyBytes))
	filled := 0
	for {
		k, err := io.ReadFull(r, buf[filled:])
		filled += k
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the header was read: we are inside a frame
		}
		if err != nil {
			return nil, err
		}
		if filled == n {
			return buf, nil
		}
		grown := make([]byte, min(2*len(buf), n))
		copy(grown, buf)
		buf = grown
	}
}
