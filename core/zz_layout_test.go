package core

import (
	"fmt"
	"reflect"
	"testing"
)

func dumpLayout(v any) {
	t := reflect.TypeOf(v)
	fmt.Printf("%s size %d\n", t, t.Size())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fmt.Printf("  %4d %4d %s %s\n", f.Offset, f.Type.Size(), f.Name, f.Type)
	}
}

func TestZZLayout(t *testing.T) {
	dumpLayout(Raft{})
	dumpLayout(raftLog{})
	dumpLayout(unstable{})
	dumpLayout(leaderState{})
	dumpLayout(quiescence{})
	dumpLayout(electionClock{})
	dumpLayout(readyState{})
	dumpLayout(outbox{})
	dumpLayout(MemoryStorage{})
	dumpLayout(memorySegment{})
}
