package transport

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tickraft/raft/raftpb"
)

// This file holds the codec of a multi-group frame's body, a batch (see
// the package documentation, "Multi-group mode").

// GroupMessage is a message of one Raft group carried by a multi-group
// transport. Group is the group's ID, any value the application chooses;
// Message.From and Message.To are process IDs (in multi-group mode a
// group's replica on process P has replica ID P).
//
// When Removed is not zero the record is no Raft message but a removed
// notice: the sending process tells the receiving one that the receiver's
// replica of Group is not in the configuration the sender applied, and
// that the entry at index Removed, of term RemovedTerm (never zero), is
// committed and at or after the receiver's removal, so that the receiver
// can drop the replica or learn that its removal is committed (it may
// never learn it otherwise: a removed replica hears from the group no
// more). Message then holds From and To, the processes, and nothing else.
// A notice is delivered whatever Config.HostsGroup says: the replica it is
// about may be gone already.
type GroupMessage struct {
	Group       uint64
	Message     raftpb.Message
	Removed     uint64
	RemovedTerm uint64
}

// removal is a removed notice's entry (GroupMessage.Removed and
// RemovedTerm); a zero index marks a message.
type removal struct{ index, term uint64 }

// MaxBatchMsgs is the most messages one multi-group frame may carry. A
// writer starts a new frame past it; a receiver refuses a frame that
// claims more, before allocating anything for them, so that a small frame
// cannot make it allocate a message per byte.
const MaxBatchMsgs = 4096

// The errors of a batch that breaks the framing. Each is wrapped, with
// ErrMalformed, by the error DecodeBatch returns.
var (
	// ErrBatchCount: the message count is zero, above MaxBatchMsgs, more
	// than the body could hold, or disagrees with the records that follow
	// (the body ends between records before the count, or bytes remain
	// after it).
	ErrBatchCount = errors.New("batch count does not match its records")
	// ErrBatchTruncated: a record ends inside a varint or its length runs
	// past the end of the body.
	ErrBatchTruncated = errors.New("batch record truncated")
	// ErrBatchRecord: a record of an unknown kind, whose message does not
	// decode, or a removed notice whose index or term is zero or whose
	// message holds more than From and To.
	ErrBatchRecord = errors.New("bad batch record")
	// ErrBatchMisaddressed: a message that is not from the connection's
	// authenticated sender, not to the receiver, or of a local type.
	ErrBatchMisaddressed = errors.New("batch message does not fit its connection")
)

// The kinds of record in a batch; a record opens with its kind, then the
// group ID as a varint.
const (
	// recordMessage is any message: the length of its raftpb encoding as
	// a varint, then the encoding.
	recordMessage byte = 1
	// recordHeartbeat is a coalesced MsgHeartbeat: Term, Term-LogTerm
	// (how far the term stated for the commit index lies below the
	// message's, 0 in steady state: one byte whatever the term) and
	// Commit as varints, then its Context (see appendContext). From and
	// To are the connection's sender and receiver.
	recordHeartbeat byte = 2
	// recordHeartbeatResp is a coalesced MsgHeartbeatResp: Term as a
	// varint, then its Context.
	recordHeartbeatResp byte = 3
	// recordRemoved is a removed notice (GroupMessage.Removed): the index
	// and the term of the entry it names as varints (neither zero), then,
	// as recordMessage, the length and raftpb encoding of a message that
	// holds From and To alone.
	recordRemoved byte = 4
)

// The forms of a coalesced heartbeat's Context, told apart by a leading
// varint c: 0 is a nil Context; 1 a 16-byte raftpb.HeartbeatContext as
// two varints (Round, Tick); c >= 2 is c-2 raw bytes (another library's
// context, an empty one, or a HeartbeatContext whose varints would be
// longer than its bytes).
const (
	contextNil       = 0
	contextHeartbeat = 1
	contextRawBase   = 2
)

// minRecordBytes is the size of the smallest record that decodes: its
// kind, a one-byte group and a zero length (an empty message, which
// checkBatched then refuses). A coalesced heartbeat response takes at
// least 4 bytes (kind, group, term, context form), a heartbeat 6, a
// message a peer may send at least 9 (its encoding holds a Type, From
// and To).
const minRecordBytes = 3

// recordOverheadBytes bounds what a record adds to its message's raftpb
// encoding: its kind, its group and its length.
const recordOverheadBytes = 1 + 2*binary.MaxVarintLen64

// batchCountBytes bounds the size of a batch's message count (at most
// MaxBatchMsgs, two bytes as a varint).
const batchCountBytes = 3

// maxBatchedMsgBytes is the largest raftpb encoding a multi-group transport
// sends whole in a frame of at most maxFrameBytes.
func maxBatchedMsgBytes(maxFrameBytes int) int {
	return maxFrameBytes - recordOverheadBytes - batchCountBytes
}

// AppendBatch appends the frame of a batch (its length prefix and its
// body) carrying msgs, sent by process from to process to, and returns the
// extended slice. Every message must be from from and to to, or the
// receiver refuses the frame; the caller keeps within MaxBatchMsgs and the
// receiver's frame limit.
func AppendBatch(buf []byte, from, to uint64, msgs []GroupMessage) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.AppendUvarint(buf, uint64(len(msgs)))
	for i := range msgs {
		m := &msgs[i].Message
		buf = appendRecord(buf, from, to, msgs[i].Group, removal{msgs[i].Removed, msgs[i].RemovedTerm}, m, m.Size())
	}
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-FrameHeaderBytes))
	return buf
}

// recordSize returns the encoded size of the record of message m of group
// (a removed notice when rm's index is not zero), sent by process from to
// process to, whose raftpb encoding takes size bytes.
func recordSize(from, to, group uint64, rm removal, m *raftpb.Message, size int) int {
	n := 1 + uvarintLen(group)
	if rm.index != 0 {
		return n + uvarintLen(rm.index) + uvarintLen(rm.term) + uvarintLen(uint64(size)) + size
	}
	switch recordKind(from, to, m) {
	case recordHeartbeat:
		return n + uvarintLen(m.Term) + uvarintLen(m.Term-m.LogTerm) + uvarintLen(m.Commit) + contextSize(m.Context)
	case recordHeartbeatResp:
		return n + uvarintLen(m.Term) + contextSize(m.Context)
	}
	return n + uvarintLen(uint64(size)) + size
}

// recordKind returns the kind of record that carries m, sent by process
// from to process to: a heartbeat, or its response, that carries nothing
// but what the compact form keeps (Term, Context, From and To as the
// connection's; for a heartbeat also Commit and a LogTerm, the term of
// the entry at Commit, no greater than Term) is coalesced; any other
// message travels whole. The core sends and reads no other field of
// either (replication.go's sendHeartbeat and handleHeartbeat; the Context
// is the read round and lease tick of thesis §6.4).
func recordKind(from, to uint64, m *raftpb.Message) byte {
	if m.From != from || m.To != to || m.Index != 0 || len(m.Entries) != 0 ||
		m.Vote != 0 || m.Snapshot != nil || m.Reject || m.RejectHint != 0 || len(m.Responses) != 0 {
		return recordMessage
	}
	switch {
	case m.Type == raftpb.MsgHeartbeat && m.LogTerm <= m.Term:
		return recordHeartbeat
	case m.Type == raftpb.MsgHeartbeatResp && m.Commit == 0 && m.LogTerm == 0:
		return recordHeartbeatResp
	}
	return recordMessage
}

// heartbeatContextForm reports whether ctx travels as a HeartbeatContext's
// two varints: it is one (16 bytes) and they are shorter.
func heartbeatContextForm(ctx []byte) (raftpb.HeartbeatContext, bool) {
	c, ok := raftpb.DecodeHeartbeatContext(ctx)
	return c, ok && uvarintLen(c.Round)+uvarintLen(c.Tick) < raftpb.HeartbeatContextSize
}

// contextSize returns the encoded size of a coalesced heartbeat's Context.
func contextSize(ctx []byte) int {
	if ctx == nil {
		return 1
	}
	if c, ok := heartbeatContextForm(ctx); ok {
		return 1 + uvarintLen(c.Round) + uvarintLen(c.Tick)
	}
	return uvarintLen(uint64(len(ctx))+contextRawBase) + len(ctx)
}

// appendContext appends a coalesced heartbeat's Context.
func appendContext(buf, ctx []byte) []byte {
	if ctx == nil {
		return append(buf, contextNil)
	}
	if c, ok := heartbeatContextForm(ctx); ok {
		buf = append(buf, contextHeartbeat)
		buf = binary.AppendUvarint(buf, c.Round)
		return binary.AppendUvarint(buf, c.Tick)
	}
	buf = binary.AppendUvarint(buf, uint64(len(ctx))+contextRawBase)
	return append(buf, ctx...)
}

// appendRecord appends the record of message m of group (a removed notice
// when rm's index is not zero), sent by process from to process to, whose
// raftpb encoding takes size bytes.
func appendRecord(buf []byte, from, to, group uint64, rm removal, m *raftpb.Message, size int) []byte {
	kind := recordKind(from, to, m)
	if rm.index != 0 {
		kind = recordRemoved
	}
	buf = append(buf, kind)
	buf = binary.AppendUvarint(buf, group)
	switch kind {
	case recordRemoved:
		buf = binary.AppendUvarint(buf, rm.index)
		buf = binary.AppendUvarint(buf, rm.term)
	case recordHeartbeat:
		buf = binary.AppendUvarint(buf, m.Term)
		buf = binary.AppendUvarint(buf, m.Term-m.LogTerm)
		buf = binary.AppendUvarint(buf, m.Commit)
		return appendContext(buf, m.Context)
	case recordHeartbeatResp:
		buf = binary.AppendUvarint(buf, m.Term)
		return appendContext(buf, m.Context)
	}
	buf = binary.AppendUvarint(buf, uint64(size))
	return m.AppendMarshal(buf)
}

// uvarintLen returns the size of v as an unsigned varint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// DecodeBatch decodes the body of a multi-group frame received by process
// local on a connection from process from. It either returns every
// message of the batch, in the order written, or an error wrapping
// ErrMalformed and one of ErrBatchCount, ErrBatchTruncated, ErrBatchRecord
// and ErrBatchMisaddressed, and then nothing. The messages' byte fields
// alias body.
func DecodeBatch(body []byte, from, local uint64) ([]GroupMessage, error) {
	d := batchDecoder{data: body, from: from, local: local}
	count, err := d.count()
	if err != nil {
		return nil, err
	}
	var out []GroupMessage
	for i := 0; i < count; i++ {
		if d.done() {
			return nil, fmt.Errorf("%w: %w: the batch claims %d messages and holds %d", ErrMalformed, ErrBatchCount, count, i)
		}
		out = d.grow(out, count)
		g := &out[i]
		if err := d.record(g); err != nil {
			return nil, fmt.Errorf("%w: message %d of %d: %w", ErrMalformed, i, count, err)
		}
		if err := checkBatched(g, from, local); err != nil {
			return nil, fmt.Errorf("%w: message %d of %d: %w", ErrMalformed, i, count, err)
		}
	}
	if !d.done() {
		return nil, fmt.Errorf("%w: %w: %d bytes follow the %d messages the batch claims", ErrMalformed, ErrBatchCount, len(d.data)-d.pos, count)
	}
	return out, nil
}

// checkBatched returns an error wrapping ErrBatchMisaddressed when g does
// not fit a connection from process from to process local: in multi-group
// mode every group's replica on a process has the process's ID. A removed
// notice, whose message type is zero, is addressed like a message.
func checkBatched(g *GroupMessage, from, local uint64) error {
	m := &g.Message
	switch {
	case g.Removed == 0 && raftpb.IsLocalMsg(m.Type):
		return fmt.Errorf("%w: group %d: message of local type %v", ErrBatchMisaddressed, g.Group, m.Type)
	case m.From != from:
		return fmt.Errorf("%w: group %d: message from %d on the connection of process %d", ErrBatchMisaddressed, g.Group, m.From, from)
	case m.To != local:
		return fmt.Errorf("%w: group %d: message to %d received by process %d", ErrBatchMisaddressed, g.Group, m.To, local)
	}
	return nil
}

// batchDecoder reads the records of one batch.
type batchDecoder struct {
	data        []byte
	pos         int
	from, local uint64
	// slab holds the 16-byte Contexts rebuilt from coalesced heartbeats,
	// so that a batch of them allocates a few arrays, not one each.
	slab []byte
}

// contextsPerSlab is how many rebuilt Contexts one slab array holds.
const contextsPerSlab = 64

// done reports whether every byte was read.
func (d *batchDecoder) done() bool { return d.pos >= len(d.data) }

// uvarint reads a varint; a truncated or overlong one is ErrBatchTruncated.
func (d *batchDecoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.data[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint at byte %d", ErrBatchTruncated, d.pos)
	}
	d.pos += n
	return v, nil
}

// count reads the batch's message count and refuses one that the body
// cannot hold before anything is allocated for it.
func (d *batchDecoder) count() (int, error) {
	v, err := d.uvarint()
	if err != nil {
		return 0, fmt.Errorf("%w: %w: no message count: %w", ErrMalformed, ErrBatchCount, err)
	}
	if v == 0 || v > MaxBatchMsgs || v > uint64((len(d.data)-d.pos)/minRecordBytes) {
		return 0, fmt.Errorf("%w: %w: %d messages in %d bytes (at most %d per frame)", ErrMalformed, ErrBatchCount, v, len(d.data), MaxBatchMsgs)
	}
	return int(v), nil
}

// firstBatchCap is the capacity DecodeBatch starts with, and growBatchBy
// the factor it grows by: a full batch of MaxBatchMsgs then costs five
// arrays, a third more than one of its size.
const (
	firstBatchCap = 16
	growBatchBy   = 4
)

// grow returns out with one more (zero) message, making room for it when
// out is full: growBatchBy times the capacity, but never more than the count claimed
// nor more messages than the bytes left could hold (minRecordBytes each),
// so that what a batch allocates follows the records read, not its claim,
// and a full batch holds no spare room.
func (d *batchDecoder) grow(out []GroupMessage, count int) []GroupMessage {
	if len(out) == cap(out) {
		n := max(firstBatchCap, growBatchBy*cap(out))
		n = min(n, count, len(out)+(len(d.data)-d.pos+minRecordBytes-1)/minRecordBytes)
		grown := make([]GroupMessage, len(out), n)
		copy(grown, out)
		out = grown
	}
	return append(out, GroupMessage{})
}

// bytes reads n bytes, aliasing the body.
func (d *batchDecoder) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.pos) {
		return nil, fmt.Errorf("%w: %d bytes at byte %d of %d", ErrBatchTruncated, n, d.pos, len(d.data))
	}
	end := d.pos + int(n)
	p := d.data[d.pos:end:end]
	d.pos = end
	return p, nil
}

// record decodes one record into g.
func (d *batchDecoder) record(g *GroupMessage) error {
	kind := d.data[d.pos]
	d.pos++
	group, err := d.uvarint()
	if err != nil {
		return err
	}
	g.Group = group
	switch kind {
	case recordMessage:
		return d.fullMessage(&g.Message)
	case recordHeartbeat:
		return d.heartbeat(&g.Message, true)
	case recordHeartbeatResp:
		return d.heartbeat(&g.Message, false)
	case recordRemoved:
		return d.removedNotice(g)
	}
	return fmt.Errorf("%w: group %d: unknown record kind %d", ErrBatchRecord, group, kind)
}

// removedNotice decodes a removed notice: the index and term of its entry,
// neither zero, then a message that holds nothing but From and To.
func (d *batchDecoder) removedNotice(g *GroupMessage) error {
	var err error
	if g.Removed, err = d.uvarint(); err != nil {
		return err
	}
	if g.RemovedTerm, err = d.uvarint(); err != nil {
		return err
	}
	if g.Removed == 0 || g.RemovedTerm == 0 {
		return fmt.Errorf("%w: group %d: a removed notice of entry %d/%d (neither may be zero)", ErrBatchRecord, g.Group, g.RemovedTerm, g.Removed)
	}
	if err := d.fullMessage(&g.Message); err != nil {
		return err
	}
	if !noticeMessage(&g.Message) {
		return fmt.Errorf("%w: group %d: a removed notice whose message holds more than From and To", ErrBatchRecord, g.Group)
	}
	return nil
}

// noticeMessage reports whether m may carry a removed notice: it holds
// From and To alone.
func noticeMessage(m *raftpb.Message) bool {
	return m.Type == 0 && m.Term == 0 && m.LogTerm == 0 && m.Index == 0 && len(m.Entries) == 0 &&
		m.Commit == 0 && m.Vote == 0 && m.Snapshot == nil && !m.Reject && m.RejectHint == 0 &&
		m.Context == nil && len(m.Responses) == 0
}

// fullMessage decodes the length-prefixed raftpb encoding of a message.
func (d *batchDecoder) fullMessage(m *raftpb.Message) error {
	n, err := d.uvarint()
	if err != nil {
		return err
	}
	b, err := d.bytes(n)
	if err != nil {
		return err
	}
	if err := m.Unmarshal(b); err != nil {
		return fmt.Errorf("%w: %w", ErrBatchRecord, err)
	}
	return nil
}

// heartbeat decodes a coalesced MsgHeartbeat (withCommit) or
// MsgHeartbeatResp, from the connection's sender to the receiver.
func (d *batchDecoder) heartbeat(m *raftpb.Message, withCommit bool) error {
	m.Type, m.From, m.To = raftpb.MsgHeartbeatResp, d.from, d.local
	var err error
	if m.Term, err = d.uvarint(); err != nil {
		return err
	}
	if withCommit {
		m.Type = raftpb.MsgHeartbeat
		if err := d.heartbeatCommit(m); err != nil {
			return err
		}
	}
	m.Context, err = d.context()
	return err
}

// heartbeatCommit decodes a coalesced MsgHeartbeat's LogTerm (as its
// distance below Term, which must not exceed Term) and Commit.
func (d *batchDecoder) heartbeatCommit(m *raftpb.Message) error {
	below, err := d.uvarint()
	if err != nil {
		return err
	}
	if below > m.Term {
		return fmt.Errorf("%w: heartbeat of term %d stating a term %d below it", ErrBatchRecord, m.Term, below)
	}
	m.LogTerm = m.Term - below
	m.Commit, err = d.uvarint()
	return err
}

// context decodes a coalesced heartbeat's Context.
func (d *batchDecoder) context() ([]byte, error) {
	form, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	switch form {
	case contextNil:
		return nil, nil
	case contextHeartbeat:
		var c raftpb.HeartbeatContext
		if c.Round, err = d.uvarint(); err != nil {
			return nil, err
		}
		if c.Tick, err = d.uvarint(); err != nil {
			return nil, err
		}
		if cap(d.slab)-len(d.slab) < raftpb.HeartbeatContextSize {
			d.slab = make([]byte, 0, contextsPerSlab*raftpb.HeartbeatContextSize)
		}
		start := len(d.slab)
		d.slab = c.AppendTo(d.slab)
		return d.slab[start:len(d.slab):len(d.slab)], nil
	}
	return d.bytes(form - contextRawBase)
}
