package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// transcript is one of the library's own transcripts.
const transcript = "../../testdata/single_node_elects_itself_and_commits.txt"

// childEnv makes the test binary run raftscript's main instead of the
// tests, so that the tests can check its exit status and output.
const childEnv = "RAFTSCRIPT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runRaftscript runs raftscript's main in a child process with args and
// returns its exit status and combined output.
func runRaftscript(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running raftscript: %v", err)
	return 0, ""
}

// wrongCopy writes a copy of the transcript whose recorded outputs differ
// from what the harness prints in two blocks, and returns its path.
func wrongCopy(t *testing.T) (path string, original []byte) {
	t.Helper()
	original, err := os.ReadFile(transcript)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(original), "proposed at 1/2", "proposed at 1/9", 1)
	wrong = strings.Replace(wrong, "1/2 EntryNormal \"x\"\n\nraft-log", "1/2 EntryNormal \"y\"\n\nraft-log", 1)
	if wrong == string(original) {
		t.Fatal("the transcript changed: the test no longer damages it")
	}
	path = filepath.Join(t.TempDir(), "wrong.txt")
	if err := os.WriteFile(path, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, original
}

func TestRepoTranscriptReplaysWithoutMismatch(t *testing.T) {
	var out bytes.Buffer
	results := runFiles(t, []string{transcript}, options{}, &out, &out)
	if got := exitStatus(results, options{}); got != 0 {
		t.Fatalf("exit status %d, want 0; output:\n%s", got, out.String())
	}
	for _, want := range []string{"add-nodes 1 voters=(1)\n----\n1: Term:0", "proposed at 1/2\n", "ok " + transcript + ": 8 blocks"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWrongTranscriptFailsWithADiffAndRewriteFixesIt(t *testing.T) {
	path, original := wrongCopy(t)
	var out bytes.Buffer
	results := runFiles(t, []string{path}, options{}, &out, &out)
	if got := exitStatus(results, options{}); got != 1 || results[0].mismatches != 2 {
		t.Fatalf("exit status %d with %d mismatches, want 1 with 2; output:\n%s", got, results[0].mismatches, out.String())
	}
	for _, want := range []string{"- proposed at 1/9\n+ proposed at 1/2\n", "-   apply: 1/2 EntryNormal \"y\"\n+   apply: 1/2 EntryNormal \"x\"\n", "2 of 8 blocks differ"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	rewrite := options{rewrite: true, quiet: true}
	out.Reset()
	results = runFiles(t, []string{path}, rewrite, &out, &out)
	if got := exitStatus(results, rewrite); got != 0 || !results[0].rewritten {
		t.Fatalf("-rewrite: exit status %d, rewritten %v; output:\n%s", got, results[0].rewritten, out.String())
	}
	fixed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fixed, original) {
		t.Errorf("-rewrite did not restore the transcript; got:\n%s", fixed)
	}
	out.Reset()
	results = runFiles(t, []string{path}, options{}, &out, &out)
	if got := exitStatus(results, options{}); got != 0 {
		t.Errorf("after -rewrite: exit status %d, want 0; output:\n%s", got, out.String())
	}
}

func TestCommandExitStatus(t *testing.T) {
	wrong, _ := wrongCopy(t)
	unknown := filepath.Join(t.TempDir(), "unknown.txt")
	if err := os.WriteFile(unknown, []byte("frobnicate 1\n----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
		says string
	}{
		{"a matching transcript", []string{transcript}, 0, "ok " + transcript},
		{"a wrong transcript", []string{"-q", wrong}, 1, "- proposed at 1/9"},
		{"a missing file", []string{filepath.Join(t.TempDir(), "none.txt")}, 1, "FAIL "},
		{"a command the harness does not know", []string{unknown, transcript}, 1, `unknown command "frobnicate"`},
		{"no file", nil, 2, "usage: raftscript"},
		{"-v interleaves log lines", []string{"-v", transcript}, 0, "log: INFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out := runRaftscript(t, tc.args...)
			if got != tc.want || !strings.Contains(out, tc.says) {
				t.Errorf("raftscript %v: exit status %d (want %d), output lacks %q?\n%s", tc.args, got, tc.want, tc.says, out)
			}
		})
	}
}
