package main

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// Claim: a server process that applies its own removal exits with status
// exitRemoved, not 1 (an error) nor 0 (a signal).
func TestRemovedProcessExitsWithItsOwnStatus(t *testing.T) {
	pc := startProcCluster(t, 3, "-insecure-admin")
	lead := pc.leader()
	pc.mu.Lock()
	cmd := pc.procs[lead]
	delete(pc.procs, lead) // this test reaps it
	pc.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := pc.c.Remove(pc.ctx(20*time.Second), lead); err != nil {
		t.Fatalf("removing leader %d: %v", lead, err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitRemoved {
			t.Fatalf("the removed node exited with %v; want status %d", err, exitRemoved)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("node %d applied its removal and is still running", lead)
	}
}
