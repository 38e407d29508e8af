package sim

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

// replayMix is a small mix for the replay tests: every kind of fault, but
// short runs.
func replayMix() Mix {
	m := DefaultMix()
	m.Base.Steps = 600
	return m
}

func TestTheSameSeedReplaysTheSameRunEventForEvent(t *testing.T) {
	m := replayMix()
	hashes := map[uint64]uint64{}
	for seed := uint64(1); seed <= 8; seed++ {
		a, err := Run(m.Options(seed))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Run(m.Options(seed))
		if a.Hash != b.Hash || a.Events != b.Events || a.Steps != b.Steps {
			t.Fatalf("seed %d: two runs differ: %d events hash %x, then %d events hash %x", seed, a.Events, a.Hash, b.Events, b.Hash)
		}
		if a.Events < 1000 {
			t.Fatalf("seed %d: only %d events", seed, a.Events)
		}
		if other, dup := hashes[a.Hash]; dup {
			t.Fatalf("seeds %d and %d gave the same hash %x", other, seed, a.Hash)
		}
		hashes[a.Hash] = seed
	}
}

func TestTracingChangesNothingAndPrintsTheSameTraceTwice(t *testing.T) {
	o := replayMix().Options(3)
	plain, _ := Run(o)
	var t1, t2 bytes.Buffer
	o.Trace = &t1
	first, _ := Run(o)
	o.Trace = &t2
	Run(o)
	if first.Hash != plain.Hash {
		t.Fatalf("tracing changed the run: hash %x, untraced %x", first.Hash, plain.Hash)
	}
	if !bytes.Equal(t1.Bytes(), t2.Bytes()) {
		t.Fatal("two traces of one seed differ")
	}
	for _, want := range []string{"deliver 1->", "MsgApp Term:", "ready 1:", "durable", "client 1 on", "phase calm"} {
		if !strings.Contains(t1.String(), want) {
			t.Errorf("the trace never says %q", want)
		}
	}
}

func TestTheCommandLineReplaysTheSettings(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		want := replayMix().Options(seed)
		want.Skip = []uint64{3, 17}
		args := strings.Fields(want.Command())[3:] // after "go run ./tools/raftsim"
		fs := flag.NewFlagSet("raftsim", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		mixOf := BindFlags(fs)
		fs.Uint64("seeds", 1, "")
		if err := fs.Parse(args); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, want.Command())
		}
		m, err := mixOf()
		if err != nil {
			t.Fatal(err)
		}
		got := m.Options(m.Base.Seed).withDefaults()
		if w := want.withDefaults(); !reflect.DeepEqual(got, w) {
			t.Fatalf("seed %d: the command line gives\n%+v\nwant\n%+v", seed, got, w)
		}
	}
}
