package kvnode

import "sync"

// queue hands items from one goroutine to another without ever blocking
// the producer: the event loop must not wait on its disk worker, nor the
// worker on the loop, or each could wait for the other. Its length is
// bounded by what the Raft node itself bounds (uncommitted entries, chunks
// in flight), not here.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	signal chan struct{} // capacity 1: items may be waiting
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{signal: make(chan struct{}, 1)}
}

// push appends v and wakes the consumer.
func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take removes and returns every waiting item, oldest first.
func (q *queue[T]) take() []T {
	q.mu.Lock()
	items := q.items
	q.items = nil
	q.mu.Unlock()
	return items
}

// ready returns the channel that receives after a push.
func (q *queue[T]) ready() <-chan struct{} { return q.signal }
