package sim

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// A write's entry data is "key=value", optionally followed by "|" and
// padding; the value "c<client>.<seq>" names the client and its sequence
// number, so every value is unique and the state machine can apply each
// client's writes at most once, whatever the network duplicates.

// encodeWrite returns the entry data of a write, padded to at least size
// bytes.
func encodeWrite(key, value string, size int) []byte {
	b := make([]byte, 0, max(size, len(key)+len(value)+1))
	b = append(b, key...)
	b = append(b, '=')
	b = append(b, value...)
	if len(b) < size {
		b = append(b, '|')
		for len(b) < size {
			b = append(b, '.')
		}
	}
	return b
}

// write is a decoded write.
type write struct {
	key, value  string
	client, seq uint64
}

// decodeWrite decodes the data of a normal entry; ok is false for data
// that is not a write (the empty entry of a new leader).
func decodeWrite(data []byte) (w write, ok bool, err error) {
	if len(data) == 0 {
		return write{}, false, nil
	}
	if i := bytes.IndexByte(data, '|'); i >= 0 {
		data = data[:i]
	}
	key, value, found := strings.Cut(string(data), "=")
	if !found || !strings.HasPrefix(value, "c") {
		return write{}, false, fmt.Errorf("entry data %q is not a write", data)
	}
	c, s, found := strings.Cut(value[1:], ".")
	client, err1 := strconv.ParseUint(c, 10, 64)
	seq, err2 := strconv.ParseUint(s, 10, 64)
	if !found || err1 != nil || err2 != nil {
		return write{}, false, fmt.Errorf("entry data %q names no client and sequence", data)
	}
	return write{key: key, value: value, client: client, seq: seq}, true, nil
}

// kvState is a node's state machine: registers by key, and for each
// client the sequence number of its last write applied, so that a write
// applied again (proposed twice by a duplicated message) changes nothing.
// It is volatile: a restarted node rebuilds it from its snapshot and the
// committed entries after it.
type kvState struct {
	applied uint64
	data    map[string]string
	seq     map[uint64]uint64
}

func newKV() kvState {
	return kvState{data: map[string]string{}, seq: map[uint64]uint64{}}
}

// applyWrite applies w at index and reports whether it took effect.
func (kv *kvState) applyWrite(index uint64, w write) bool {
	kv.applied = index
	if w.seq <= kv.seq[w.client] {
		return false
	}
	kv.seq[w.client] = w.seq
	kv.data[w.key] = w.value
	return true
}

// snapshot encodes the state: one line per key and per client, sorted.
func (kv *kvState) snapshot() []byte {
	var b bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(kv.data)) {
		fmt.Fprintf(&b, "k %s %s\n", k, kv.data[k])
	}
	for _, c := range slices.Sorted(maps.Keys(kv.seq)) {
		fmt.Fprintf(&b, "c %d %d\n", c, kv.seq[c])
	}
	return b.Bytes()
}

// restore replaces the state with a snapshot's, at index.
func (kv *kvState) restore(index uint64, data []byte) error {
	*kv = newKV()
	kv.applied = index
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("snapshot at %d: bad line %q", index, line)
		}
		switch f[0] {
		case "k":
			kv.data[f[1]] = f[2]
		case "c":
			c, err1 := strconv.ParseUint(f[1], 10, 64)
			s, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("snapshot at %d: bad line %q", index, line)
			}
			kv.seq[c] = s
		default:
			return fmt.Errorf("snapshot at %d: bad line %q", index, line)
		}
	}
	return nil
}

// digest returns a hash of the state, to compare nodes.
func (kv *kvState) digest() uint64 {
	h := fnv.New64a()
	h.Write(kv.snapshot())
	return h.Sum64()
}

// isWriteEntry reports whether e may carry a write.
func isWriteEntry(e *raftpb.Entry) bool { return e.Type == raftpb.EntryNormal && len(e.Data) > 0 }
