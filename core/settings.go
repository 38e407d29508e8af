package core

// settings are what a node derives from its Config once, at NewRaft, and
// never changes: switches, bounds and timings that are the same for every
// node configured alike. They live apart from Raft so that the nodes given
// one GroupCache share one copy (GroupCache.intern) instead of each
// holding its own: a process with many groups holds a Raft per member.
// Nothing assigns a field of a settings once it is built.
type settings struct {
	// maxMsgSize is Config.MaxSizePerMsg.
	maxMsgSize uint64
	// maxInflight and maxInflightBytes are Config.MaxInflightMsgs and
	// MaxInflightBytes: the bounds of a leader's window of appends in
	// flight to each follower.
	maxInflight      int
	maxInflightBytes uint64
	// maxPendingReads is Config.MaxPendingReads: the bound on each queue
	// of reads (on the leader, local, forwarded).
	maxPendingReads int
	// leaseTicks is how long a lease lasts, in the leader's ticks
	// (reads.go's leaseTicks).
	leaseTicks int
	// snapshotRetryTicks is Config.SnapshotRetryTicks (0: never resend).
	snapshotRetryTicks uint64
	// offerRetryTicks is the least time between two offers of a chunked
	// snapshot to a follower still waiting for one: SnapshotRetryTicks,
	// or 2*ElectionTick when that is negative, since a lost offer is
	// repeated by nothing else (an offer is small; see reofferSnapshot).
	offerRetryTicks uint64
	// electionTimeout and heartbeatTimeout are Config.ElectionTick and
	// Config.HeartbeatTick, the timeouts of the node's clock
	// (election_clock.go).
	electionTimeout  int
	heartbeatTimeout int
	// chunks configures the chunked snapshot transfer (chunks.go).
	chunks chunkSettings
	// cache is Config.GroupCache, or nil.
	cache *GroupCache
	// windows is the cache's pool of windows of appends in flight of the
	// Config's bounds (windows.go), nil without a cache.
	windows *windowPool
	// logger is Config.Logger (a discarding one by default).
	logger Logger
	// stallTicks is Config.StorageStallTicks; 0 disables the watch
	// (storage_stall.go).
	stallTicks uint64
	// apply bounds what the log hands out to apply (log.go).
	apply applyBounds
	// maxUncommittedSize and maxUncommittedEntries bound a leader's
	// uncommitted tail (uncommitted.go).
	maxUncommittedSize    uint64
	maxUncommittedEntries int

	checkQuorum               bool
	preVote                   bool
	disableProposalForwarding bool
	// stepDownOnRemoval makes a leader removed from the voters step down.
	stepDownOnRemoval bool
	leaseReads        bool
	// asyncStorage hands storage work out as messages to local workers
	// (Config.AsyncStorageWrites) instead of acknowledging it on Advance.
	asyncStorage bool
}

// newSettings derives the settings of cfg, a Config with its defaults
// filled in, shared through cfg's GroupCache if it has one.
func newSettings(cfg *Config) *settings {
	s := settings{
		maxMsgSize:                cfg.MaxSizePerMsg,
		maxInflight:               cfg.MaxInflightMsgs,
		maxInflightBytes:          cfg.MaxInflightBytes,
		maxPendingReads:           cfg.MaxPendingReads,
		leaseTicks:                leaseTicks(cfg.ElectionTick, cfg.LeaseClockDriftTicks),
		snapshotRetryTicks:        uint64(max(cfg.SnapshotRetryTicks, 0)),
		offerRetryTicks:           offerRetryTicks(cfg),
		electionTimeout:           cfg.ElectionTick,
		heartbeatTimeout:          cfg.HeartbeatTick,
		chunks:                    newChunkSettings(cfg),
		cache:                     cfg.GroupCache,
		windows:                   cfg.GroupCache.windowPool(cfg.MaxInflightMsgs, cfg.MaxInflightBytes),
		logger:                    cfg.Logger,
		stallTicks:                uint64(max(cfg.StorageStallTicks, 0)),
		maxUncommittedSize:        cfg.MaxUncommittedEntriesSize,
		maxUncommittedEntries:     cfg.MaxUncommittedEntries,
		apply:                     applyBounds{maxSize: cfg.MaxCommittedSizePerReady, maxEntries: uint64(cfg.MaxCommittedEntriesPerReady)},
		checkQuorum:               !cfg.DisableCheckQuorum,
		preVote:                   !cfg.DisablePreVote,
		disableProposalForwarding: cfg.DisableProposalForwarding,
		stepDownOnRemoval:         !cfg.KeepLeaderAfterRemoval,
		leaseReads:                cfg.LeaseReads,
		asyncStorage:              cfg.AsyncStorageWrites,
	}
	if cfg.GroupCache != nil {
		return cfg.GroupCache.intern(s)
	}
	return &s
}

// offerRetryTicks returns settings.offerRetryTicks of cfg (defaults
// applied).
func offerRetryTicks(cfg *Config) uint64 {
	if cfg.SnapshotRetryTicks > 0 {
		return uint64(cfg.SnapshotRetryTicks)
	}
	return uint64(2 * cfg.ElectionTick)
}
