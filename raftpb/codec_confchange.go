package raftpb

// This file holds the codec of the membership changes: ConfChange,
// ConfChangeSingle and ConfChangeV2, which travel as the Data of
// EntryConfChange and EntryConfChangeV2 entries.

// The keys of ConfChange's fields.
const (
	keyConfChangeID      = 1<<3 | byte(wireVarint)
	keyConfChangeType    = 2<<3 | byte(wireVarint)
	keyConfChangeNodeID  = 3<<3 | byte(wireVarint)
	keyConfChangeContext = 4<<3 | byte(wireBytes)
)

var confChangeFields = []string{1: "ID", 2: "Type", 3: "NodeID", 4: "Context"}

// Size returns the number of bytes Marshal would produce for c, without
// encoding it.
func (c *ConfChange) Size() int {
	n := sizeUintField(c.ID) + sizeUintField(uint64(c.Type)) + sizeUintField(c.NodeID)
	if c.Context != nil {
		n += sizeBytesField(len(c.Context))
	}
	return n
}

// AppendMarshal appends the wire encoding of c to buf and returns the
// extended slice. It allocates only when buf lacks c.Size() bytes of spare
// capacity.
func (c *ConfChange) AppendMarshal(buf []byte) []byte {
	return c.appendTo(reserve(buf, c.Size()))
}

// Marshal returns the wire encoding of c in a new slice of exactly c.Size()
// bytes.
func (c *ConfChange) Marshal() []byte {
	return c.appendTo(make([]byte, 0, c.Size()))
}

func (c *ConfChange) appendTo(b []byte) []byte {
	b = appendUintField(b, keyConfChangeID, c.ID)
	b = appendUintField(b, keyConfChangeType, uint64(c.Type))
	b = appendUintField(b, keyConfChangeNodeID, c.NodeID)
	if c.Context != nil {
		b = appendBytesField(b, keyConfChangeContext, c.Context)
	}
	return b
}

// Unmarshal sets c to the change encoded in data, which it first resets. On
// success c.Context aliases data (it is nil only when the field is absent):
// the caller must not modify data while c is in use, or must copy
// c.Context. On failure it returns a *DecodeError and c holds what was
// decoded so far.
func (c *ConfChange) Unmarshal(data []byte) error {
	*c = ConfChange{}
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = c.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("ConfChange", confChangeFields, num, err)
		}
	}
	return nil
}

func (c *ConfChange) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	var v uint64
	switch num {
	case 1:
		c.ID, err = d.uintField(wt)
	case 2:
		v, err = d.uintField(wt)
		c.Type = ConfChangeType(v)
	case 3:
		c.NodeID, err = d.uintField(wt)
	case 4:
		c.Context, err = d.bytesField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}

// The keys of ConfChangeSingle's fields.
const (
	keyConfChangeSingleType   = 1<<3 | byte(wireVarint)
	keyConfChangeSingleNodeID = 2<<3 | byte(wireVarint)
)

var confChangeSingleFields = []string{1: "Type", 2: "NodeID"}

// Size returns the number of bytes Marshal would produce for c, without
// encoding it.
func (c *ConfChangeSingle) Size() int {
	return sizeUintField(uint64(c.Type)) + sizeUintField(c.NodeID)
}

// AppendMarshal appends the wire encoding of c to buf and returns the
// extended slice. It allocates only when buf lacks c.Size() bytes of spare
// capacity.
func (c *ConfChangeSingle) AppendMarshal(buf []byte) []byte {
	return c.appendTo(reserve(buf, c.Size()))
}

// Marshal returns the wire encoding of c in a new slice of exactly c.Size()
// bytes.
func (c *ConfChangeSingle) Marshal() []byte {
	return c.appendTo(make([]byte, 0, c.Size()))
}

func (c *ConfChangeSingle) appendTo(b []byte) []byte {
	b = appendUintField(b, keyConfChangeSingleType, uint64(c.Type))
	return appendUintField(b, keyConfChangeSingleNodeID, c.NodeID)
}

// Unmarshal sets c to the change encoded in data, which it first resets. On
// failure it returns a *DecodeError and c holds what was decoded so far.
func (c *ConfChangeSingle) Unmarshal(data []byte) error {
	*c = ConfChangeSingle{}
	return c.merge(data)
}

// merge decodes data into c without resetting it first.
func (c *ConfChangeSingle) merge(data []byte) error {
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = c.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("ConfChangeSingle", confChangeSingleFields, num, err)
		}
	}
	return nil
}

func (c *ConfChangeSingle) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	var v uint64
	switch num {
	case 1:
		v, err = d.uintField(wt)
		c.Type = ConfChangeType(v)
	case 2:
		c.NodeID, err = d.uintField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}

// The keys of ConfChangeV2's fields.
const (
	keyConfChangeV2Transition = 1<<3 | byte(wireVarint)
	keyConfChangeV2Changes    = 2<<3 | byte(wireBytes)
	keyConfChangeV2Context    = 3<<3 | byte(wireBytes)
)

// fieldConfChangeV2Changes is the number of ConfChangeV2's repeated field.
const fieldConfChangeV2Changes = 2

var confChangeV2Fields = []string{1: "Transition", 2: "Changes", 3: "Context"}

// Size returns the number of bytes Marshal would produce for c, without
// encoding it.
func (c *ConfChangeV2) Size() int {
	n := sizeUintField(uint64(c.Transition))
	for i := range c.Changes {
		n += sizeBytesField(c.Changes[i].Size())
	}
	if c.Context != nil {
		n += sizeBytesField(len(c.Context))
	}
	return n
}

// AppendMarshal appends the wire encoding of c to buf and returns the
// extended slice. It allocates only when buf lacks c.Size() bytes of spare
// capacity.
func (c *ConfChangeV2) AppendMarshal(buf []byte) []byte {
	return c.appendTo(reserve(buf, c.Size()))
}

// Marshal returns the wire encoding of c in a new slice of exactly c.Size()
// bytes.
func (c *ConfChangeV2) Marshal() []byte {
	return c.appendTo(make([]byte, 0, c.Size()))
}

func (c *ConfChangeV2) appendTo(b []byte) []byte {
	b = appendUintField(b, keyConfChangeV2Transition, uint64(c.Transition))
	for i := range c.Changes {
		ch := &c.Changes[i]
		b = ch.appendTo(appendLenPrefix(b, keyConfChangeV2Changes, ch.Size()))
	}
	if c.Context != nil {
		b = appendBytesField(b, keyConfChangeV2Context, c.Context)
	}
	return b
}

// Unmarshal sets c to the change encoded in data, which it first resets.
// Changes is allocated once, at its final length, and stays nil when empty.
// On success c.Context aliases data (it is nil only when the field is
// absent): the caller must not modify data while c is in use, or must copy
// c.Context. On failure it returns a *DecodeError and c holds what was
// decoded so far.
func (c *ConfChangeV2) Unmarshal(data []byte) error {
	*c = ConfChangeV2{}
	changes, _ := countMessages(data, fieldConfChangeV2Changes, 0)
	c.Changes = reserve(c.Changes, changes)
	d := decoder{data: data}
	for !d.done() {
		num, wt, err := d.key()
		if err == nil {
			err = c.mergeField(&d, num, wt)
		}
		if err != nil {
			return newDecodeError("ConfChangeV2", confChangeV2Fields, num, err)
		}
	}
	return nil
}

func (c *ConfChangeV2) mergeField(d *decoder, num uint64, wt wireType) (err error) {
	var v uint64
	switch num {
	case 1:
		v, err = d.uintField(wt)
		c.Transition = ConfChangeTransition(v)
	case fieldConfChangeV2Changes:
		var p []byte
		if p, err = d.bytesField(wt); err == nil {
			c.Changes = append(c.Changes, ConfChangeSingle{})
			err = c.Changes[len(c.Changes)-1].merge(p)
		}
	case 3:
		c.Context, err = d.bytesField(wt)
	default:
		err = d.skip(wt)
	}
	return err
}
