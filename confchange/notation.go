package confchange

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tickraft/raft/raftpb"
)

// typeLetter returns the letter of the compact notation for t, and false
// for an unknown type.
func typeLetter(t raftpb.ConfChangeType) (byte, bool) {
	switch t {
	case raftpb.ConfChangeAddNode:
		return 'v', true
	case raftpb.ConfChangeAddLearnerNode:
		return 'l', true
	case raftpb.ConfChangeRemoveNode:
		return 'r', true
	case raftpb.ConfChangeUpdateNode:
		return 'u', true
	}
	return 0, false
}

// Describe returns ccs in the compact notation read by
// [ParseConfChanges]: one token per change, separated by spaces, made of a
// letter for the type (v add voter, l add learner, r remove, u update) and
// the node ID, such as "v1 l2 r3 u4". A change of unknown type is written
// "?<type>:<node>", which ParseConfChanges refuses.
func Describe(ccs ...raftpb.ConfChangeSingle) string {
	var b strings.Builder
	for i, cc := range ccs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if letter, ok := typeLetter(cc.Type); ok {
			b.WriteByte(letter)
		} else {
			fmt.Fprintf(&b, "?%d:", cc.Type)
		}
		b.WriteString(strconv.FormatUint(cc.NodeID, 10))
	}
	return b.String()
}

// ParseConfChanges reads changes written in the notation of [Describe].
// Tokens are separated by white space; the empty string holds no changes.
// An error wrapping [ErrSyntax] names the first token it cannot read.
func ParseConfChanges(s string) ([]raftpb.ConfChangeSingle, error) {
	var ccs []raftpb.ConfChangeSingle
	for _, tok := range strings.Fields(s) {
		cc, err := parseToken(tok)
		if err != nil {
			return nil, err
		}
		ccs = append(ccs, cc)
	}
	return ccs, nil
}

// parseToken reads one change such as "v1".
func parseToken(tok string) (raftpb.ConfChangeSingle, error) {
	var cc raftpb.ConfChangeSingle
	switch tok[0] {
	case 'v':
		cc.Type = raftpb.ConfChangeAddNode
	case 'l':
		cc.Type = raftpb.ConfChangeAddLearnerNode
	case 'r':
		cc.Type = raftpb.ConfChangeRemoveNode
	case 'u':
		cc.Type = raftpb.ConfChangeUpdateNode
	default:
		return cc, fmt.Errorf("%w: %q: a change starts with v, l, r or u", ErrSyntax, tok)
	}
	id, err := strconv.ParseUint(tok[1:], 10, 64)
	if err != nil {
		return cc, fmt.Errorf("%w: %q: node ID: %w", ErrSyntax, tok, err)
	}
	cc.NodeID = id
	return cc, nil
}
