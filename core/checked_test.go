package core

import (
	"errors"
	"testing"

	"github.com/tickraft/raft/raftpb"
)

// checkedLeader returns a one-voter leader in checked mode, its storage
// up to date.
func checkedLeader(t *testing.T, async bool) (*Raft, *MemoryStorage) {
	t.Helper()
	st := NewMemoryStorage()
	st.SetConfState(raftpb.ConfState{Voters: []uint64{1}})
	r, err := NewRaft(&Config{ID: 1, Storage: st, CheckContract: true, AsyncStorageWrites: async})
	must(t, err)
	must(t, r.Campaign())
	if !async {
		persist(t, r, st)
	}
	return r, st
}

// advancePanic runs Advance and returns what it panicked with.
func advancePanic(r *Raft) (got error) {
	defer func() {
		if v := recover(); v != nil {
			got, _ = v.(error)
			if got == nil {
				got = errors.New("a panic without an error")
			}
		}
	}()
	r.Advance()
	return nil
}

// TestCheckedModeCatchesAdvanceWithoutPersisting: the misuse that made
// the next Propose return the (index, term) of the previous one.
func TestCheckedModeCatchesAdvanceWithoutPersisting(t *testing.T) {
	r, _ := checkedLeader(t, false)
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	r.Ready() // not persisted
	var ce *ContractError
	if err := advancePanic(r); !errors.As(err, &ce) || !errors.Is(err, ErrContractBroken) {
		t.Fatalf("Advance without persisting = %v, want a *ContractError", err)
	}
}

func TestCheckedModeCatchesAHardStateNotPersisted(t *testing.T) {
	r, st := checkedLeader(t, false)
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	must(t, st.Append(rd.Entries))
	r.Advance() // the entry is durable: it commits
	rd = r.Ready()
	if rd.HardState.IsEmpty() {
		t.Fatal("the commit made no hard state to persist")
	}
	// The hard state with the new commit index is forgotten.
	if err := advancePanic(r); !errors.Is(err, ErrContractBroken) {
		t.Fatalf("Advance without the hard state = %v, want ErrContractBroken", err)
	}
}

func TestCheckedModeCatchesAModifiedPayload(t *testing.T) {
	r, st := checkedLeader(t, false)
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	rd := r.Ready()
	must(t, st.SetHardState(rd.HardState))
	must(t, st.Append(rd.Entries))
	rd.Entries[len(rd.Entries)-1].Data[0] = 'y' // written into the node's copy
	if err := advancePanic(r); !errors.Is(err, ErrContractBroken) {
		t.Fatalf("Advance after modifying a payload = %v, want ErrContractBroken", err)
	}
}

// TestCheckedModeAcceptsACorrectLoop: the same steps done right pass.
func TestCheckedModeAcceptsACorrectLoop(t *testing.T) {
	r, st := checkedLeader(t, false)
	for i := 0; i < 3; i++ {
		if _, _, err := r.Propose([]byte("x")); err != nil {
			t.Fatal(err)
		}
		persist(t, r, st)
	}
	if r.raftLog.applied != r.raftLog.lastIndex() {
		t.Fatalf("applied %d of %d", r.raftLog.applied, r.raftLog.lastIndex())
	}
}

// TestCheckedModeRefusesAnAsyncAckOfWhatIsNotDurable: the append worker
// acknowledges entries it did not write; Step refuses it, changing
// nothing.
func TestCheckedModeRefusesAnAsyncAckOfWhatIsNotDurable(t *testing.T) {
	r, st := checkedLeader(t, true)
	// Run the workers faithfully until the node leads.
	for i := 0; i < 20 && r.state != StateLeader; i++ {
		for _, m := range r.Ready().Messages {
			if m.Type == raftpb.MsgStorageAppend {
				if !m.Snapshot.IsEmpty() {
					must(t, st.ApplySnapshot(*m.Snapshot))
				}
				must(t, st.Append(m.Entries))
				if m.Term != 0 || m.Vote != 0 || m.Commit != 0 {
					must(t, st.SetHardState(raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}))
				}
			}
			for _, resp := range m.Responses {
				if resp.To == 1 {
					must(t, r.Step(resp))
				}
			}
		}
	}
	if r.state != StateLeader {
		t.Fatal("the node did not become leader")
	}
	if _, _, err := r.Propose([]byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Ready().Messages {
		if m.Type != raftpb.MsgStorageAppend || len(m.Entries) == 0 {
			continue
		}
		for _, resp := range m.Responses {
			if resp.Type != raftpb.MsgStorageAppendResp {
				continue
			}
			before := fingerprint(r)
			if err := r.Step(resp); !errors.Is(err, ErrContractBroken) { // nothing was written
				t.Fatalf("an acknowledgement of unwritten entries = %v, want ErrContractBroken", err)
			}
			if fingerprint(r) != before {
				t.Fatal("the refused acknowledgement changed the node")
			}
			return
		}
	}
	t.Fatal("no acknowledgement of the proposal's append")
}
