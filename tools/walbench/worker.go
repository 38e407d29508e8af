package walbench

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// WorkerFlag is the first argument that makes the compare command a
// worker: a child process that runs one measurement and prints it.
const WorkerFlag = "-walbench-worker"

// workerJob is one measurement a worker runs.
type workerJob struct {
	kind     string // "save", "interleaved" or "replay"
	driver   string // for "interleaved", a comma-separated list
	point    Point
	budget   time.Duration
	maxSaves int
	entries  int
	dir      string // the directory under which the worker makes its own
}

// args returns the command-line arguments that make a worker run j.
func (j workerJob) args() []string {
	return []string{WorkerFlag, j.kind,
		"-driver", j.driver,
		"-payload", fmt.Sprint(j.point.Payload),
		"-per-save", fmt.Sprint(j.point.PerSave),
		"-budget", j.budget.String(),
		"-max-saves", fmt.Sprint(j.maxSaves),
		"-entries", fmt.Sprint(j.entries),
		"-dir", j.dir,
	}
}

// WorkerMain runs the measurement args (which follow WorkerFlag) name,
// in a new directory under -dir that it removes afterwards, and writes
// its result to out as JSON.
func WorkerMain(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("walbench worker: no measurement named")
	}
	j := workerJob{kind: args[0]}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.StringVar(&j.driver, "driver", "", "")
	fs.IntVar(&j.point.Payload, "payload", 128, "")
	fs.IntVar(&j.point.PerSave, "per-save", 1, "")
	fs.DurationVar(&j.budget, "budget", time.Second, "")
	fs.IntVar(&j.maxSaves, "max-saves", 0, "")
	fs.IntVar(&j.entries, "entries", 0, "")
	fs.StringVar(&j.dir, "dir", os.TempDir(), "")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var ds []Driver
	for _, name := range strings.Split(j.driver, ",") {
		d, err := DriverByName(name)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	d := ds[0]
	dir, err := os.MkdirTemp(j.dir, "walbench-"+j.kind+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var res any
	switch j.kind {
	case "interleaved":
		res, err = MeasureInterleaved(ds, dir, j.point, j.budget, j.maxSaves)
	case "save":
		res, err = MeasureSaves(d, dir, j.point, j.budget, j.maxSaves)
	case "replay":
		res, err = MeasureReplay(d, dir, j.point.Payload, j.entries)
	default:
		err = fmt.Errorf("walbench worker: unknown measurement %q", j.kind)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(res)
}
