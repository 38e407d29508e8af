package kvnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickraft/raft/raftpb"
)

// awaitAllLed waits until every group has a leader among the running
// hosts that every one of them names, and returns each group's leader.
func awaitAllLed(ctx context.Context, t *testing.T, hc *hostCluster) map[uint64]uint64 {
	t.Helper()
	for {
		lead := map[uint64]uint64{}
		agreed := true
		for id := range hc.hosts {
			st, err := hc.status(ctx, id)
			if err != nil {
				agreed = false
				break
			}
			for _, g := range st.PerGroup {
				if g.Leader == 0 || hc.hosts[g.Leader] == nil || (lead[g.Group] != 0 && lead[g.Group] != g.Leader) {
					agreed = false
				}
				lead[g.Group] = g.Leader
			}
		}
		if agreed && len(lead) == hc.groups {
			return lead
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no agreed leader in every group: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Claim: a write sent to a host that does not lead the key's group
// answers not_leader naming the leader of that group (its ID and HTTP
// address), whichever groups that host leads.
func TestHostNotLeaderNamesTheLeaderOfTheKeysGroup(t *testing.T) {
	hc := newHostCluster(t, 3, 8, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lead := awaitAllLed(ctx, t, hc)
	checked := 0
	// probe reports whether a PUT of key on host id answered not_leader
	// naming lead[g]; on a loaded machine a group may elect another
	// leader between the look at the leaders and the probe, so a probe
	// that disagrees is retried after looking again, a few times.
	probe := func(key string, g, id uint64) (string, bool) {
		_, err := hc.c.call(ctx, hc.peers[id-1].HTTPAddr, http.MethodPut, "/kv/"+key, []byte("v"), nil)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeNotLeader {
			return fmt.Sprintf("PUT %s (group %d) on host %d: %v; want not_leader", key, g, id, err), false
		}
		if e.LeaderID != lead[g] || e.Leader != hc.peers[lead[g]-1].HTTPAddr {
			return fmt.Sprintf("PUT %s (group %d, led by %d) on host %d names leader %d at %q", key, g, lead[g], id, e.LeaderID, e.Leader), false
		}
		return "", true
	}
	for i := 0; i < 64; i++ {
		key := fmt.Sprintf("probe-%d", i)
		g := fnvGroup(key, hc.groups)
		for id := range hc.hosts {
			var why string
			ok := false
			for attempt := 0; attempt < 3 && !ok; attempt++ {
				if attempt > 0 {
					lead = awaitAllLed(ctx, t, hc)
				}
				if id == lead[g] {
					why, ok = "", true
					break
				}
				why, ok = probe(key, g, id)
			}
			if !ok {
				t.Fatal(why)
			}
			if id != lead[g] {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("checked no refusal")
	}
}

// Claim: a message is stepped into the group it is tagged with and no
// other: a heartbeat of a higher term tagged with one group raises that
// group's term alone; messages tagged with no group the host holds,
// or not addressed to it, change nothing.
func TestHostStepsEachMessageIntoItsOwnGroup(t *testing.T) {
	hc := newHostCluster(t, 3, 4, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitAllLed(ctx, t, hc)
	before, err := hc.status(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	const term = 1000
	vote := func(group, to uint64) groupMsg {
		return groupMsg{Group: group, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: to, Term: term}}
	}
	hc.hub.mu.Lock()
	in := hc.hub.inboxes[1]
	hc.hub.mu.Unlock()
	// A heartbeat stating a commit term above its own term: group 1's
	// node refuses it.
	bad := groupMsg{Group: 1, Message: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 1 << 40, LogTerm: 1 << 41, Commit: 1}}
	in <- []groupMsg{vote(3, 1), vote(0, 1), vote(9, 1), vote(2, 3), bad}
	for {
		st, err := hc.status(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if st.PerGroup[2].Term >= term {
			for i, g := range st.PerGroup {
				if i != 2 && g.Term >= term {
					t.Fatalf("group %d took the heartbeat of group 3: term %d (was %d)", g.Group, g.Term, before.PerGroup[i].Term)
				}
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group 3 never stepped its heartbeat: %v", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The three misaddressed messages were dropped and the refused one
	// refused, each counted in /metrics (the batch is stepped in one
	// round, so both counts are in by now).
	body := scrapeBody(t, hc.peers[0].HTTPAddr)
	if got := metricValue(t, body, "kvexample_host_messages_dropped_total"); got < 3 {
		t.Errorf("kvexample_host_messages_dropped_total = %v, want at least the 3 misaddressed messages", got)
	}
	if got := metricValue(t, body, "kvexample_raft_messages_refused_total"); got < 1 {
		t.Errorf("kvexample_raft_messages_refused_total = %v, want at least the refused heartbeat", got)
	}
}

// Claim: /status lists every group with the totals over them (one group
// with ?group=N), and /metrics has each group's gauges labelled with it
// and the host's totals.
func TestHostStatusAndMetricsArePerGroupWithTotals(t *testing.T) {
	hc := newHostCluster(t, 3, 4, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acked := writeHostKeys(ctx, t, hc.c, "m", 40)
	verifyHostReads(ctx, t, hc, acked)
	st, err := hc.status(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for _, g := range st.PerGroup {
		keys += g.Keys
	}
	if st.Groups != 4 || len(st.PerGroup) != 4 || st.Keys != keys || st.Keys != len(acked) {
		t.Fatalf("status: %d groups, %d listed, keys %d (sum %d), want 4, 4, %d", st.Groups, len(st.PerGroup), st.Keys, keys, len(acked))
	}
	var one HostStatus
	if _, err := hc.c.call(ctx, hc.peers[0].HTTPAddr, http.MethodGet, "/status?group=2", nil, &one); err != nil || len(one.PerGroup) != 1 || one.PerGroup[0].Group != 2 {
		t.Fatalf("status of group 2: %+v, %v", one.PerGroup, err)
	}
	resp, err := http.Get("http://" + hc.peers[0].HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"kvexample_groups 4\n", fmt.Sprintf("kvexample_keys %d\n", len(acked)),
		`kvexample_group_keys{group="1"}`, `kvexample_group_keys{group="4"}`, `kvexample_group_leader_id{group="3"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Claim: once every group sleeps, the loop ticks none of them (its list
// of groups ticked at every tick is empty), and a write to a sleeping
// group wakes it, is acknowledged and read back from every host.
func TestHostTicksNoSleepingGroup(t *testing.T) {
	hc := newHostCluster(t, 3, 8, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitAllLed(ctx, t, hc)
	for id := range hc.hosts {
		for {
			st, err := hc.status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Quiesced == hc.groups && st.Awake == 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("host %d: %d of %d groups asleep, %d ticked at every tick; want all asleep and none ticked",
					id, st.Quiesced, hc.groups, st.Awake)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	acked := writeHostKeys(ctx, t, hc.c, "wake", 8)
	verifyHostReads(ctx, t, hc, acked)
}

// Claim: of the processes not known to be down, successor names one per
// group, in turn from group to group, so that the survivors of a lost
// leader's process neither all campaign at once nor leave a group with
// none that does; with every voter down it names none.
func TestSuccessorTakesTheSurvivorsInTurn(t *testing.T) {
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3, 4, 5}}
	count := map[uint64]int{}
	for id := uint64(1); id <= 30; id++ {
		s := successor(&group{id: id, confState: cs}, map[uint64]bool{1: true, 4: true})
		if s != 2 && s != 3 && s != 5 {
			t.Fatalf("group %d: successor %d is down or no voter", id, s)
		}
		count[s]++
	}
	if count[2] != 10 || count[3] != 10 || count[5] != 10 {
		t.Fatalf("successors over 30 groups: %v; want 10 each for 2, 3 and 5", count)
	}
	all := map[uint64]bool{1: true, 2: true, 3: true, 4: true, 5: true}
	if s := successor(&group{id: 7, confState: cs}, all); s != 0 {
		t.Fatalf("every voter down: successor %d, want none", s)
	}
}

// Claim: a data directory written with one number of groups refuses to
// start with another (ErrGroupsChanged, every key would move) and is left
// as it was: it starts again with its own number.
func TestHostRefusesADataDirectoryOfAnotherNumberOfGroups(t *testing.T) {
	dir := t.TempDir()
	start := func(groups int) (*Host, error) {
		return StartHost(Config{ID: 1, DataDir: dir, RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Groups: groups})
	}
	h, err := start(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := start(8); !errors.Is(err, ErrGroupsChanged) {
		t.Fatalf("start with 8 groups over a directory of 4: %v; want ErrGroupsChanged", err)
	}
	h, err = start(4)
	if err != nil {
		t.Fatalf("start with its own 4 groups after the refusal: %v", err)
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
}

// Claim: the two modes refuse each other's data directories: a
// single-group node started on a host's directory would serve an empty
// store as if the host's acknowledged writes never happened, and a host
// started on a node's directory would ignore its log. Both refusals leave
// the directory as it was.
func TestTheTwoModesRefuseEachOthersDataDirectory(t *testing.T) {
	hostDir, nodeDir := t.TempDir(), t.TempDir()
	cfg := func(dir string, groups int) Config {
		return Config{ID: 1, DataDir: dir, RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Groups: groups}
	}
	h, err := StartHost(cfg(hostDir, 4))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if n, err := Start(cfg(hostDir, 1)); !errors.Is(err, ErrGroupsChanged) {
		if n != nil {
			n.Stop()
		}
		t.Fatalf("single-group node on a host's directory: %v; want ErrGroupsChanged", err)
	}
	n, err := Start(cfg(nodeDir, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if h, err := StartHost(cfg(nodeDir, 4)); !errors.Is(err, ErrGroupsChanged) {
		if h != nil {
			h.Stop()
		}
		t.Fatalf("host on a single-group node's directory: %v; want ErrGroupsChanged", err)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, GroupsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused host left %s behind: %v", GroupsFile, err)
	}
	for _, start := range []func() error{
		func() error { h, err := StartHost(cfg(hostDir, 4)); return errors.Join(err, stopHost(h)) },
		func() error { n, err := Start(cfg(nodeDir, 1)); return errors.Join(err, stopNode(n)) },
	} {
		if err := start(); err != nil {
			t.Fatalf("a directory after the other mode's refusal: %v", err)
		}
	}
}

func stopHost(h *Host) error {
	if h == nil {
		return nil
	}
	return h.Stop()
}

func stopNode(n *Node) error {
	if n == nil {
		return nil
	}
	return n.Stop()
}
