package core

import (
	"reflect"

	"github.com/tickraft/raft/raftpb"
	"github.com/tickraft/raft/tracker"
)

// GroupCache is what the nodes of many groups in one process may share so
// that each idle node costs less: the arrays their queued messages are
// held in between a Ready and its Advance (and the records of them), and
// one copy of the settings derived from Configs alike (all but the ID,
// Storage, Seed, Applied and Recovering; a Logger whose type == cannot
// compare is never shared), one copy of each membership configuration
// its nodes install (the nodes of groups with the same member IDs hold
// the same few), and the leaders' windows of appends in flight while
// none are. Without one, each node keeps the arrays it uses and its
// settings for itself (a few hundred bytes per node); with one, a node
// holds an array only from the moment it queues a message to the Advance
// that takes it back, and an idle group holds none. It changes nothing a
// node does or sends.
//
// The cache shares the first 16 distinct configurations and the first 16
// distinct settings it is given and keeps them for its life; a node given
// another holds its own (as without a cache). A process whose groups
// change membership often, each to different members, soon shares only
// the configurations of its early groups.
//
// Share a GroupCache by passing it in the Config of every node that
// should use it (Config.GroupCache). A GroupCache is not safe for
// concurrent use: share one only between nodes whose calls one goroutine
// makes, or that the application otherwise never calls at the same time
// (one cache per worker goroutine of a multi-group server, say). Nodes
// that are driven concurrently need caches of their own, or none.
//
// The zero value is an empty cache ready for use. It keeps arrays for at
// most 1,024 messages in all; what it cannot keep is left to the
// collector.
type GroupCache struct {
	// spare are the arrays returned, emptied and cleared, for the next
	// node that queues a message; spareCap is the sum of their
	// capacities.
	spare    [][]raftpb.Message
	spareCap int
	// kept are the records of kept arrays (keptArrays) given back, empty,
	// for the next node whose Ready hands messages out.
	kept []*keptArrays
	// settings are the distinct settings of the nodes built with the
	// cache, at most maxCachedSettings of them.
	settings []*settings
	// configs are the distinct membership configurations the nodes
	// installed, at most maxCachedConfigs of them; never modified (a
	// tracker never modifies its configuration, and confchange computes a
	// change on a copy).
	configs []*tracker.Config
	// windows are the pools of the leaders' windows of appends in flight
	// (windows.go), one per pair of bounds, at most maxCachedSettings.
	windows []*windowPool
}

// maxCachedConfigs bounds the distinct configurations a GroupCache
// shares: the groups of a process mostly number their members alike, and
// a node with yet another configuration keeps its own.
const maxCachedConfigs = 16

// maxCachedSettings bounds the distinct settings a GroupCache shares: a
// process configures its groups in a few ways, and a node configured in
// yet another way keeps its own.
const maxCachedSettings = 16

// maxCachedMessages bounds the capacity, in messages, of the arrays a
// GroupCache keeps: a burst of many nodes with messages queued at once
// leaves no more than this behind.
const maxCachedMessages = 4 * maxMsgsCapHint

// NewGroupCache returns an empty GroupCache.
func NewGroupCache() *GroupCache { return &GroupCache{} }

// takeArray returns an empty array for at least n messages: a spare one
// when the cache holds one (the most recently returned: it is the likeliest
// to be in the processor's cache), else a new one.
func (c *GroupCache) takeArray(n int) []raftpb.Message {
	if k := len(c.spare); k > 0 {
		s := c.spare[k-1]
		c.spare[k-1] = nil
		c.spare = c.spare[:k-1]
		c.spareCap -= cap(s)
		if cap(s) >= n {
			return s
		}
	}
	return make([]raftpb.Message, 0, n)
}

// putArray takes back an array whose messages are no longer needed. It is
// cleared, so that it holds no payload, and kept if the cache has room.
func (c *GroupCache) putArray(s []raftpb.Message) {
	if cap(s) == 0 || cap(s) > maxMsgsCapHint || c.spareCap+cap(s) > maxCachedMessages {
		return
	}
	clear(s[:cap(s)])
	c.spare = append(c.spare, s[:0])
	c.spareCap += cap(s)
}

// takeKept returns an empty record of kept arrays: a spare one when the
// cache holds one, else a new one. A nil cache (a node without one)
// returns a new one.
func (c *GroupCache) takeKept() *keptArrays {
	if c != nil {
		if k := len(c.kept); k > 0 {
			rec := c.kept[k-1]
			c.kept[k-1] = nil
			c.kept = c.kept[:k-1]
			return rec
		}
	}
	return &keptArrays{}
}

// putKept takes back a record of kept arrays that holds none, and keeps
// it if the cache has room (as many records as it keeps messages).
func (c *GroupCache) putKept(k *keptArrays) {
	if len(c.kept) >= maxCachedMessages {
		return
	}
	*k = keptArrays{}
	c.kept = append(c.kept, k)
}

// intern returns the settings equal to s that the cache shares, adding s
// if it has room.
func (c *GroupCache) intern(s settings) *settings {
	return shareIn(&c.settings, &s, maxCachedSettings, sameSettings)
}

// shareIn returns the element of *list that same finds equal to v, else v
// itself, which it adds to *list if the list holds fewer than limit.
func shareIn[T any](list *[]*T, v *T, limit int, same func(a, b *T) bool) *T {
	for _, shared := range *list {
		if same(shared, v) {
			return shared
		}
	}
	if len(*list) < limit {
		*list = append(*list, v)
	}
	return v
}

// sameSettings reports whether a and b are equal, their loggers included.
// A logger whose value cannot be compared (a func, a struct holding a
// slice) would make == panic: such a logger equals no other, and its node
// keeps settings of its own.
func sameSettings(a, b *settings) bool {
	return comparableLogger(a.logger) && comparableLogger(b.logger) && *a == *b
}

// comparableLogger reports whether == may compare l (nil may).
func comparableLogger(l Logger) bool {
	return l == nil || reflect.ValueOf(l).Comparable()
}

// config returns a configuration equal to cfg for a node to install: the
// one the cache shares if it holds one, else cfg itself, which the cache
// then shares if it has room. A nil cache (a node without one) returns
// cfg. Either way nobody may modify the result.
func (c *GroupCache) config(cfg tracker.Config) *tracker.Config {
	if c == nil {
		return &cfg
	}
	return shareIn(&c.configs, &cfg, maxCachedConfigs, (*tracker.Config).Equal)
}

// windowPool returns the cache's pool of windows of the given bounds,
// adding one if it has none and room for it; a nil cache, or a full one,
// returns nil (the node then keeps windows of its own).
func (c *GroupCache) windowPool(maxMsgs int, maxBytes uint64) *windowPool {
	if c == nil {
		return nil
	}
	for _, p := range c.windows {
		if p.maxMsgs == maxMsgs && p.maxBytes == maxBytes {
			return p
		}
	}
	if len(c.windows) >= maxCachedSettings {
		return nil
	}
	p := &windowPool{maxMsgs: maxMsgs, maxBytes: maxBytes, empty: tracker.NewInflights(maxMsgs, maxBytes)}
	c.windows = append(c.windows, p)
	return p
}
