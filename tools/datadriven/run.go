package datadriven

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteEnv names the environment variable that turns checking into
// rewriting.
const rewriteEnv = "TICKRAFT_REWRITE"

// RunTest runs the transcript at path. It parses the file, failing the test
// with the parse error's file:line when it is malformed, then calls f for
// every block in file order, all within t: blocks of one file share whatever
// state f's closure holds, which is how a transcript tells a story. Each
// output f returns is compared with the block's Expected after both are
// brought to end in exactly one newline; a mismatch is reported with
// t.Errorf naming the block's path:line and showing the expected output, the
// actual output and a line diff, and the run goes on with the next block.
//
// When the environment variable TICKRAFT_REWRITE is set to a non-empty
// value, RunTest compares nothing: once every block has run, it writes the
// actual outputs into the file in place of the recorded ones (see [Rewrite])
// and leaves the test passing.
func RunTest(t *testing.T, path string, f func(t *testing.T, d *TestData) string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(path, bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	rewrite := os.Getenv(rewriteEnv) != ""
	outputs := make([]string, len(blocks))
	for i := range blocks {
		d := &blocks[i]
		outputs[i] = f(t, d)
		if rewrite {
			continue
		}
		if msg, ok := compareOutput(d, outputs[i]); !ok {
			t.Errorf("%s", msg)
		}
	}
	// A file with no blocks has nothing to rewrite, and Rewrite would drop
	// its comments.
	if rewrite && len(blocks) > 0 {
		rewriteFile(t, path, src, blocks, outputs)
	}
}

// rewriteFile writes the transcript with its new outputs over path, keeping
// the file's permissions, unless nothing changed.
func rewriteFile(t *testing.T, path string, src []byte, blocks []TestData, outputs []string) {
	t.Helper()
	out, err := Rewrite(blocks, outputs)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out, src) {
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: rewrote the expected outputs (%s is set)", path, rewriteEnv)
}

// compareOutput reports whether actual matches the output d expects, and
// when it does not, a message describing the mismatch.
func compareOutput(d *TestData, actual string) (string, bool) {
	want, got := normalizeOutput(d.Expected), normalizeOutput(actual)
	if want == got {
		return "", true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: output of %q differs from the transcript\n", d.Pos, d.directive())
	fmt.Fprintf(&b, "expected:\n%s", indentBlock(want))
	fmt.Fprintf(&b, "actual:\n%s", indentBlock(got))
	fmt.Fprintf(&b, "diff (-expected +actual):\n%s", LineDiff(want, got))
	fmt.Fprintf(&b, "run with %s=1 to accept the actual output", rewriteEnv)
	return b.String(), false
}

// indentBlock indents every line of s so that an output stands apart from
// the message around it, and marks an empty output as such.
func indentBlock(s string) string {
	if s == "" {
		return "    (empty)\n"
	}
	var b strings.Builder
	for _, l := range splitLines(s) {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// Walk calls f once for every transcript in dir, each as a subtest of t
// named by the file's base name without its extension, so that
// "go test -run TestX/name" runs the one file name.txt. Files are visited in
// name order; directories and hidden files (names starting with '.') are
// skipped. Walk fails the test when dir cannot be read or holds no
// transcript, since an empty walk would pass without testing anything.
func Walk(t *testing.T, dir string, f func(t *testing.T, path string)) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	walked := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		t.Run(strings.TrimSuffix(name, filepath.Ext(name)), func(t *testing.T) {
			f(t, path)
		})
		walked++
	}
	if walked == 0 {
		t.Fatalf("%s holds no transcripts", dir)
	}
}
