package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Status is what the suite did to a mutant.
type Status string

// The statuses, from best to worst.
const (
	// Killed: a test failed with the transcript rewrite switch set, so an
	// assertion, not a transcript's text, caught the mutant.
	Killed Status = "killed"
	// TextOnly: only a transcript's text caught the mutant; with the
	// rewrite switch set every test passes. Regenerating the transcripts
	// without reading the diff would let the bug through.
	TextOnly Status = "TEXT ONLY"
	// Survived: every test passed.
	Survived Status = "SURVIVED"
	// Invalid: the mutant did not build or pass go vet, or could not be
	// applied; it proves nothing and must be fixed.
	Invalid Status = "INVALID"
)

// Outcome is the result of running the suite against one mutant.
type Outcome struct {
	Mutant *Mutant
	Status Status
	// Killer names the test that caught the mutant ("./core TestX"): the
	// first that failed with the rewrite switch set, for Killed; the
	// transcript whose text changed, for TextOnly; the reason, for Invalid.
	Killer string
	// TextFirst names the transcript whose text failed first when a
	// semantic test elsewhere then caught the mutant ("" otherwise).
	TextFirst string
	Elapsed   time.Duration
}

// runner runs the suite against mutants in scratch copies of the module.
type runner struct {
	root    string   // the module's tree, never written
	scratch string   // a temporary directory for the copies
	pkgs    []string // the packages to test, in the order to test them
	timeout time.Duration
}

// order returns the packages to test for m: those it changes first, then
// the rest in the runner's order.
func (r *runner) order(m *Mutant) []string {
	pkgs := m.Packages()
	for _, p := range r.pkgs {
		if !contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// run runs the suite against m in the scratch copy of worker w. The copy
// keeps its path from one mutant to the next, so that `go test` reuses
// cached results of packages a mutant does not reach.
func (r *runner) run(ctx context.Context, w int, m *Mutant) Outcome {
	start := time.Now()
	out := r.classify(ctx, w, m)
	out.Mutant, out.Elapsed = m, time.Since(start)
	return out
}

func (r *runner) classify(ctx context.Context, w int, m *Mutant) Outcome {
	dir := filepath.Join(r.scratch, fmt.Sprintf("w%d", w), "tickraft")
	if err := os.RemoveAll(dir); err != nil {
		return Outcome{Status: Invalid, Killer: err.Error()}
	}
	if err := copyTree(r.root, dir); err != nil {
		return Outcome{Status: Invalid, Killer: "copying the tree: " + err.Error()}
	}
	if err := m.apply(dir); err != nil {
		return Outcome{Status: Invalid, Killer: err.Error()}
	}
	pkgs := r.order(m)
	first, at := r.sequence(ctx, dir, pkgs, nil)
	switch {
	case ctx.Err() != nil:
		return Outcome{Status: Invalid, Killer: "interrupted"}
	case first == nil:
		return Outcome{Status: Survived}
	case first.Build:
		return Outcome{Status: Invalid, Killer: first.killer()}
	case !first.TextDiff:
		// No transcript's text differed: the failure is an assertion's,
		// a panic or a hang, which the rewrite switch cannot change.
		return Outcome{Status: Killed, Killer: first.killer()}
	}
	// Caught. Run again from the package that caught it, with the
	// transcripts rewriting instead of comparing: a failure now is an
	// assertion's.
	sem, _ := r.sequence(ctx, dir, pkgs[at:], []string{rewriteEnv + "=1"})
	switch {
	case ctx.Err() != nil:
		return Outcome{Status: Invalid, Killer: "interrupted"}
	case sem == nil:
		return Outcome{Status: TextOnly, Killer: first.killer()}
	}
	out := Outcome{Status: Killed, Killer: sem.killer()}
	if sem.killer() != first.killer() {
		out.TextFirst = first.killer()
	}
	return out
}

// sequence tests pkgs in order and stops at the first that fails,
// returning its result and position (nil if all pass).
func (r *runner) sequence(ctx context.Context, dir string, pkgs, env []string) (*pkgResult, int) {
	for i, p := range pkgs {
		res := goTest(ctx, dir, p, env, r.timeout)
		if res.Failed || ctx.Err() != nil {
			return &res, i
		}
	}
	return nil, 0
}
