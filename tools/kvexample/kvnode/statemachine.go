package kvnode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tickraft/raft/raftpb"
)

// The state machine: a map of keys to values, plus the addresses of the
// members added through conf changes. Both are derived from the log alone,
// so that every member holds the same state at the same applied index and
// serializes it to the same bytes (Config.SnapshotInterval promises the
// library that snapshots at the same index are byte-identical, which lets
// followers serve chunks of them). Addresses given by flags are kept out of
// it for the same reason: two members may spell the same address
// differently.

// The operations of a command entry.
const (
	opPut    byte = 'P'
	opDelete byte = 'D'
)

// snapMagic opens every snapshot's data: the format and its version.
const snapMagic = "kvsnap1\n"

// errMalformed is wrapped by every decoding error of this file.
var errMalformed = errors.New("kvnode: malformed data")

// Member is the pair of addresses of a member: where its transport listens
// and where its HTTP API does.
type Member struct {
	Raft string `json:"raft"`
	HTTP string `json:"http"`
}

// stateMachine is the replicated state. The event loop owns it.
type stateMachine struct {
	kv      map[string][]byte
	members map[uint64]Member
}

func newStateMachine() *stateMachine {
	return &stateMachine{kv: map[string][]byte{}, members: map[uint64]Member{}}
}

// encodeCommand returns the entry data of a put (op opPut) or a delete.
func encodeCommand(op byte, key string, value []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(value))
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, value...)
}

// decodeCommand reads the entry data written by encodeCommand. The value
// aliases data.
func decodeCommand(data []byte) (op byte, key string, value []byte, err error) {
	if len(data) == 0 || (data[0] != opPut && data[0] != opDelete) {
		return 0, "", nil, fmt.Errorf("%w: unknown command", errMalformed)
	}
	n, k := binary.Uvarint(data[1:])
	if k <= 0 || n > uint64(len(data)-1-k) {
		return 0, "", nil, fmt.Errorf("%w: bad key length", errMalformed)
	}
	rest := data[1+k:]
	return data[0], string(rest[:n]), rest[n:], nil
}

// apply applies a command entry's data. A malformed command is refused the
// same way on every member, so it changes nothing anywhere.
func (sm *stateMachine) apply(data []byte) error {
	op, key, value, err := decodeCommand(data)
	if err != nil {
		return err
	}
	if op == opDelete {
		delete(sm.kv, key)
		return nil
	}
	sm.kv[key] = value
	return nil
}

// memberContext is the Context of the conf changes this server proposes:
// the node a change is about and its addresses.
type memberContext struct {
	ID uint64 `json:"id"`
	Member
}

// applyConfChange records the addresses a conf change carries, and forgets
// the members it removes. A context it cannot read names no addresses.
func (sm *stateMachine) applyConfChange(cc raftpb.ConfChangeV2) {
	var ctx memberContext
	if len(cc.Context) > 0 && json.Unmarshal(cc.Context, &ctx) != nil {
		ctx = memberContext{}
	}
	for _, c := range cc.Changes {
		switch c.Type {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			if ctx.ID == c.NodeID && ctx.Raft != "" {
				sm.members[c.NodeID] = ctx.Member
			}
		case raftpb.ConfChangeRemoveNode:
			delete(sm.members, c.NodeID)
		}
	}
}

// encode serializes the state deterministically: members by ID, keys in
// order, each string and value length-prefixed.
func (sm *stateMachine) encode() []byte {
	var b bytes.Buffer
	b.WriteString(snapMagic)
	ids := slices.Sorted(maps.Keys(sm.members))
	writeUvarint(&b, uint64(len(ids)))
	for _, id := range ids {
		writeUvarint(&b, id)
		writeBytes(&b, []byte(sm.members[id].Raft))
		writeBytes(&b, []byte(sm.members[id].HTTP))
	}
	keys := slices.Sorted(maps.Keys(sm.kv))
	writeUvarint(&b, uint64(len(keys)))
	for _, k := range keys {
		writeBytes(&b, []byte(k))
		writeBytes(&b, sm.kv[k])
	}
	return b.Bytes()
}

func writeUvarint(b *bytes.Buffer, v uint64) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], v)])
}

func writeBytes(b *bytes.Buffer, p []byte) {
	writeUvarint(b, uint64(len(p)))
	b.Write(p)
}

// decodeState reads what encode wrote. Values alias data.
func decodeState(data []byte) (*stateMachine, error) {
	rest, ok := bytes.CutPrefix(data, []byte(snapMagic))
	if !ok {
		return nil, fmt.Errorf("%w: snapshot does not start with %q", errMalformed, snapMagic)
	}
	r := &reader{b: rest}
	sm := newStateMachine()
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		id := r.uvarint()
		m := Member{Raft: string(r.bytes()), HTTP: string(r.bytes())}
		sm.members[id] = m
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		k := string(r.bytes())
		sm.kv[k] = r.bytes()
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes in snapshot", errMalformed, len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return sm, nil
}

// reader decodes uvarints and length-prefixed byte strings, keeping the
// first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint in snapshot", errMalformed)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: string of %d bytes past the end of snapshot", errMalformed, n)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}
