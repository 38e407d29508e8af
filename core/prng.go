package core

// prng is the node's private pseudo-random generator (splitmix64). It is
// used only for randomized election timeouts; seeding it from Config makes
// every run reproducible.
type prng struct{ state uint64 }

func (p *prng) next() uint64 {
	p.state += 0x9e3779b97f4a7c15
	z := p.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive.
func (p *prng) intn(n int) int {
	return int(p.next() % uint64(n))
}
