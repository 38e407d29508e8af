package sim

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzClusterSchedule decodes a whole-cluster schedule from the fuzzer's
// bytes and runs it through every checker of the simulator: a header
// picks the cluster (3, 5 or 7 voters, up to 2 spares, storage mode,
// lease reads, pre-vote, check-quorum, tight bounds, an election timeout
// of 5 to 10 ticks: well above the round trip of up to 3 ticks, as Raft's
// liveness needs; with 3 ticks, a node that cannot win keeps deposing
// each new leader without pre-vote),
// then each pair of bytes is one step (an operation and its argument):
// let time pass, cut or heal the network, crash or restart a node, a
// client write or read, a conf change, a transfer, a compaction, a disk
// stall. Nothing is random but the links' and disks' latencies. At the
// end the network heals and the cluster must converge. The corpus in
// testdata/fuzz/FuzzClusterSchedule replays with go test;
//
//	go test ./tools/sim -run XXX -fuzz FuzzClusterSchedule -fuzztime 10m
func FuzzClusterSchedule(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sched, ok := decodeSchedule(data)
		if !ok {
			return
		}
		r := sched.run()
		if r.Failure != nil {
			t.Fatalf("%v\nschedule: %s", r.Failure, sched)
		}
	})
}

// fuzzSeeds are schedules that exercise each operation, after letting a
// leader be elected.
func fuzzSeeds() [][]byte {
	const adv = 0 // advance(31): 32 steps
	elect := []byte{adv, 31, adv, 31, adv, 31}
	seed := func(header []byte, steps ...byte) []byte {
		return append(append(append([]byte(nil), header...), elect...), steps...)
	}
	return [][]byte{
		// 3 nodes, synchronous: writes and reads of every kind.
		seed([]byte{0, 0x0c, 3}, 5, 1, adv, 31, 6, 2, adv, 31, 7, 0, adv, 31, 5, 7, 6, 4, adv, 31),
		// 5 nodes, asynchronous: a crash in the middle of writes, a restart, a conf change.
		seed([]byte{1, 0x05, 2}, 5, 0, 5, 5, 3, 1, adv, 20, 4, 0, 5, 2, adv, 31, 8, 3, adv, 31, 6, 1, adv, 31),
		// 7 nodes and a spare, lease reads, tight bounds: partition, transfer, compaction, stall.
		seed([]byte{5, 0x1f, 5}, 1, 9, 5, 1, 6, 2, adv, 31, 2, 0, 9, 1, adv, 31, 10, 0, 11, 2, 5, 3, adv, 31),
		// 7 nodes and 2 spares: lost and held-back messages, members added.
		seed([]byte{8, 0x1e, 4}, 5, 0, 12, 0, 13, 9, 12, 0, 5, 3, 8, 40, adv, 31, 8, 77, adv, 31, 6, 4, 7, 5, adv, 31),
		// 7 nodes, no pre-vote: a one-way cut, crashes and restarts, a transfer.
		seed([]byte{2, 0x08, 7}, 1, 1, 5, 0, adv, 31, 3, 2, 3, 9, adv, 31, 4, 0, 4, 1, 2, 0, 9, 3, adv, 31),
	}
}

// Schedule operations, by the first byte of a step modulo fuzzOps.
const (
	fuzzAdvance = iota
	fuzzPartition
	fuzzHeal
	fuzzCrash
	fuzzRestart
	fuzzWrite
	fuzzRead
	fuzzReadLocal
	fuzzConfChange
	fuzzTransfer
	fuzzCompact
	fuzzStall
	fuzzDrop
	fuzzHoldBack
	fuzzOps
)

var fuzzOpNames = [fuzzOps]string{"advance", "partition", "heal", "crash", "restart", "write", "read",
	"read-local", "conf-change", "transfer", "compact", "stall", "drop", "hold-back"}

// maxFuzzSteps bounds the steps a schedule runs, so that each input runs
// fast.
const maxFuzzSteps = 3000

// fuzzStep is one decoded step.
type fuzzStep struct{ op, arg uint8 }

// schedule is a decoded fuzz input.
type schedule struct {
	opts  Options
	steps []fuzzStep
}

// decodeSchedule decodes a header of 3 bytes and then steps of 2 bytes.
func decodeSchedule(data []byte) (schedule, bool) {
	if len(data) < 3 {
		return schedule{}, false
	}
	h, flags := data[0], data[1]
	o := Options{
		Seed: 1, Nodes: []int{3, 5, 7}[int(h)%3], Spares: int(h/3) % 3, Steps: maxFuzzSteps,
		Async: flags&1 != 0, LeaseReads: flags&2 != 0, DisablePreVote: flags&4 == 0,
		DisableCheckQuorum: flags&8 == 0 && flags&2 == 0, ElectionTick: 5 + int(data[2])%6,
		// One endless chaos phase with no random faults or operations:
		// the schedule makes them.
		ChaosTicks: 1 << 30, Workload: Workload{Clients: 4, Keys: 3, OpRate: 0, LargeWrites: 0},
	}
	if flags&16 != 0 {
		o.Bounds = Bounds{MaxSizePerMsg: 64, MaxInflightMsgs: 2, MaxInflightBytes: 512, MaxUncommittedEntriesSize: 1024,
			MaxCommittedSizePerReady: 128, MaxPendingReads: 2}
	}
	o = o.withDefaults()
	o.CalmTicks = o.LivenessTicks
	var steps []fuzzStep
	for i := 3; i+1 < len(data) && len(steps) < 256; i += 2 {
		steps = append(steps, fuzzStep{op: data[i] % fuzzOps, arg: data[i+1]})
	}
	return schedule{opts: o, steps: steps}, true
}

// String describes the schedule.
func (sc schedule) String() string {
	var b strings.Builder
	o := sc.opts
	fmt.Fprintf(&b, "nodes=%d spares=%d async=%t lease=%t prevote=%t checkquorum=%t election-tick=%d bounds=%t:",
		o.Nodes, o.Spares, o.Async, o.LeaseReads, !o.DisablePreVote, !o.DisableCheckQuorum, o.ElectionTick, o.Bounds != Bounds{})
	for _, st := range sc.steps {
		fmt.Fprintf(&b, " %s(%d)", fuzzOpNames[st.op], st.arg)
	}
	return b.String()
}

// run runs the schedule, then the final calm phase and every checker.
func (sc schedule) run() Result {
	s, err := New(sc.opts)
	if err != nil {
		panic(fmt.Sprintf("invariant: a decoded schedule has settings New refuses: %v", err))
	}
	for _, st := range sc.steps {
		if s.failure != nil || s.now >= maxFuzzSteps {
			break
		}
		s.guard(func() { sc.do(s, st) })
	}
	return s.finish()
}

// do runs one step of a schedule.
func (sc schedule) do(s *Sim, st fuzzStep) {
	arg := int(st.arg)
	cl := s.clients.list[arg%len(s.clients.list)]
	switch st.op {
	case fuzzAdvance:
		for i := 0; i <= arg%32 && s.failure == nil; i++ {
			s.step()
		}
	case fuzzPartition:
		s.partition(arg, arg*7919)
	case fuzzHeal:
		s.heal()
	case fuzzCrash:
		s.crashSome(arg, arg>>3)
	case fuzzRestart:
		s.restartSome(arg, 0)
	case fuzzWrite, fuzzRead, fuzzReadLocal:
		sc.client(s, cl, st.op, arg)
	case fuzzConfChange:
		s.proposeConfChange(arg, arg*7919+13)
	case fuzzTransfer:
		s.transferLeader(arg, arg>>2)
	case fuzzCompact:
		if n := s.nodes[arg%len(s.nodes)]; n.up() {
			s.compact(n, arg>>4)
		}
	case fuzzStall:
		s.stallDisk(arg, 0)
	case fuzzDrop, fuzzHoldBack:
		sc.network(s, st.op, arg)
	}
}

// client starts an operation of cl, if it has none in progress.
func (sc schedule) client(s *Sim, cl *client, op uint8, arg int) {
	if cl.op != nil {
		return
	}
	switch op {
	case fuzzWrite:
		s.clients.startWrite(cl, fmt.Sprintf("k%d", arg/len(s.clients.list)%s.opts.Workload.Keys))
	case fuzzRead:
		s.clients.startRead(cl, opRead)
	default:
		s.clients.startRead(cl, opLocal)
	}
}

// network drops, or holds back by arg steps, the message in flight that
// arrives next.
func (sc schedule) network(s *Sim, op uint8, arg int) {
	e, ok := s.net.next(^uint64(0))
	if !ok {
		return
	}
	if op == fuzzHoldBack {
		e.at = max(e.at, s.now) + uint64(1+arg%64)
		s.net.push(e)
		return
	}
	s.lose(e) // the transport learns of it, as a broken connection
}
