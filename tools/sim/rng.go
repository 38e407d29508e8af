package sim

import "math/rand/v2"

// The streams of randomness of a run, one per concern, each a PCG seeded
// with the run's seed and the stream's number. Keeping them apart makes a
// change in one concern (a fault skipped by the shrinker) shift the draws
// of the others as little as possible.
const (
	streamNetwork uint64 = iota + 1
	streamDisk
	streamFaults
	streamClients
	streamNodes
	streamMix
	streamLoss
	streamQuiesce
)

// rng is one stream.
type rng struct{ *rand.Rand }

// newRNG returns stream of the run seeded with seed.
func newRNG(seed, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(seed, stream*0x9e3779b97f4a7c15))}
}

// chance reports whether an event of probability p happens. It draws
// even when p is 0, so that the stream does not depend on the rates.
func (r rng) chance(p Probability) bool { return r.Float64() < float64(p) }

// between returns an int in [lo, hi].
func (r rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// pick returns an index in [0, n); n must be positive.
func (r rng) pick(n int) int { return r.IntN(n) }
