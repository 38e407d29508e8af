package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
	"github.com/tickraft/raft/tools/rafttest"
)

// options are the command-line switches.
type options struct {
	rewrite bool // write the actual outputs into the files
	quiet   bool // print only mismatches and the summary
	verbose bool // interleave the nodes' log lines
}

// fileResult is what running one transcript gave.
type fileResult struct {
	path       string
	blocks     int
	mismatches int
	rewritten  bool
	// err is set when the file could not be read, parsed or written, or
	// when the harness stopped it.
	err error
}

// runFiles runs each transcript on a fresh harness, each in a subtest of t
// so that a block the harness cannot read stops only its own file, and
// prints the blocks, the mismatches and a summary to stdout.
func runFiles(t *testing.T, paths []string, opts options, stdout, stderr io.Writer) []fileResult {
	var results []fileResult
	for _, path := range paths {
		res := fileResult{path: path, err: fmt.Errorf("the harness stopped the file")}
		t.Run(filepath.Base(path), func(t *testing.T) { res = runFile(t, path, opts, stdout) })
		results = append(results, res)
	}
	printSummary(stdout, results, opts)
	return results
}

// runFile runs one transcript and, with opts.rewrite, writes the actual
// outputs back into it.
func runFile(t *testing.T, path string, opts options, w io.Writer) fileResult {
	res := fileResult{path: path}
	src, err := os.ReadFile(path)
	if err != nil {
		res.err = err
		return res
	}
	blocks, err := datadriven.Parse(path, bytes.NewReader(src))
	if err != nil {
		res.err = err
		return res
	}
	if !opts.quiet {
		fmt.Fprintf(w, "=== %s\n", path)
	}
	lines := strings.Split(string(src), "\n")
	env := rafttest.NewEnv()
	logs := &lineLogger{}
	if opts.verbose {
		env.Logger = logs
	}
	outputs := make([]string, len(blocks))
	for i := range blocks {
		d := &blocks[i]
		outputs[i] = env.Handle(t, d)
		logLines := logs.take()
		res.blocks++
		matched := normalize(d.Expected) == normalize(outputs[i])
		if !matched {
			res.mismatches++
		}
		printBlock(w, d, lines, outputs[i], matched, opts)
		for _, l := range logLines {
			fmt.Fprintf(w, "log: %s\n", l)
		}
	}
	if opts.rewrite && len(blocks) > 0 {
		res.rewritten, res.err = rewriteFile(path, src, blocks, outputs)
	}
	return res
}

// printBlock prints a block as it would read in the transcript with its
// actual output, and after a mismatch the diff against the recorded one.
func printBlock(w io.Writer, d *datadriven.TestData, src []string, actual string, matched bool, opts options) {
	if opts.quiet && matched {
		return
	}
	if opts.quiet {
		fmt.Fprintf(w, "=== %s\n", d.Pos)
	}
	fmt.Fprintln(w, directive(d, src))
	if d.Input != "" {
		fmt.Fprintln(w, d.Input)
	}
	fmt.Fprintf(w, "----\n%s", normalize(actual))
	if !matched {
		verb := "differs from"
		if opts.rewrite {
			verb = "replaces"
		}
		fmt.Fprintf(w, "--- %s: this output %s the recorded one (-recorded +actual):\n", d.Pos, verb)
		fmt.Fprint(w, datadriven.LineDiff(normalize(d.Expected), normalize(actual)))
	}
	fmt.Fprintln(w)
}

// directive returns the block's directive line as the file has it (found
// through the line number of d.Pos), or rebuilt from its command and
// arguments when src does not have it.
func directive(d *datadriven.TestData, src []string) string {
	if i := strings.LastIndexByte(d.Pos, ':'); i >= 0 {
		if n, err := strconv.Atoi(d.Pos[i+1:]); err == nil && n >= 1 && n <= len(src) {
			if line := strings.TrimSpace(src[n-1]); strings.HasPrefix(line, d.Cmd) {
				return line
			}
		}
	}
	words := []string{d.Cmd}
	for _, a := range d.CmdArgs {
		words = append(words, a.String())
	}
	return strings.Join(words, " ")
}

// normalize brings an output to end in exactly one newline (none when it
// is empty), as datadriven compares them.
func normalize(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}

// rewriteFile writes the transcript with its new outputs over path, keeping
// its permissions, and reports whether anything changed.
func rewriteFile(path string, src []byte, blocks []datadriven.TestData, outputs []string) (bool, error) {
	out, err := datadriven.Rewrite(blocks, outputs)
	if err != nil || bytes.Equal(out, src) {
		return false, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return true, os.WriteFile(path, out, info.Mode().Perm())
}

// printSummary prints one line per file.
func printSummary(w io.Writer, results []fileResult, opts options) {
	for _, r := range results {
		switch {
		case r.err != nil:
			fmt.Fprintf(w, "FAIL %s: %v\n", r.path, r.err)
		case r.rewritten:
			fmt.Fprintf(w, "rewrote %s: %d blocks, %d outputs changed\n", r.path, r.blocks, r.mismatches)
		case r.mismatches > 0 && !opts.rewrite:
			fmt.Fprintf(w, "FAIL %s: %d of %d blocks differ\n", r.path, r.mismatches, r.blocks)
		default:
			fmt.Fprintf(w, "ok %s: %d blocks\n", r.path, r.blocks)
		}
	}
}

// exitStatus is 1 when any file failed or, unless the run rewrites them,
// differs; 0 otherwise.
func exitStatus(results []fileResult, opts options) int {
	for _, r := range results {
		if r.err != nil || (r.mismatches > 0 && !opts.rewrite) {
			return 1
		}
	}
	return 0
}
