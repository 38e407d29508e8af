package raft

import (
	"testing"

	"github.com/tickraft/raft/tools/rapidseed"
)

// TestMain pins the seed of the rapid properties (see tools/rapidseed).
func TestMain(m *testing.M) { rapidseed.Main(m) }
