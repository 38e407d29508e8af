package raftpb

import (
	"strconv"
	"strings"
)

// The one-line text forms below feed the protocol's transcripts, so they are
// deterministic and compact. The notation:
//
//	entry        term/index Type data       3/11 EntryNormal "x"
//	conf entry   term/index Type changes    3/12 EntryConfChangeV2 v4 l5
//	message      from->to Type Term:t ...   1->2 MsgApp Term:3 Log:3/10 Commit:9 Entries:[3/11 EntryNormal "x"]
//	hard state   Term:t Vote:v Commit:c
//	conf state   Voters:[1 2 3] VotersOutgoing:[1 2] Learners:[4] LearnersNext:[3] AutoLeave:true
//	snapshot     Index:i Term:t ConfState:(...)
//	conf change  v1 l2 r3 u4 (add voter 1, add learner 2, remove 3, update 4)
//
// A message prints only the fields its type uses or that are set: Log
// (LogTerm/Index) when either is non-zero, Commit and Vote when non-zero,
// "Rejected (Hint: n)" for a rejection, Entries, Snapshot, Context and
// Responses when present; a heartbeat's HeartbeatContext (and its echo in
// a short-log report) prints as "Round:r Tick:t", and a heartbeat's commit
// index with the term its leader states for it as "Commit:term/index".
// Data longer than maxDataRunes bytes is cut and the number of bytes left
// out is given.

// maxDataRunes bounds how much of an entry's payload a text form shows.
const maxDataRunes = 32

// enumName returns names[v], or "typeName(v)" for a value without a name.
func enumName(names []string, v int32, typeName string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return typeName + "(" + strconv.Itoa(int(v)) + ")"
}

var entryTypeNames = [...]string{"EntryNormal", "EntryConfChange", "EntryConfChangeV2"}

// String returns the name of the entry type, or EntryType(n) for an unknown n.
func (t EntryType) String() string { return enumName(entryTypeNames[:], int32(t), "EntryType") }

var messageTypeNames = [...]string{
	"MsgHup", "MsgBeat", "MsgProp", "MsgApp", "MsgAppResp", "MsgVote",
	"MsgVoteResp", "MsgSnap", "MsgHeartbeat", "MsgHeartbeatResp",
	"MsgUnreachable", "MsgSnapStatus", "MsgCheckQuorum", "MsgTransferLeader",
	"MsgTimeoutNow", "MsgReadIndex", "MsgReadIndexResp", "MsgPreVote",
	"MsgPreVoteResp", "MsgStorageAppend", "MsgStorageAppendResp",
	"MsgStorageApply", "MsgStorageApplyResp", "MsgForgetLeader",
}

// chunkTypeNames name the chunked snapshot transfer's types, from
// MsgSnapOffer on.
var chunkTypeNames = [...]string{"MsgSnapOffer", "MsgSnapChunkReq", "MsgSnapChunk", "MsgSnapChunkSaved"}

// quiesceTypeNames name the quiescence types, from MsgQuiesce on.
var quiesceTypeNames = [...]string{"MsgQuiesce", "MsgQuiesceResp"}

// String returns the name of the message type, or MessageType(n) for an
// unknown n.
func (t MessageType) String() string {
	if isChunkType(t) {
		return chunkTypeNames[t-MsgSnapOffer]
	}
	if t == MsgQuiesce || t == MsgQuiesceResp {
		return quiesceTypeNames[t-MsgQuiesce]
	}
	return enumName(messageTypeNames[:], int32(t), "MessageType")
}

var confChangeTypeNames = [...]string{
	"ConfChangeAddNode", "ConfChangeRemoveNode", "ConfChangeUpdateNode", "ConfChangeAddLearnerNode",
}

// String returns the name of the change type, or ConfChangeType(n) for an
// unknown n.
func (t ConfChangeType) String() string {
	return enumName(confChangeTypeNames[:], int32(t), "ConfChangeType")
}

var transitionNames = [...]string{"Auto", "JointImplicit", "JointExplicit"}

// String returns the name of the transition, or ConfChangeTransition(n)
// for an unknown n.
func (t ConfChangeTransition) String() string {
	return enumName(transitionNames[:], int32(t), "ConfChangeTransition")
}

// String returns the entry in the form "3/11 EntryNormal \"x\"". A conf
// change entry shows its decoded changes.
func (e Entry) String() string {
	var b strings.Builder
	appendEntry(&b, &e)
	return b.String()
}

// appendTermIndex writes "term/index", the notation of an entry's place.
func appendTermIndex(b *strings.Builder, term, index uint64) {
	b.WriteString(strconv.FormatUint(term, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(index, 10))
}

func appendEntry(b *strings.Builder, e *Entry) {
	appendTermIndex(b, e.Term, e.Index)
	b.WriteByte(' ')
	b.WriteString(e.Type.String())
	if cc, err := e.ConfChange(); err == nil && cc != nil {
		b.WriteByte(' ')
		b.WriteString(cc.String())
		return
	}
	if e.Data != nil {
		b.WriteByte(' ')
		appendData(b, e.Data)
	}
}

// appendData writes a quoted payload, cut after maxDataRunes bytes.
func appendData(b *strings.Builder, data []byte) {
	if len(data) <= maxDataRunes {
		b.WriteString(strconv.Quote(string(data)))
		return
	}
	b.WriteString(strconv.Quote(string(data[:maxDataRunes])))
	b.WriteString("+")
	b.WriteString(strconv.Itoa(len(data) - maxDataRunes))
	b.WriteString("B")
}

// DescribeEntries returns the entries in their text form, separated by ", ".
func DescribeEntries(ents []Entry) string {
	var b strings.Builder
	appendEntries(&b, ents)
	return b.String()
}

// appendEntries writes the entries' forms separated by commas.
func appendEntries(b *strings.Builder, ents []Entry) {
	for i := range ents {
		if i > 0 {
			b.WriteString(", ")
		}
		appendEntry(b, &ents[i])
	}
}

// String returns the hard state in the form "Term:1 Vote:2 Commit:3",
// adding " RecoveringTerm:N" when it is set.
func (h HardState) String() string {
	s := "Term:" + strconv.FormatUint(h.Term, 10) +
		" Vote:" + strconv.FormatUint(h.Vote, 10) +
		" Commit:" + strconv.FormatUint(h.Commit, 10)
	if h.RecoveringTerm != 0 {
		s += " RecoveringTerm:" + strconv.FormatUint(h.RecoveringTerm, 10)
	}
	return s
}

// String returns the configuration in the form "Voters:[1 2 3]", adding
// the outgoing voters, learners, learners-next and auto-leave when set.
func (c ConfState) String() string {
	var b strings.Builder
	appendIDs(&b, "Voters", c.Voters)
	if len(c.VotersOutgoing) > 0 {
		b.WriteByte(' ')
		appendIDs(&b, "VotersOutgoing", c.VotersOutgoing)
	}
	if len(c.Learners) > 0 {
		b.WriteByte(' ')
		appendIDs(&b, "Learners", c.Learners)
	}
	if len(c.LearnersNext) > 0 {
		b.WriteByte(' ')
		appendIDs(&b, "LearnersNext", c.LearnersNext)
	}
	if c.AutoLeave {
		b.WriteString(" AutoLeave:true")
	}
	return b.String()
}

func appendIDs(b *strings.Builder, name string, ids []uint64) {
	b.WriteString(name)
	b.WriteString(":[")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	b.WriteByte(']')
}

// String returns the snapshot's metadata in the form
// "Index:5 Term:2 ConfState:(Voters:[1 2 3])", and its data when set.
func (s Snapshot) String() string {
	var b strings.Builder
	appendSnapshot(&b, &s)
	return b.String()
}

func appendSnapshot(b *strings.Builder, s *Snapshot) {
	appendUint(b, "Index:", s.Metadata.Index)
	appendUint(b, " Term:", s.Metadata.Term)
	b.WriteString(" ConfState:(")
	b.WriteString(s.Metadata.ConfState.String())
	b.WriteByte(')')
	if s.Data != nil {
		b.WriteString(" Data:")
		appendData(b, s.Data)
	}
}

// String returns the change in the compact notation: "v1" adds voter 1,
// "l2" adds learner 2, "r3" removes 3, "u4" updates 4.
func (c ConfChangeSingle) String() string {
	var prefix string
	switch c.Type {
	case ConfChangeAddNode:
		prefix = "v"
	case ConfChangeAddLearnerNode:
		prefix = "l"
	case ConfChangeRemoveNode:
		prefix = "r"
	case ConfChangeUpdateNode:
		prefix = "u"
	default:
		return c.Type.String() + "(" + strconv.FormatUint(c.NodeID, 10) + ")"
	}
	return prefix + strconv.FormatUint(c.NodeID, 10)
}

// String returns the v1 change in the compact notation of
// ConfChangeSingle, with its ID when non-zero: "ID:7 v3".
func (c ConfChange) String() string {
	s := ConfChangeSingle{Type: c.Type, NodeID: c.NodeID}.String()
	if c.ID != 0 {
		s = "ID:" + strconv.FormatUint(c.ID, 10) + " " + s
	}
	return s
}

// String returns the v2 change as its changes in the compact notation,
// space-separated, prefixed by the transition when it is not Auto:
// "JointExplicit: v2 l3". A change with no changes (a request to leave a
// joint configuration) prints as "leave-joint".
func (c ConfChangeV2) String() string {
	var b strings.Builder
	if c.Transition != ConfChangeTransitionAuto {
		b.WriteString(c.Transition.String())
		b.WriteString(":")
		if len(c.Changes) > 0 {
			b.WriteByte(' ')
		}
	}
	if len(c.Changes) == 0 && c.Transition == ConfChangeTransitionAuto {
		b.WriteString("leave-joint")
	}
	for i, ch := range c.Changes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ch.String())
	}
	return b.String()
}

// String returns the message in the one-line form described at the top of
// this file.
func (m Message) String() string {
	var b strings.Builder
	appendMessage(&b, &m)
	return b.String()
}

// appendHeader writes "from->to Type", the start of every message's form.
func appendHeader(b *strings.Builder, m *Message) {
	b.WriteString(strconv.FormatUint(m.From, 10))
	b.WriteString("->")
	b.WriteString(strconv.FormatUint(m.To, 10))
	b.WriteByte(' ')
	b.WriteString(m.Type.String())
}

// appendUint writes label and v in decimal.
func appendUint(b *strings.Builder, label string, v uint64) {
	b.WriteString(label)
	b.WriteString(strconv.FormatUint(v, 10))
}

func appendMessage(b *strings.Builder, m *Message) {
	if isChunkType(m.Type) {
		appendChunkMessage(b, m)
		return
	}
	appendHeader(b, m)
	appendUint(b, " Term:", m.Term)
	if m.Type == MsgHeartbeat && m.Index == 0 && m.LogTerm != 0 {
		// The term a heartbeat states for its commit index.
		b.WriteString(" Commit:")
		appendTermIndex(b, m.LogTerm, m.Commit)
	} else {
		appendLogAndCommit(b, m)
	}
	if m.Vote != 0 {
		appendUint(b, " Vote:", m.Vote)
	}
	if m.Reject {
		b.WriteString(" Rejected (Hint: ")
		b.WriteString(strconv.FormatUint(m.RejectHint, 10))
		b.WriteByte(')')
	}
	if len(m.Entries) > 0 {
		b.WriteString(" Entries:[")
		appendEntries(b, m.Entries)
		b.WriteByte(']')
	}
	if m.Snapshot != nil {
		b.WriteString(" Snapshot:(")
		appendSnapshot(b, m.Snapshot)
		b.WriteByte(')')
	}
	if hc, ok := DecodeHeartbeatContext(m.Context); ok && (m.Type == MsgHeartbeat || m.Type == MsgHeartbeatResp || IsShortLogReport(*m)) {
		appendUint(b, " Round:", hc.Round)
		appendUint(b, " Tick:", hc.Tick)
	} else if m.Context != nil {
		b.WriteString(" Context:")
		appendData(b, m.Context)
	}
	appendResponses(b, m)
}

// appendLogAndCommit writes Log (LogTerm/Index) when either is non-zero and
// Commit when non-zero.
func appendLogAndCommit(b *strings.Builder, m *Message) {
	if m.LogTerm != 0 || m.Index != 0 {
		b.WriteString(" Log:")
		appendTermIndex(b, m.LogTerm, m.Index)
	}
	if m.Commit != 0 {
		appendUint(b, " Commit:", m.Commit)
	}
}

// appendResponses writes a storage or snapshot worker's responses.
func appendResponses(b *strings.Builder, m *Message) {
	if len(m.Responses) > 0 {
		b.WriteString(" Responses:[")
		for i := range m.Responses {
			if i > 0 {
				b.WriteString(", ")
			}
			appendMessage(b, &m.Responses[i])
		}
		b.WriteByte(']')
	}
}
