package raft_test

import (
	"testing"

	"github.com/tickraft/raft"
	"github.com/tickraft/raft/tools/datadriven"
	"github.com/tickraft/raft/tools/rafttest"
)

// TestTranscripts runs every protocol transcript in testdata/, each on a
// fresh cluster. Each file tells one scenario; each block opens with the
// claim it shows. Rewrite the expected outputs with TICKRAFT_REWRITE=1.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := rafttest.NewEnv()
		env.SetRandomizedElectionTimeout = (*raft.RawNode).SetRandomizedElectionTimeout
		datadriven.RunTest(t, path, env.Handle)
	})
}
