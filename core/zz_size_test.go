package core

import (
	"fmt"
	"reflect"
	"testing"
)

func TestZZSize(t *testing.T) {
	for _, v := range []any{Raft{}, raftLog{}, MemoryStorage{}, unstable{}} {
		ty := reflect.TypeOf(v)
		fmt.Println(ty.Name(), ty.Size())
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			fmt.Printf("  %-28s off=%4d size=%4d\n", f.Name, f.Offset, f.Type.Size())
		}
	}
}
