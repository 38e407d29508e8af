package core

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tickraft/raft/raftpb"
)

// ents returns entries with consecutive indexes from first and the given
// terms, without payload.
func ents(first uint64, terms ...uint64) []raftpb.Entry {
	out := make([]raftpb.Entry, len(terms))
	for i, t := range terms {
		out[i] = raftpb.Entry{Index: first + uint64(i), Term: t}
	}
	return out
}

// sized returns ents with entry i carrying sizes[i] payload bytes.
func sized(es []raftpb.Entry, sizes ...int) []raftpb.Entry {
	for i, n := range sizes {
		es[i].Data = make([]byte, n)
	}
	return es
}

func TestPayloadSizeCountsOnlyData(t *testing.T) {
	for _, tt := range []struct {
		name string
		ents []raftpb.Entry
		want uint64
	}{
		{"none", nil, 0},
		{"empty entries weigh nothing", ents(1, 1, 1), 0},
		{"sum of data lengths", sized(ents(1, 1, 1, 2), 3, 0, 5), 8},
	} {
		if got := payloadSize(tt.ents); got != tt.want {
			t.Errorf("%s: payloadSize = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestLimitSizeKeepsLongestPrefixButAtLeastOneEntry(t *testing.T) {
	five := sized(ents(1, 1, 1, 1, 1, 1), 10, 10, 10, 10, 10)
	for _, tt := range []struct {
		name    string
		ents    []raftpb.Entry
		maxSize uint64
		want    int
	}{
		{"nil stays nil", nil, 5, 0},
		{"no limit keeps all", five, noLimit, 5},
		{"exact fit", five, 30, 3},
		{"one byte short", five, 29, 2},
		{"entry above limit still sent alone", five, 1, 1},
		{"zero means one entry", five, 0, 1},
		{"zero means one entry even without payload", ents(1, 1, 1, 1), 0, 1},
		{"empty entries fit any positive limit", ents(1, 1, 1, 1), 1, 3},
		{"all fit", five, 50, 5},
	} {
		got := limitSize(tt.ents, tt.maxSize)
		if len(got) != tt.want {
			t.Errorf("%s: limitSize kept %d entries, want %d", tt.name, len(got), tt.want)
		}
	}
}

func TestCheckEntriesContiguousRejectsGapsAndFallingTerms(t *testing.T) {
	for _, tt := range []struct {
		name string
		prev entryID
		ents []raftpb.Entry
		ok   bool
	}{
		{"empty run", entryID{term: 3, index: 7}, nil, true},
		{"continues prev", entryID{term: 1, index: 2}, ents(3, 1, 2, 2), true},
		{"continues the empty log", entryID{}, ents(1, 1, 1), true},
		{"gap after prev", entryID{term: 1, index: 2}, ents(4, 1), false},
		{"overlaps prev", entryID{term: 1, index: 2}, ents(2, 1), false},
		{"gap inside", entryID{term: 1, index: 2}, append(ents(3, 1), ents(5, 1)...), false},
		{"term below prev", entryID{term: 3, index: 2}, ents(3, 2), false},
		{"term falls inside", entryID{term: 1, index: 2}, ents(3, 2, 1), false},
	} {
		err := checkEntriesContiguous(tt.prev, tt.ents)
		if tt.ok && err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrMalformedEntries) {
			t.Errorf("%s: error %v, want ErrMalformedEntries", tt.name, err)
		}
	}
}

func TestSentinelErrorsSurviveWrapping(t *testing.T) {
	ms := NewMemoryStorage()
	_, err := ms.Term(5)
	if !errors.Is(err, ErrUnavailable) || err == ErrUnavailable {
		t.Errorf("Term(5) error %v: want ErrUnavailable wrapped with detail", err)
	}
	if diff := cmp.Diff("requested entry at index is unavailable: term of 5 requested, last index is 0", err.Error()); diff != "" {
		t.Errorf("error text (-want +got):\n%s", diff)
	}
}
