package walbench

import "fmt"

// Entry is one log entry as the benchmark saves it, in terms every
// library can store: an index, the term it was proposed in, and the
// application's bytes.
type Entry struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// HardState is what a node must remember besides its log: its current
// term, whom it voted for in that term, and (for the libraries that keep
// it) the highest index it knows committed.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
}

// Batch is one save: the entries a node persists from one Ready (or one
// append of its Raft library) and the hard state that goes with them.
type Batch struct {
	HardState HardState
	Entries   []Entry
}

// Writer is an open log of one library, written the way that library's
// own Raft implementation writes it. Save returns only when the batch is
// durable (fsynced); Close releases the files, after which the log can be
// replayed.
type Writer interface {
	Save(b Batch) error
	Close() error
}

// Recovered is what a library hands back when a log is reopened: the
// hard state (Commit is zero for the libraries that do not keep it) and
// how many entries were visited, first to last.
type Recovered struct {
	HardState HardState
	Entries   int
	First     uint64
	Last      uint64
}

// Driver opens one library's log. Create starts an empty log in an
// empty directory; Replay reopens what Create's writer left (after its
// Close), reads every entry back in index order and hands each to visit,
// whose argument is valid only during the call, then closes the log.
type Driver struct {
	Name   string
	Create func(dir string) (Writer, error)
	Replay func(dir string, visit func(Entry)) (Recovered, error)
}

// Drivers returns the four drivers in the order the tables list them.
func Drivers() []Driver {
	return []Driver{TickraftDriver(), EtcdDriver(), BoltDriver(), RaftWALDriver()}
}

// DriverByName returns the driver called name, a library's or a floor's.
func DriverByName(name string) (Driver, error) {
	for _, d := range append(append(Drivers(), TickraftDefaultDriver()), Floors()...) {
		if d.Name == name {
			return d, nil
		}
	}
	return Driver{}, fmt.Errorf("walbench: no driver named %q", name)
}
