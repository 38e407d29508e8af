package tracker

// InflightsContents returns the last index and bytes of every message in
// the window, oldest first, for tests that compare the window with a model.
func InflightsContents(in *Inflights) [][2]uint64 {
	var out [][2]uint64
	for i := 0; i < in.Count(); i++ {
		m := in.at(i)
		out = append(out, [2]uint64{m.index, m.bytes})
	}
	return out
}

// InflightsCapacity returns the length of the window's backing ring, for
// tests of its lazy growth.
func InflightsCapacity(in *Inflights) int { return len(in.buffer) }

// SwapMembers swaps the progress entries at positions i and j, for tests
// of the invariant that keeps them in ID order.
func SwapMembers(p *ProgressTracker, i, j int) {
	p.members[i], p.members[j] = p.members[j], p.members[i]
}
