package raftpb

// This file holds the codec of the types a node persists: Entry, HardState,
// ConfState, SnapshotMetadata and Snapshot. Each writes its fields in
// ascending field-number order, as etcd's generated encoder does, so that
// the bytes are identical to it.

// The keys of Entry's fields.
const (
	keyEntryType  = 1<<3 | byte(wireVarint)
	keyEntryTerm  = 2<<3 | byte(wireVarint)
	keyEntryIndex = 3<<3 | byte(wireVarint)
	keyEntryData  = 4<<3 | byte(wireBytes)
)

var entryFields = []string{1: "Type", 2: "Term", 3: "Index", 4: "Data"}

// Size returns the number of bytes Marshal would produce for e, without
// encoding it.
func (e *Entry) Size() int {
	n := sizeUintField(uint64(e.Type)) + sizeUintField(e.Term) + sizeUintField(e.Index)
	if e.Data != nil {
		n += sizeBytesField(len(e.Data))
	}
	return n
}

// AppendMarshal appends the wire encoding of e to buf and returns the
// extended slice. It allocates only when buf lacks e.Size() bytes of spare
// capacity.
func (e *Entry) AppendMarshal(buf []byte) []byte {
	return e.appendTo(reserve(buf, e.Size()))
}

// Marshal returns the wire encoding of e in a new slice of exactly e.Size()
// bytes.
func (e *Entry) Marshal() []byte {
	return e.appendTo(make([]byte, 0, e.Size()))
}

func (e *Entry) appendTo(b []byte) []byte {
	b = appendUintField(b, keyEntryType, uint64(e.Type))
	b = appendUintField(b, keyEntryTerm, e.Term)
	b = appendUintField(b, keyEntryIndex, e.Index)
	if e.Data != nil {
		b = appendBytesField(b, keyEntryData, e.Data)
	}
	return b
}

// Unmarshal sets e to the entry encoded in data, which it first resets. On
// success e.Data aliases data (it is nil only when the field is absent): the
// caller must not modify data while e is in use, or must copy e.Data. On
// failure it returns a *DecodeError and e holds what was decoded so far.
func (e *Entry) Unmarshal(data []byte) error {
	*e = Entry{}
	return e.merge(data)
}

// merge decodes data into e without resetting it first, as protobuf merges
// a nested message that occurs more than once.
func (e *Entry) merge(data []byte) error {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = e.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("Entry", entryFields, num, err)
		}
	}
	return nil
}

func (e *Entry) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	var v uint64
	switch num {
	case 1:
		v, err = d.uintField(wt)
		e.Type = EntryType(v)
	case 2:
		e.Term, err = d.uintField(wt)
	case 3:
		e.Index, err = d.uintField(wt)
	case 4:
		e.Data, err = d.bytesField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}

// The keys of HardState's fields.
const (
	keyHardStateTerm   = 1<<3 | byte(wireVarint)
	keyHardStateVote   = 2<<3 | byte(wireVarint)
	keyHardStateCommit = 3<<3 | byte(wireVarint)
	// keyHardStateRecoveringTerm is the key of field 100, which takes two
	// bytes as a varint.
	keyHardStateRecoveringTerm = 100<<3 | uint64(wireVarint)
)

var hardStateFields = []string{1: "Term", 2: "Vote", 3: "Commit", 100: "RecoveringTerm"}

// Size returns the number of bytes Marshal would produce for h, without
// encoding it.
func (h *HardState) Size() int {
	n := sizeUintField(h.Term) + sizeUintField(h.Vote) + sizeUintField(h.Commit)
	if h.RecoveringTerm != 0 {
		n += sizeVarint(keyHardStateRecoveringTerm) + sizeVarint(h.RecoveringTerm)
	}
	return n
}

// AppendMarshal appends the wire encoding of h to buf and returns the
// extended slice. It allocates only when buf lacks h.Size() bytes of spare
// capacity.
func (h *HardState) AppendMarshal(buf []byte) []byte {
	return h.appendTo(reserve(buf, h.Size()))
}

// Marshal returns the wire encoding of h in a new slice of exactly h.Size()
// bytes.
func (h *HardState) Marshal() []byte {
	return h.appendTo(make([]byte, 0, h.Size()))
}

func (h *HardState) appendTo(b []byte) []byte {
	b = appendUintField(b, keyHardStateTerm, h.Term)
	b = appendUintField(b, keyHardStateVote, h.Vote)
	b = appendUintField(b, keyHardStateCommit, h.Commit)
	if h.RecoveringTerm != 0 {
		// Written only when set, so that the bytes of every other hard
		// state are etcd's.
		b = appendVarint(appendVarint(b, keyHardStateRecoveringTerm), h.RecoveringTerm)
	}
	return b
}

// Unmarshal sets h to the hard state encoded in data, which it first
// resets. On failure it returns a *DecodeError and h holds what was decoded
// so far.
func (h *HardState) Unmarshal(data []byte) error {
	*h = HardState{}
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = h.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("HardState", hardStateFields, num, err)
		}
	}
	return nil
}

func (h *HardState) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	switch num {
	case 1:
		h.Term, err = d.uintField(wt)
	case 2:
		h.Vote, err = d.uintField(wt)
	case 3:
		h.Commit, err = d.uintField(wt)
	case 100:
		h.RecoveringTerm, err = d.uintField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}

// The keys of ConfState's fields. The repeated fields are written unpacked,
// one key per element, as proto2 does by default.
const (
	keyConfStateVoters         = 1<<3 | byte(wireVarint)
	keyConfStateLearners       = 2<<3 | byte(wireVarint)
	keyConfStateVotersOutgoing = 3<<3 | byte(wireVarint)
	keyConfStateLearnersNext   = 4<<3 | byte(wireVarint)
	keyConfStateAutoLeave      = 5<<3 | byte(wireVarint)
)

var confStateFields = []string{
	1: "Voters", 2: "Learners", 3: "VotersOutgoing", 4: "LearnersNext", 5: "AutoLeave",
}

// Size returns the number of bytes Marshal would produce for c, without
// encoding it.
func (c *ConfState) Size() int {
	return sizeUints(c.Voters) + sizeUints(c.Learners) +
		sizeUints(c.VotersOutgoing) + sizeUints(c.LearnersNext) + 2
}

// sizeUints returns the encoded size of an unpacked repeated varint field.
func sizeUints(vs []uint64) int {
	n := 0
	for _, v := range vs {
		n += sizeUintField(v)
	}
	return n
}

// AppendMarshal appends the wire encoding of c to buf and returns the
// extended slice. It allocates only when buf lacks c.Size() bytes of spare
// capacity.
func (c *ConfState) AppendMarshal(buf []byte) []byte {
	return c.appendTo(reserve(buf, c.Size()))
}

// Marshal returns the wire encoding of c in a new slice of exactly c.Size()
// bytes.
func (c *ConfState) Marshal() []byte {
	return c.appendTo(make([]byte, 0, c.Size()))
}

func (c *ConfState) appendTo(b []byte) []byte {
	b = appendUints(b, keyConfStateVoters, c.Voters)
	b = appendUints(b, keyConfStateLearners, c.Learners)
	b = appendUints(b, keyConfStateVotersOutgoing, c.VotersOutgoing)
	b = appendUints(b, keyConfStateLearnersNext, c.LearnersNext)
	return appendBoolField(b, keyConfStateAutoLeave, c.AutoLeave)
}

// appendUints appends an unpacked repeated varint field.
func appendUints(b []byte, key byte, vs []uint64) []byte {
	for _, v := range vs {
		b = appendUintField(b, key, v)
	}
	return b
}

// Unmarshal sets c to the configuration encoded in data, which it first
// resets. The repeated fields are accepted both unpacked and packed; each is
// allocated once, and stays nil when it has no element. On failure it
// returns a *DecodeError and c holds what was decoded so far.
func (c *ConfState) Unmarshal(data []byte) error {
	*c = ConfState{}
	return c.merge(data)
}

// merge decodes data into c without resetting it first: the elements of
// data are appended to those c already holds.
func (c *ConfState) merge(data []byte) error {
	var counts [5]int
	countUints(data, counts[:])
	for num := uint64(1); num <= 4; num++ {
		list := c.list(num)
		*list = reserve(*list, counts[num])
	}
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = c.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("ConfState", confStateFields, num, err)
		}
	}
	return nil
}

// list returns the repeated field numbered num, which must be 1 to 4.
func (c *ConfState) list(num uint64) *[]uint64 {
	switch num {
	case 1:
		return &c.Voters
	case 2:
		return &c.Learners
	case 3:
		return &c.VotersOutgoing
	}
	return &c.LearnersNext
}

func (c *ConfState) mergeField(d *decoder, num uint64, wt wireType) error {
	switch num {
	case 1, 2, 3, 4:
		return d.appendUints(wt, c.list(num))
	case 5:
		v, err := d.uintField(wt)
		c.AutoLeave = v != 0
		return err
	}
	return d.skip(wt)
}

// appendUints reads the value of a repeated varint field, unpacked (wire
// type 0, one element) or packed (wire type 2, any number), and appends
// the elements to list.
func (d *decoder) appendUints(wt wireType, list *[]uint64) error {
	if wt == wireVarint {
		v, err := d.uvarint()
		if err == nil {
			*list = append(*list, v)
		}
		return err
	}
	packed, err := d.bytesField(wt)
	if err != nil {
		return err
	}
	sub := decoder{data: packed}
	for !sub.done() {
		v, err := sub.uvarint()
		if err != nil {
			return err
		}
		*list = append(*list, v)
	}
	return nil
}

// The keys of SnapshotMetadata's fields.
const (
	keySnapMetaConfState = 1<<3 | byte(wireBytes)
	keySnapMetaIndex     = 2<<3 | byte(wireVarint)
	keySnapMetaTerm      = 3<<3 | byte(wireVarint)
)

var snapshotMetadataFields = []string{1: "ConfState", 2: "Index", 3: "Term"}

// Size returns the number of bytes Marshal would produce for m, without
// encoding it.
func (m *SnapshotMetadata) Size() int {
	return sizeBytesField(m.ConfState.Size()) + sizeUintField(m.Index) + sizeUintField(m.Term)
}

// AppendMarshal appends the wire encoding of m to buf and returns the
// extended slice. It allocates only when buf lacks m.Size() bytes of spare
// capacity.
func (m *SnapshotMetadata) AppendMarshal(buf []byte) []byte {
	return m.appendTo(reserve(buf, m.Size()))
}

// Marshal returns the wire encoding of m in a new slice of exactly m.Size()
// bytes.
func (m *SnapshotMetadata) Marshal() []byte {
	return m.appendTo(make([]byte, 0, m.Size()))
}

func (m *SnapshotMetadata) appendTo(b []byte) []byte {
	b = appendLenPrefix(b, keySnapMetaConfState, m.ConfState.Size())
	b = m.ConfState.appendTo(b)
	b = appendUintField(b, keySnapMetaIndex, m.Index)
	return appendUintField(b, keySnapMetaTerm, m.Term)
}

// Unmarshal sets m to the snapshot metadata encoded in data, which it first
// resets. On failure it returns a *DecodeError and m holds what was decoded
// so far.
func (m *SnapshotMetadata) Unmarshal(data []byte) error {
	*m = SnapshotMetadata{}
	return m.merge(data)
}

// merge decodes data into m without resetting it first.
func (m *SnapshotMetadata) merge(data []byte) error {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = m.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("SnapshotMetadata", snapshotMetadataFields, num, err)
		}
	}
	return nil
}

func (m *SnapshotMetadata) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	switch num {
	case 1:
		var p []byte
		if p, err = d.bytesField(wt); err == nil {
			err = m.ConfState.merge(p)
		}
	case 2:
		m.Index, err = d.uintField(wt)
	case 3:
		m.Term, err = d.uintField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}

// The keys of Snapshot's fields.
const (
	keySnapshotData     = 1<<3 | byte(wireBytes)
	keySnapshotMetadata = 2<<3 | byte(wireBytes)
)

var snapshotFields = []string{1: "Data", 2: "Metadata"}

// Size returns the number of bytes Marshal would produce for s, without
// encoding it.
func (s *Snapshot) Size() int {
	n := sizeBytesField(s.Metadata.Size())
	if s.Data != nil {
		n += sizeBytesField(len(s.Data))
	}
	return n
}

// AppendMarshal appends the wire encoding of s to buf and returns the
// extended slice. It allocates only when buf lacks s.Size() bytes of spare
// capacity.
func (s *Snapshot) AppendMarshal(buf []byte) []byte {
	return s.appendTo(reserve(buf, s.Size()))
}

// Marshal returns the wire encoding of s in a new slice of exactly s.Size()
// bytes.
func (s *Snapshot) Marshal() []byte {
	return s.appendTo(make([]byte, 0, s.Size()))
}

func (s *Snapshot) appendTo(b []byte) []byte {
	if s.Data != nil {
		b = appendBytesField(b, keySnapshotData, s.Data)
	}
	b = appendLenPrefix(b, keySnapshotMetadata, s.Metadata.Size())
	return s.Metadata.appendTo(b)
}

// Unmarshal sets s to the snapshot encoded in data, which it first resets.
// On success s.Data aliases data (it is nil only when the field is absent):
// the caller must not modify data while s is in use, or must copy s.Data.
// On failure it returns a *DecodeError and s holds what was decoded so far.
func (s *Snapshot) Unmarshal(data []byte) error {
	*s = Snapshot{}
	return s.merge(data)
}

// merge decodes data into s without resetting it first.
func (s *Snapshot) merge(data []byte) error {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = s.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("Snapshot", snapshotFields, num, err)
		}
	}
	return nil
}

func (s *Snapshot) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	switch num {
	case 1:
		s.Data, err = d.bytesField(wt)
	case 2:
		var p []byte
		if p, err = d.bytesField(wt); err == nil {
			err = s.Metadata.merge(p)
		}
	default:
		err = d.skip(wt)
	}
	return err
}
