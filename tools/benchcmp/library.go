package benchcmp

import (
	"github.com/tickraft/raft/tools/benchcmp/etcddriver"
	"github.com/tickraft/raft/tools/benchcmp/tickraftdriver"
	"github.com/tickraft/raft/tools/benchcmp/workload"
)

// Cluster is one in-memory group of a library, as a driver runs it.
type Cluster interface {
	// Elect makes node 1 the leader and stabilizes the group.
	Elect() error
	// Propose proposes count entries carrying data on node 1.
	Propose(data []byte, count int) error
	// Stabilize handles Readys and delivers messages until nothing moves.
	Stabilize() error
	// CheckApplied fails unless every node applied exactly entries
	// entries carrying data, of bytes bytes in all.
	CheckApplied(entries, bytes int) error
	// Sent returns the messages the nodes sent to each other.
	Sent() int
}

// Groups is a set of independent, elected three-node groups of a library.
type Groups interface {
	// TickAll ticks every node of every group once and stabilizes each.
	TickAll() error
	// CheckLeaders fails unless every group is led by node 1 in the term
	// of its election.
	CheckLeaders() error
	// Sent returns the messages the groups' nodes sent to each other.
	Sent() int
}

// Library is one Raft library under comparison: its name and the
// constructors of its driver.
type Library struct {
	// Name names the library in benchmark names and tables.
	Name string
	// NewCluster returns a group of nodes voters, 1..nodes, not yet
	// elected.
	NewCluster func(nodes int, p workload.Params) (Cluster, error)
	// NewGroups returns count three-node groups sharing one network, each
	// with node 1 elected.
	NewGroups func(count int, p workload.Params) (Groups, error)
}

// The libraries the comparison runs.
var (
	Tickraft = Library{
		Name: "tickraft",
		NewCluster: func(nodes int, p workload.Params) (Cluster, error) {
			return tickraftdriver.New(nodes, p)
		},
		NewGroups: func(count int, p workload.Params) (Groups, error) {
			return tickraftdriver.NewGroups(count, p)
		},
	}
	Etcd = Library{
		Name: "etcd",
		NewCluster: func(nodes int, p workload.Params) (Cluster, error) {
			return etcddriver.New(nodes, p)
		},
		NewGroups: func(count int, p workload.Params) (Groups, error) {
			return etcddriver.NewGroups(count, p)
		},
	}
)

// Libraries lists the libraries in the order the tables show them.
var Libraries = []Library{Tickraft, Etcd}
