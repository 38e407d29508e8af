package rafttest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tickraft/raft/confchange"
	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tools/datadriven"
)

// bareIDs returns the bare numeric arguments of d, in order: the node IDs
// of "process-ready 1 2" and the numbers of "compact 1 5".
func bareIDs(t *testing.T, d *datadriven.TestData) []uint64 {
	t.Helper()
	var ids []uint64
	for _, a := range d.CmdArgs {
		if a.Vals != nil {
			continue
		}
		id, err := strconv.ParseUint(a.Key, 10, 64)
		if err != nil {
			if strings.HasPrefix(a.Key, "(") {
				continue // a group of "partition"
			}
			d.Fatalf(t, "%s: %q is not a number", d.Cmd, a.Key)
		}
		ids = append(ids, id)
	}
	return ids
}

// firstID returns the first bare number of d, which most commands take
// as the node they act on.
func firstID(t *testing.T, d *datadriven.TestData) uint64 {
	t.Helper()
	if len(d.CmdArgs) == 0 || d.CmdArgs[0].Vals != nil {
		d.Fatalf(t, "%s needs a node ID first", d.Cmd)
	}
	id, err := strconv.ParseUint(d.CmdArgs[0].Key, 10, 64)
	if err != nil {
		d.Fatalf(t, "%s: %q is not a node ID", d.Cmd, d.CmdArgs[0].Key)
	}
	return id
}

// parseFilter reads the drop=(ids) and type=(types) arguments of
// deliver-msgs: drop loses the messages from those senders, type delivers
// only messages of those types and keeps the others queued.
func parseFilter(t *testing.T, d *datadriven.TestData) Filter {
	t.Helper()
	var drop []uint64
	var typeNames []string
	d.MaybeScanArgs(t, "drop", &drop)
	d.MaybeScanArgs(t, "type", &typeNames)
	var types []raftpb.MessageType
	for _, name := range typeNames {
		types = append(types, parseMessageType(t, d, name))
	}
	if len(drop) == 0 && len(types) == 0 {
		return nil
	}
	dropF, onlyF := DropFrom(drop...), OnlyTypes(types...)
	return func(m raftpb.Message) Verdict {
		if dropF(m) == Drop {
			return Drop
		}
		if len(types) > 0 {
			return onlyF(m)
		}
		return Deliver
	}
}

// parseMessageType returns the message type with the given name.
func parseMessageType(t *testing.T, d *datadriven.TestData, name string) raftpb.MessageType {
	t.Helper()
	for mt := raftpb.MessageType(0); mt <= raftpb.MsgQuiesceResp; mt++ {
		if mt.String() == name {
			return mt
		}
	}
	d.Fatalf(t, "%s: unknown message type %q", d.Cmd, name)
	return 0
}

// parseGroups reads the groups of "partition (1,2) (3)"; a group is
// written without spaces.
func parseGroups(t *testing.T, d *datadriven.TestData) [][]uint64 {
	t.Helper()
	var groups [][]uint64
	for _, a := range d.CmdArgs {
		inside, ok := strings.CutPrefix(a.Key, "(")
		inside, ok2 := strings.CutSuffix(inside, ")")
		if a.Vals != nil || !ok || !ok2 {
			d.Fatalf(t, "partition: %q is not a group like (1,2)", a.String())
		}
		var g []uint64
		for _, s := range strings.Split(inside, ",") {
			id, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				d.Fatalf(t, "partition: %q: %v", a.Key, err)
			}
			g = append(g, id)
		}
		groups = append(groups, g)
	}
	return groups
}

// transitions maps the transition= values to the ConfChangeV2
// transitions; implicit and explicit are etcd raft's harness's names.
var transitions = map[string]raftpb.ConfChangeTransition{
	"auto":           raftpb.ConfChangeTransitionAuto,
	"joint-implicit": raftpb.ConfChangeTransitionJointImplicit,
	"joint-explicit": raftpb.ConfChangeTransitionJointExplicit,
	"implicit":       raftpb.ConfChangeTransitionJointImplicit,
	"explicit":       raftpb.ConfChangeTransitionJointExplicit,
}

// parseConfChange reads the change of propose-conf-change from the input
// line ("v2 l3 r1"), in the v2 form with its transition= argument, or in
// the v1 form (one change) with v1=true.
func parseConfChange(t *testing.T, d *datadriven.TestData) (raftpb.ConfChangeI, error) {
	t.Helper()
	ccs, err := confchange.ParseConfChanges(d.Input)
	if err != nil {
		return nil, err
	}
	var v1 bool
	d.MaybeScanArgs(t, "v1", &v1)
	if v1 {
		if len(ccs) != 1 {
			d.Fatalf(t, "v1=true takes exactly one change, got %d", len(ccs))
		}
		return raftpb.ConfChange{Type: ccs[0].Type, NodeID: ccs[0].NodeID}, nil
	}
	cc := raftpb.ConfChangeV2{Changes: ccs}
	name := "auto"
	d.MaybeScanArgs(t, "transition", &name)
	tr, ok := transitions[name]
	if !ok {
		d.Fatalf(t, "unknown transition %q", name)
	}
	cc.Transition = tr
	return cc, nil
}

// parseMessage reads the message of "step": to= defaults to the node
// stepping it, the first bare number, and from=, type=, term=, logterm=, index=, commit=, reject=, hint= and
// entries=(term/index,...) set the fields of the same names.
func parseMessage(t *testing.T, d *datadriven.TestData) raftpb.Message {
	t.Helper()
	m := raftpb.Message{To: firstID(t, d)}
	d.MaybeScanArgs(t, "to", &m.To)
	var typeName string
	d.ScanArgs(t, "type", &typeName)
	m.Type = parseMessageType(t, d, typeName)
	d.MaybeScanArgs(t, "from", &m.From)
	d.MaybeScanArgs(t, "term", &m.Term)
	d.MaybeScanArgs(t, "logterm", &m.LogTerm)
	d.MaybeScanArgs(t, "index", &m.Index)
	d.MaybeScanArgs(t, "commit", &m.Commit)
	d.MaybeScanArgs(t, "reject", &m.Reject)
	d.MaybeScanArgs(t, "hint", &m.RejectHint)
	var ids []string
	d.MaybeScanArgs(t, "entries", &ids)
	for _, s := range ids {
		m.Entries = append(m.Entries, parseEntryID(t, d, s))
	}
	return m
}

// parseEntryID reads "term/index" into an empty normal entry.
func parseEntryID(t *testing.T, d *datadriven.TestData, s string) raftpb.Entry {
	t.Helper()
	termStr, indexStr, ok := strings.Cut(s, "/")
	term, err1 := strconv.ParseUint(termStr, 10, 64)
	index, err2 := strconv.ParseUint(indexStr, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		d.Fatalf(t, "step: %q is not an entry like 2/5", s)
	}
	return raftpb.Entry{Term: term, Index: index}
}
