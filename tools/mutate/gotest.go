package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"time"
)

// rewriteEnv is the switch that makes the transcript tests rewrite their
// expected outputs instead of comparing them (tools/datadriven): with it
// set, a transcript fails only on what its harness asserts, never on text.
const rewriteEnv = "TICKRAFT_REWRITE"

// pkgResult is what one `go test` of one package found.
type pkgResult struct {
	Pkg string
	// Failed reports whether the package failed, for any reason.
	Failed bool
	// Build reports whether it failed to build or to pass go vet: the
	// mutant is not a valid one.
	Build bool
	// Tests are the failing tests, in the order they failed (a subtest
	// before its parent).
	Tests []string
	// Note says why the package failed when no test is named (a panic
	// outside a test, a build error).
	Note string
	// TextDiff reports whether a transcript's output differed from the
	// recorded one: only then can the failure be one of text alone.
	TextDiff bool
}

// textDiffMarker ends the message of tools/datadriven for a transcript
// whose output differs from the recorded one.
const textDiffMarker = rewriteEnv + "=1 to accept the actual output"

// killer returns the name of what failed first: the first failing test,
// or the note.
func (r pkgResult) killer() string {
	if len(r.Tests) > 0 {
		return r.Pkg + " " + r.Tests[0]
	}
	return r.Pkg + " (" + r.Note + ")"
}

// testEvent is the part of a `go test -json` event the runner reads.
type testEvent struct {
	Action      string
	Test        string
	Output      string
	FailedBuild string
}

// goTest runs the tests of pkg in the module at dir with -failfast, with
// extra environment variables env, and reports what failed.
func goTest(ctx context.Context, dir, pkg string, env []string, timeout time.Duration) pkgResult {
	cmd := exec.CommandContext(ctx, "go", "test", "-failfast", "-json", "-timeout", timeout.String(), pkg)
	cmd.Dir = dir
	cmd.Env = append(environWithout(rewriteEnv), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := parseTestJSON(pkg, out)
	if err != nil {
		res.Failed = true
	}
	if res.Failed && len(res.Tests) == 0 && res.Note == "" {
		res.Note = firstLine(stderr.String())
		if res.Note == "" {
			res.Note = "failed: " + errString(err)
		}
	}
	if strings.Contains(stderr.String(), "[build failed]") || strings.Contains(stderr.String(), "[setup failed]") {
		res.Build = true
	}
	return res
}

// parseTestJSON reads the events of `go test -json`.
func parseTestJSON(pkg string, out []byte) pkgResult {
	res := pkgResult{Pkg: pkg}
	var (
		panicLine string
		running   bool   // the lines after "running tests:" name them
		hung      string // the first of them
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Action == "build-fail" || ev.FailedBuild != "":
			res.Failed, res.Build = true, true
			res.Note = "build failed"
		case ev.Action == "build-output" && res.Note == "":
			if l := strings.TrimSpace(ev.Output); l != "" && !strings.HasPrefix(l, "#") {
				res.Note = "build: " + l
			}
		case ev.Action == "fail" && ev.Test != "":
			res.Failed = true
			res.Tests = append(res.Tests, ev.Test)
		case ev.Action == "fail":
			res.Failed = true
		case ev.Action == "output":
			l := strings.TrimSpace(ev.Output)
			if strings.Contains(l, textDiffMarker) {
				res.TextDiff = true
			}
			switch {
			case panicLine == "" && (strings.HasPrefix(l, "panic:") || strings.Contains(l, "test timed out")):
				panicLine = l
			case l == "running tests:":
				running = true
			case running && hung == "" && l != "":
				// "TestName (10m0s)": the test a timeout stopped.
				hung, _, _ = strings.Cut(l, " ")
			}
		}
	}
	if res.Failed && len(res.Tests) == 0 && hung != "" {
		res.Tests = []string{hung}
	}
	if res.Failed && len(res.Tests) == 0 && res.Note == "" {
		res.Note = panicLine
	}
	if res.Build && !strings.HasPrefix(res.Note, "build") {
		res.Note = "build failed"
	}
	return res
}

// environWithout returns the environment without the variable name, so
// that a user's setting cannot change what a run means.
func environWithout(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			env = append(env, kv)
		}
	}
	return env
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
