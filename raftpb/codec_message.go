package raftpb

// This file holds the codec of Message. Its fields are written in ascending
// field-number order, so Vote (13) comes after Context (12), not where the
// struct declares it.

// The keys of Message's fields.
const (
	keyMsgType       = 1<<3 | byte(wireVarint)
	keyMsgTo         = 2<<3 | byte(wireVarint)
	keyMsgFrom       = 3<<3 | byte(wireVarint)
	keyMsgTerm       = 4<<3 | byte(wireVarint)
	keyMsgLogTerm    = 5<<3 | byte(wireVarint)
	keyMsgIndex      = 6<<3 | byte(wireVarint)
	keyMsgEntries    = 7<<3 | byte(wireBytes)
	keyMsgCommit     = 8<<3 | byte(wireVarint)
	keyMsgSnapshot   = 9<<3 | byte(wireBytes)
	keyMsgReject     = 10<<3 | byte(wireVarint)
	keyMsgRejectHint = 11<<3 | byte(wireVarint)
	keyMsgContext    = 12<<3 | byte(wireBytes)
	keyMsgVote       = 13<<3 | byte(wireVarint)
	keyMsgResponses  = 14<<3 | byte(wireBytes)
)

// The numbers of Message's repeated fields.
const (
	fieldMsgEntries   = 7
	fieldMsgResponses = 14
)

var messageFields = []string{
	1: "Type", 2: "To", 3: "From", 4: "Term", 5: "LogTerm", 6: "Index",
	7: "Entries", 8: "Commit", 9: "Snapshot", 10: "Reject", 11: "RejectHint",
	12: "Context", 13: "Vote", 14: "Responses",
}

// Size returns the number of bytes Marshal would produce for m, without
// encoding it.
func (m *Message) Size() int {
	n := sizeUintField(uint64(m.Type)) + sizeUintField(m.To) + sizeUintField(m.From) +
		sizeUintField(m.Term) + sizeUintField(m.LogTerm) + sizeUintField(m.Index)
	for i := range m.Entries {
		n += sizeBytesField(m.Entries[i].Size())
	}
	n += sizeUintField(m.Commit)
	if m.Snapshot != nil {
		n += sizeBytesField(m.Snapshot.Size())
	}
	n += 2 + sizeUintField(m.RejectHint) // Reject is a key and one byte.
	if m.Context != nil {
		n += sizeBytesField(len(m.Context))
	}
	n += sizeUintField(m.Vote)
	for i := range m.Responses {
		n += sizeBytesField(m.Responses[i].Size())
	}
	return n
}

// AppendMarshal appends the wire encoding of m to buf and returns the
// extended slice. It allocates only when buf lacks m.Size() bytes of spare
// capacity.
func (m *Message) AppendMarshal(buf []byte) []byte {
	return m.appendTo(reserve(buf, m.Size()))
}

// Marshal returns the wire encoding of m in a new slice of exactly m.Size()
// bytes.
func (m *Message) Marshal() []byte {
	return m.appendTo(make([]byte, 0, m.Size()))
}

func (m *Message) appendTo(b []byte) []byte {
	b = appendUintField(b, keyMsgType, uint64(m.Type))
	b = appendUintField(b, keyMsgTo, m.To)
	b = appendUintField(b, keyMsgFrom, m.From)
	b = appendUintField(b, keyMsgTerm, m.Term)
	b = appendUintField(b, keyMsgLogTerm, m.LogTerm)
	b = appendUintField(b, keyMsgIndex, m.Index)
	for i := range m.Entries {
		e := &m.Entries[i]
		b = e.appendTo(appendLenPrefix(b, keyMsgEntries, e.Size()))
	}
	b = appendUintField(b, keyMsgCommit, m.Commit)
	if m.Snapshot != nil {
		b = m.Snapshot.appendTo(appendLenPrefix(b, keyMsgSnapshot, m.Snapshot.Size()))
	}
	b = appendBoolField(b, keyMsgReject, m.Reject)
	b = appendUintField(b, keyMsgRejectHint, m.RejectHint)
	if m.Context != nil {
		b = appendBytesField(b, keyMsgContext, m.Context)
	}
	b = appendUintField(b, keyMsgVote, m.Vote)
	for i := range m.Responses {
		r := &m.Responses[i]
		b = r.appendTo(appendLenPrefix(b, keyMsgResponses, r.Size()))
	}
	return b
}

// Unmarshal sets m to the message encoded in data, which it first resets.
//
// On success the byte fields of m and of everything it holds (Context, the
// Data of each entry and of the snapshot) alias data: the caller must not
// modify data while m is in use, or must copy those fields. A byte field is
// nil only when it was absent. Entries and Responses are each allocated
// once, at their final length, and stay nil when empty; each entry costs no
// further allocation.
//
// Responses nested deeper than MaxResponseDepth fail with ErrTooDeep, and
// more than MaxResponses in all with ErrTooManyResponses. On
// failure Unmarshal returns a *DecodeError and m holds what was decoded so
// far.
func (m *Message) Unmarshal(data []byte) error {
	*m = Message{}
	budget := MaxResponses
	return m.merge(data, 0, &budget)
}

// merge decodes data into m without resetting it first; depth is how many
// levels of Responses enclose m, and *budget how many more responses the
// whole message may hold.
func (m *Message) merge(data []byte, depth int, budget *int) error {
	entries, responses := countMessages(data, fieldMsgEntries, fieldMsgResponses)
	m.Entries = reserve(m.Entries, entries)
	if depth < MaxResponseDepth {
		m.Responses = reserve(m.Responses, min(responses, *budget))
	}
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = m.mergeField(&d, num, wt, depth, budget)
		}
		if err != nil {
			return newDecodeError("Message", messageFields, num, err)
		}
	}
	return nil
}

func (m *Message) mergeField(d *decoder, num uint64, wt wireType, depth int, budget *int) error {
	if p := m.uintField(num); p != nil {
		v, err := d.uintField(wt)
		*p = v
		return err
	}
	switch num {
	case 1:
		v, err := d.uintField(wt)
		m.Type = MessageType(v)
		return err
	case fieldMsgEntries:
		return m.mergeEntry(d, wt)
	case 9:
		return m.mergeSnapshot(d, wt)
	case 10:
		v, err := d.uintField(wt)
		m.Reject = v != 0
		return err
	case 12:
		var err error
		m.Context, err = d.bytesField(wt)
		return err
	case fieldMsgResponses:
		return m.mergeResponse(d, wt, depth, budget)
	}
	return d.skip(wt)
}

// uintField returns the uint64 field numbered num, or nil when num is not
// a uint64 field of Message.
func (m *Message) uintField(num uint64) *uint64 {
	switch num {
	case 2:
		return &m.To
	case 3:
		return &m.From
	case 4:
		return &m.Term
	case 5:
		return &m.LogTerm
	case 6:
		return &m.Index
	case 8:
		return &m.Commit
	case 11:
		return &m.RejectHint
	case 13:
		return &m.Vote
	}
	return nil
}

// mergeEntry appends the entry held by the next field to m.Entries.
func (m *Message) mergeEntry(d *decoder, wt wireType) error {
	p, err := d.bytesField(wt)
	if err != nil {
		return err
	}
	m.Entries = append(m.Entries, Entry{})
	return m.Entries[len(m.Entries)-1].merge(p)
}

// mergeSnapshot merges the snapshot held by the next field into
// m.Snapshot, which it allocates on its first occurrence.
func (m *Message) mergeSnapshot(d *decoder, wt wireType) error {
	p, err := d.bytesField(wt)
	if err != nil {
		return err
	}
	if m.Snapshot == nil {
		m.Snapshot = new(Snapshot)
	}
	return m.Snapshot.merge(p)
}

// mergeResponse appends the message held by the next field to m.Responses,
// unless that would nest responses deeper than MaxResponseDepth or exceed
// the message's budget of responses.
func (m *Message) mergeResponse(d *decoder, wt wireType, depth int, budget *int) error {
	p, err := d.bytesField(wt)
	if err != nil {
		return err
	}
	if depth >= MaxResponseDepth {
		return ErrTooDeep
	}
	if *budget == 0 {
		return ErrTooManyResponses
	}
	*budget--
	m.Responses = append(m.Responses, Message{})
	return m.Responses[len(m.Responses)-1].merge(p, depth+1, budget)
}
