package kvnode

import "time"

// processReady hands out every Ready the node has.
func (n *Node) processReady() error {
	for n.rn.HasReady() {
		start := time.Now()
		err := n.handleReady() // readyloop.go
		n.metrics.readyLatency.observe(time.Since(start))
		if err != nil {
			return err
		}
		if ss := n.softState; ss != nil {
			n.softState = nil
			n.onSoftState(*ss)
		}
	}
	return nil
}
