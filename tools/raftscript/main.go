// Command raftscript replays transcript files through the interaction
// harness of package rafttest, the one behind the library's own
// testdata/*.txt, and prints every directive with the output it gives now.
//
// Usage:
//
//	go run ./tools/raftscript [-rewrite] [-q] [-v] FILE...
//
// Each file runs on a fresh cluster, its blocks in order. A block whose
// output differs from the one recorded in the file is reported with a line
// diff (-expected +actual), and raftscript then exits with status 1. With
// -rewrite it writes the actual outputs into the files instead, keeping
// comments, directives and input as they were, and exits 0 unless a file
// could not be run or written. -q prints only the mismatches and the
// summary.
//
// The transcript format is package datadriven's; the commands are
// rafttest's (see its package documentation). A block the harness cannot
// read (an unknown command, a malformed argument) stops its file with the
// harness's message; the other files still run.
//
// -v interleaves the nodes' log lines: after each block, the lines its
// nodes logged, each starting with "log: " (the harness's
// Env.Logger). Transcripts themselves show typed state, never log prose.
//
// Exit status: 0 when every file ran and matched (or was rewritten), 1 on
// any mismatch, unreadable file or harness failure, 2 on bad usage.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"testing"
)

func main() {
	opts, paths, err := parseArgs(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	os.Exit(runWithHarnessT(paths, opts, os.Stdout, os.Stderr))
}

// parseArgs reads the command line. It prints the usage and returns an
// error when the command line is wrong or names no file.
func parseArgs(args []string, stderr io.Writer) (options, []string, error) {
	var opts options
	fs := flag.NewFlagSet("raftscript", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opts.rewrite, "rewrite", false, "write the actual outputs into the files instead of comparing")
	fs.BoolVar(&opts.quiet, "q", false, "print only mismatches and the summary")
	fs.BoolVar(&opts.verbose, "v", false, "interleave the nodes' log lines (lines starting with log:)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftscript [-rewrite] [-q] [-v] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return opts, nil, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return opts, nil, fmt.Errorf("no transcript named")
	}
	return opts, fs.Args(), nil
}

// runWithHarnessT runs the files and returns the exit status. The harness
// takes a *testing.T (its handlers fail a test on a block they cannot
// read), and the testing package makes one only inside a test run, so the
// files run inside testing.Main as a single test. When no file fails that
// way, the exit status is decided here, without the testing package's
// PASS/FAIL footer; when one does, testing.Main prints the harness's
// message and exits 1.
func runWithHarnessT(paths []string, opts options, stdout, stderr io.Writer) int {
	testing.Init()
	// testing.Main parses the command line's -test.* flags: give it none.
	os.Args = os.Args[:1]
	tests := []testing.InternalTest{{Name: "raftscript", F: func(t *testing.T) {
		results := runFiles(t, paths, opts, stdout, stderr)
		if !t.Failed() {
			os.Exit(exitStatus(results, opts))
		}
	}}}
	matchAll := func(pat, str string) (bool, error) { return true, nil }
	testing.Main(matchAll, tests, nil, nil)
	return 1 // not reached: testing.Main exits
}
