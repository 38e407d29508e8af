package raftpb

// IsShortLogReport reports whether m is a short-log report: the MsgAppResp
// rejection a tickraft follower sends when a heartbeat announces a commit
// index beyond its log, or states a term for it (the heartbeat's LogTerm)
// other than the follower's entry there. A leader sends a follower a
// commit index only as far as the follower acknowledged, so the
// follower's storage lost entries it had made durable (in the second
// case an overwrite, keeping an older term's entries). The report's Index
// is the commit index the heartbeat claimed, its RejectHint and LogTerm
// the follower's last entry below that index (LogTerm 0 when its storage
// cannot tell that entry's term), its Commit the follower's commit index
// (where the leader falls back to when it holds another term at
// RejectHint).
//
// The report echoes the heartbeat's Context (a [HeartbeatContext]); that
// echo is its only mark. An ordinary rejection of an append, tickraft's or
// etcd raft's, never carries a Context, and etcd raft's leaders ignore the
// Context of a MsgAppResp, so the mark changes nothing for them.
func IsShortLogReport(m Message) bool {
	return m.Type == MsgAppResp && m.Reject && len(m.Context) > 0
}
