package kvnode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// voterHostConfig is the configuration of host id of a multi-group
// cluster on addrs (two per process: Raft, HTTP) whose processes are
// peers, with the given first voters (nil: every process).
func voterHostConfig(dir string, id uint64, addrs []string, peers []uint64, voters []uint64) Config {
	c := hostTestConfig()
	c.ID, c.Groups, c.DataDir, c.GroupVoters = id, 2, dir, voters
	c.RaftAddr, c.HTTPAddr = addrs[2*id-2], addrs[2*id-1]
	for _, p := range peers {
		c.Peers = append(c.Peers, Peer{ID: p, RaftAddr: addrs[2*p-2], HTTPAddr: addrs[2*p-1]})
	}
	return c
}

// Claim: a data directory records the processes its groups started on
// (GroupVoters, or every process) and refuses to start with others
// (ErrGroupVotersChanged): the host would bootstrap the groups it does not
// hold on a configuration no other process has. The refusal leaves the
// directory as it was, and a directory from before the voters were
// recorded is not checked.
func TestHostRefusesADataDirectoryOfOtherFirstVoters(t *testing.T) {
	addrs, err := LoopbackAddrs(4)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	start := func(voters []uint64) error {
		h, err := StartHost(voterHostConfig(dir, 1, addrs, []uint64{2}, voters))
		return errors.Join(err, stopHost(h))
	}
	if err := start(nil); err != nil { // every process: 1 and 2
		t.Fatal(err)
	}
	recorded, err := os.ReadFile(filepath.Join(dir, GroupsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := start([]uint64{1}); !errors.Is(err, ErrGroupVotersChanged) {
		t.Fatalf("start on voters 1 over a directory of voters 1,2: %v; want ErrGroupVotersChanged", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, GroupsFile)); string(b) != string(recorded) {
		t.Fatalf("the refused start rewrote %s: %s, was %s", GroupsFile, b, recorded)
	}
	if err := start([]uint64{2, 1}); err != nil { // the same set, given explicitly
		t.Fatalf("start on voters 2,1 over a directory of voters 1,2: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, GroupsFile), []byte(`{"groups":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := start([]uint64{1}); err != nil {
		t.Fatalf("a directory that recorded no voters: %v", err)
	}
}

// Claim: processes started with other first voters refuse each other's
// connections (the voters are part of the transport's group layout, so
// the hello fails with an identity error on both sides), as processes of
// another number of groups do: process 1 starts its groups on 1 and 2,
// process 2 on 1, 2 and 3.
func TestHostsOfOtherFirstVotersRefuseEachOther(t *testing.T) {
	addrs, err := LoopbackAddrs(6)
	if err != nil {
		t.Fatal(err)
	}
	c1 := voterHostConfig(filepath.Join(t.TempDir(), "h1"), 1, addrs, []uint64{2}, nil)
	c2 := voterHostConfig(filepath.Join(t.TempDir(), "h2"), 2, addrs, []uint64{1, 3}, nil)
	for _, c := range []Config{c1, c2} {
		h, err := StartHost(c)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := h.Stop(); err != nil {
				t.Errorf("host %d: %v", c.ID, err)
			}
		}()
	}
	cl := NewClient(addrs[1], addrs[3])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for id, addr := range map[uint64]string{1: addrs[1], 2: addrs[3]} {
		for {
			var st HostStatus
			if _, err := cl.call(ctx, addr, "GET", "/status", nil, &st); err != nil {
				t.Fatalf("host %d: no identity error counted: %v", id, err)
			}
			if st.Transport.IdentityErrors > 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("host %d: no identity error counted", id)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}
