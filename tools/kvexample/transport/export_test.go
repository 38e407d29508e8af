package transport

import (
	"math/rand/v2"
	"time"
)

// BackoffDelay exports backoffDelay to the tests.
func BackoffDelay(lo, hi time.Duration, failures int, rng *rand.Rand) time.Duration {
	return backoffDelay(lo, hi, failures, rng)
}

// SetClock sets the clock of the receive rate bound of a Config.
func SetClock(c *Config, now func() time.Time) { c.now = now }
