package datadriven_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
)

// layoutTranscript uses every part of the format that a rewrite must keep.
const layoutTranscript = `# Header comment, then two blank lines.


# claim: a block with input and a bare argument.
propose 1
first input
second input
----
ok


  # an indented comment after extra blank lines
status verbose voters=(1,2) learners=()
----

echo
----
----
para one

para two
----
----

# claim: doubled separators are kept even when not needed.
kept
----
----
single line
----
----

last
----
done

# a comment after the last block
`

func expectedOutputs(blocks []datadriven.TestData) []string {
	outputs := make([]string, len(blocks))
	for i, d := range blocks {
		outputs[i] = d.Expected
	}
	return outputs
}

func mustRewrite(t *testing.T, blocks []datadriven.TestData, outputs []string) string {
	t.Helper()
	out, err := datadriven.Rewrite(blocks, outputs)
	if err != nil {
		t.Fatalf("Rewrite: %v", err)
	}
	return string(out)
}

func TestRewriteWithRecordedOutputsReproducesFileByteForByte(t *testing.T) {
	for name, src := range map[string]string{
		"layout":          layoutTranscript,
		"ends at output":  "a\n----\nout",
		"ends at doubled": "a\n----\n----\nx\n\ny\n----\n----\n",
		"empty outputs":   "a\n----\n\nb\n----\n----\n----\n----\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			blocks := mustParse(t, src)
			got := mustRewrite(t, blocks, expectedOutputs(blocks))
			if want := strings.TrimSuffix(src, "\n") + "\n"; got != want {
				t.Errorf("round trip changed the file:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRewriteReplacesOutputsAndKeepsEverythingElse(t *testing.T) {
	blocks := mustParse(t, layoutTranscript)
	outputs := []string{"changed", "now\nthree\nlines\n\n\n", "", "x", "y\n"}
	want := strings.NewReplacer(
		"----\nok\n", "----\nchanged\n",
		"learners=()\n----\n\n", "learners=()\n----\nnow\nthree\nlines\n\n",
		"echo\n----\n----\npara one\n\npara two\n----\n----\n", "echo\n----\n----\n----\n----\n",
		"single line\n", "x\n",
		"----\ndone\n", "----\ny\n",
	).Replace(layoutTranscript)
	if got := mustRewrite(t, blocks, outputs); got != want {
		t.Errorf("Rewrite gave:\n%s\nwant:\n%s", got, want)
	}
}

func TestRewriteSwitchesToDoubledSeparatorForBlankLinesAndReadsBack(t *testing.T) {
	blocks := mustParse(t, "echo\n----\nold\n")
	for _, out := range []string{"a\n\nb\n", "a\n   \nb\n", "----\nstarts with a separator\n", "\n\nlead\n"} {
		src := mustRewrite(t, blocks, []string{out})
		if !strings.HasPrefix(src, "echo\n----\n----\n") {
			t.Errorf("output %q was written without doubled separators:\n%s", out, src)
		}
		if got := mustParse(t, src)[0].Expected; got != out {
			t.Errorf("output %q read back as %q from:\n%s", out, got, src)
		}
	}
}

func TestRewriteRefusesOutputThatWouldCloseDoubledSeparatorEarly(t *testing.T) {
	blocks := mustParse(t, "echo\n----\nold\n")
	for _, out := range []string{"a\n\n----\n----\nb\n", "a\n\nb\n----\n"} {
		if _, err := datadriven.Rewrite(blocks, []string{out}); err == nil || !strings.Contains(err.Error(), "t.txt:1") {
			t.Errorf("Rewrite of %q: error %v, want one naming t.txt:1", out, err)
		}
	}
}

func TestRewriteRejectsOutputCountOtherThanBlockCount(t *testing.T) {
	blocks := mustParse(t, "a\n----\n\nb\n----\n")
	if _, err := datadriven.Rewrite(blocks, []string{"only one"}); err == nil {
		t.Error("Rewrite accepted 1 output for 2 blocks")
	}
}

func TestRewriteWritesHandBuiltBlocksFromTheirFields(t *testing.T) {
	blocks := []datadriven.TestData{
		{Cmd: "add", CmdArgs: []datadriven.CmdArg{{Key: "1"}, {Key: "voters", Vals: []string{"1", "2"}}}},
		{Cmd: "propose", Input: "line one\nline two"},
	}
	want := "add 1 voters=(1,2)\n----\nok\n\npropose\nline one\nline two\n----\n\n"
	if got := mustRewrite(t, blocks, []string{"ok", ""}); got != want {
		t.Errorf("Rewrite gave:\n%q\nwant:\n%q", got, want)
	}
}

func TestRewrittenFileHasActualOutputsAndPassesAfterwards(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wrong.txt")
	writeFile(t, path, layoutTranscript)
	blocks, err := datadriven.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	actual := []string{"ack", "", "p\n\nq", "kept", "done"}
	rewritten := mustRewrite(t, blocks, actual)
	writeFile(t, path, rewritten)

	again, err := datadriven.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range again {
		if msg, ok := datadriven.CompareOutput(&d, actual[i]); !ok {
			t.Errorf("block %d fails after the rewrite: %s", i, msg)
		}
	}
	// Everything but the outputs is unchanged: rewriting back with the
	// original outputs restores the original file.
	if back := mustRewrite(t, again, expectedOutputs(blocks)); back != layoutTranscript {
		t.Errorf("rewriting back gave:\n%s\nwant:\n%s", back, layoutTranscript)
	}
}

func TestParseFileNamesBlocksAndErrorsByPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.txt")
	writeFile(t, path, "\nok\n----\n\nbroken\n")
	if _, err := datadriven.ParseFile(path); err == nil || !strings.HasPrefix(err.Error(), path+":5:") {
		t.Errorf("ParseFile error = %v, want one starting with %s:5:", err, path)
	}
	if _, err := datadriven.ParseFile(filepath.Join(t.TempDir(), "missing.txt")); !os.IsNotExist(err) {
		t.Errorf("ParseFile of a missing file: error %v, want not-exist", err)
	}
}
