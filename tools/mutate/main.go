package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// defaultPackages is the order the suite is run in: the fast unit tests of
// the layers first, then the root package's transcripts and properties,
// then the simulator and the interaction harness.
const defaultPackages = "./core,./tracker,./confchange,./readonly,.,./tools/sim,./tools/rafttest"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	mutants  string
	pkgs     string
	parallel int
	timeout  time.Duration
	list     bool
	markdown bool
	keep     bool
	apply    string
}

// run runs the command and returns its exit status: 0 when every mutant
// chosen was killed by an assertion, 1 when one was not (text only,
// survived or invalid), 2 for a usage or setup error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.mutants, "mutant", "", "comma-separated mutants to run, by name or number (default: all)")
	fs.StringVar(&o.pkgs, "pkgs", defaultPackages, "comma-separated packages to test, in order (a mutant's own package goes first)")
	fs.IntVar(&o.parallel, "parallel", 1, "mutants run at once, each in its own scratch copy")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "timeout of one package's go test (a hang counts as a kill)")
	fs.BoolVar(&o.list, "list", false, "list the mutants and the rules they break, and exit")
	fs.BoolVar(&o.markdown, "md", false, "print the summary as a Markdown table")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch copies (their path is printed)")
	fs.StringVar(&o.apply, "apply", "", "copy the module to this new directory with the one -mutant applied, and exit (to study a survivor)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || o.parallel < 1 {
		fmt.Fprintf(stderr, "mutate: bad flags: %v\n", fs.Args())
		return 2
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	root, err := findModuleRoot(wd)
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	all, err := loadMutants(filepath.Join(root, "tools", "mutate", "mutants"))
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	chosen, err := choose(all, o.mutants)
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	if o.apply != "" {
		return applyTo(o.apply, root, chosen, stdout, stderr)
	}
	if o.list {
		for _, m := range chosen {
			fmt.Fprintf(stdout, "%s\t%s\n\t%s\n", m.Name, m.Rule, m.Description)
		}
		return 0
	}
	scratch, err := os.MkdirTemp("", "tickraft-mutate-")
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	if o.keep {
		fmt.Fprintln(stderr, "mutate: scratch copies in", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	r := &runner{root: root, scratch: scratch, pkgs: splitList(o.pkgs), timeout: o.timeout}
	outs := runAll(ctx, r, chosen, o.parallel, stderr)
	if o.markdown {
		printMarkdown(stdout, outs)
	} else {
		printTable(stdout, outs)
	}
	for _, out := range outs {
		if out.Status != Killed {
			return 1
		}
	}
	return 0
}

// applyTo writes a copy of the module at root to dir, which must not
// exist, with the one mutant of ms applied.
func applyTo(dir, root string, ms []*Mutant, stdout, stderr io.Writer) int {
	if len(ms) != 1 {
		fmt.Fprintln(stderr, "mutate: -apply takes exactly one -mutant")
		return 2
	}
	if _, err := os.Stat(dir); err == nil {
		fmt.Fprintf(stderr, "mutate: %s exists; -apply writes a new directory\n", dir)
		return 2
	}
	if err := copyTree(root, dir); err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	if err := ms[0].apply(dir); err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s applied in %s\n", ms[0].Name, dir)
	return 0
}

// choose returns the mutants named in list (names or three-digit
// numbers), or all of them for an empty list.
func choose(all []*Mutant, list string) ([]*Mutant, error) {
	if list == "" {
		return all, nil
	}
	var chosen []*Mutant
	for _, want := range splitList(list) {
		found := false
		for _, m := range all {
			if m.Name == want || m.Name[:3] == want {
				chosen = append(chosen, m)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no mutant %q (see -list)", want)
		}
	}
	return chosen, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// runAll runs the mutants on parallel workers, printing a line per mutant
// as it finishes, and returns the outcomes in the mutants' order.
func runAll(ctx context.Context, r *runner, ms []*Mutant, parallel int, progress io.Writer) []Outcome {
	outs := make([]Outcome, len(ms))
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range next {
				out := r.run(ctx, w, ms[i])
				mu.Lock()
				outs[i] = out
				done++
				fmt.Fprintf(progress, "[%d/%d] %-44s %-9s %s (%s)\n", done, len(ms), ms[i].Name, out.Status,
					out.Killer, out.Elapsed.Round(time.Second))
				mu.Unlock()
			}
		}(w)
	}
	for i := range ms {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range outs {
		if outs[i].Mutant == nil {
			outs[i] = Outcome{Mutant: ms[i], Status: Invalid, Killer: "not run (interrupted)"}
		}
	}
	return outs
}
