// Command mutate is tickraft's own mutation test: it plants known bugs in
// the library, one at a time, and checks that the test suite catches each
// of them with an assertion.
//
//	go run ./tools/mutate                      # every mutant, one at a time
//	go run ./tools/mutate -mutant 020,038      # two mutants, by number or name
//	go run ./tools/mutate -parallel 2 -md      # two at once; a Markdown summary
//	go run ./tools/mutate -list                # the mutants and their rules
//	go run ./tools/mutate -mutant 020 -apply /tmp/m020   # a mutated copy to study
//
// It is never part of the default `go test ./...`: a full run tests every
// package once per mutant and takes tens of minutes on two cores.
//
// # Mutants
//
// Each file mutants/NNN-short-name.mut is one mutant: a small, plausible,
// compiling change (one to three lines) that breaks one rule the library
// implements, with the rule and its section of the Raft paper or thesis.
// The format is plain text:
//
//	rule: §5.4.2 (Figure 8): a leader commits by counting replicas only entries of its term
//	description: the leader hands maybeCommit the term of the entry at the quorum index
//	@@ original core/replication.go
//		if !r.raftLog.maybeCommit(entryID{term: r.term, index: mci}) {
//	@@ mutant
//		t, _ := r.raftLog.term(mci)
//		if !r.raftLog.maybeCommit(entryID{term: t, index: mci}) {
//
// The lines after "@@ original PATH" must occur exactly once in that file
// of the module; the lines after "@@ mutant" replace them (trailing blank
// lines of a block are dropped; a mutant may hold several hunks). Targets
// are the library's non-test Go files, never tools/.
//
// When code moves, the mutants move with it: the default `go test
// ./tools/mutate` checks, in well under a second, that every mutant parses
// and that its original text occurs exactly once in the current tree, so a
// change that moves or rewrites a mutated line must re-base the mutant
// (edit its original and mutant lines) in the same change.
//
// # What a run does
//
// For each mutant, mutate copies the module (without .git and nested
// modules) into a scratch directory under the system's temporary
// directory, applies the mutant there (the real tree is never written) and
// runs `go test -failfast` package by package: the mutant's own package
// first, then -pkgs in order (by default ./core, ./tracker, ./confchange,
// ./readonly, the root package, ./tools/sim and ./tools/rafttest),
// stopping at the first package that fails. Then:
//
//   - If nothing fails, the mutant SURVIVED: no test notices the bug.
//   - If a package fails to build or vet, the mutant is INVALID: fix it.
//   - If the failure shows no transcript text diff (an assertion, a
//     panic, a hang past -timeout), the mutant is killed by that test.
//   - If it shows one, the packages are run again from the one that
//     failed, with TICKRAFT_REWRITE=1 set (the switch that makes
//     transcripts rewrite their expected output instead of comparing it).
//     If a test still fails, the mutant is killed by that test: an
//     assertion caught it. If everything passes, the mutant was caught by
//     TEXT ONLY: a transcript's output changed, and regenerating the
//     transcripts without reading the diff would let the bug through.
//     Such a kill is not counted as a kill.
//
// Each worker keeps its scratch copy at one path, so `go test` reuses the
// cached results of packages a mutant cannot reach. The summary table
// names, per mutant, its status, the test that killed it and the rule it
// breaks. The exit status is 0 when every mutant run was killed by an
// assertion, 1 otherwise, 2 for a usage or setup error.
package main
