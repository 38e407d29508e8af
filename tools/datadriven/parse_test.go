package datadriven_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tickraft/raft/tools/datadriven"
)

// block is the exported content of a TestData, so that tests can compare
// blocks without the layout a parsed block also carries.
type block struct {
	Pos, Cmd        string
	CmdArgs         []datadriven.CmdArg
	Input, Expected string
}

func exported(blocks []datadriven.TestData) []block {
	var out []block
	for _, d := range blocks {
		out = append(out, block{d.Pos, d.Cmd, d.CmdArgs, d.Input, d.Expected})
	}
	return out
}

func mustParse(t *testing.T, src string) []datadriven.TestData {
	t.Helper()
	blocks, err := datadriven.Parse("t.txt", strings.NewReader(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return blocks
}

func checkBlocks(t *testing.T, src string, want []block) {
	t.Helper()
	got := exported(mustParse(t, src))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(%q) =\n%#v\nwant\n%#v", src, got, want)
	}
}

func TestParseReadsBareArgumentsAsKeysWithoutValues(t *testing.T) {
	checkBlocks(t, "campaign 1 verbose\n----\nok\n", []block{{
		Pos: "t.txt:1", Cmd: "campaign",
		CmdArgs:  []datadriven.CmdArg{{Key: "1"}, {Key: "verbose"}},
		Expected: "ok\n",
	}})
}

func TestParseReadsKeyValueAndListArguments(t *testing.T) {
	src := "add-nodes 3 index=10 voters=(1,2,3) learners=( 4 , 5 ) witnesses=() empty=\n----\n"
	checkBlocks(t, src, []block{{
		Pos: "t.txt:1", Cmd: "add-nodes",
		CmdArgs: []datadriven.CmdArg{
			{Key: "3"},
			{Key: "index", Vals: []string{"10"}},
			{Key: "voters", Vals: []string{"1", "2", "3"}},
			{Key: "learners", Vals: []string{"4", "5"}},
			{Key: "witnesses", Vals: []string{}},
			{Key: "empty", Vals: []string{""}},
		},
	}})
}

func TestParseTellsEmptyListFromBareArgument(t *testing.T) {
	args := mustParse(t, "cmd a a=()\n----\n")[0].CmdArgs
	if args[0].Vals != nil {
		t.Errorf("bare argument has Vals %#v, want nil", args[0].Vals)
	}
	if args[1].Vals == nil || len(args[1].Vals) != 0 {
		t.Errorf("empty list has Vals %#v, want empty and not nil", args[1].Vals)
	}
}

func TestParseReadsListWithSpacesAsOneArgument(t *testing.T) {
	args := mustParse(t, "cmd voters=(1, 2,\t3) next\n----\n")[0].CmdArgs
	want := []datadriven.CmdArg{{Key: "voters", Vals: []string{"1", "2", "3"}}, {Key: "next"}}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("CmdArgs = %#v, want %#v", args, want)
	}
}

func TestParseJoinsInputLinesWithoutFinalNewline(t *testing.T) {
	checkBlocks(t, "propose 1\nfirst\n# second, not a comment\n  third\n----\nok\n\n", []block{{
		Pos: "t.txt:1", Cmd: "propose", CmdArgs: []datadriven.CmdArg{{Key: "1"}},
		Input: "first\n# second, not a comment\n  third", Expected: "ok\n",
	}})
}

func TestParseGivesBlocksWithoutInputOrOutputEmptyStrings(t *testing.T) {
	checkBlocks(t, "tick\n----\n\nstatus\n----\nfine\n", []block{
		{Pos: "t.txt:1", Cmd: "tick"},
		{Pos: "t.txt:4", Cmd: "status", Expected: "fine\n"},
	})
}

func TestParsePositionsPointAtDirectivesPastCommentsAndBlankLines(t *testing.T) {
	src := "# one\n\n# two\nfirst\n----\na\nb\n\n\n\n  # indented comment\nsecond\n----\n"
	checkBlocks(t, src, []block{
		{Pos: "t.txt:4", Cmd: "first", Expected: "a\nb\n"},
		{Pos: "t.txt:12", Cmd: "second"},
	})
}

func TestParseReadsDoubledSeparatorOutputWithBlankLines(t *testing.T) {
	src := "echo\n----\n----\none\n\ntwo\n\n----\n----\n\nnext\n----\n----\n----\n----\n"
	checkBlocks(t, src, []block{
		{Pos: "t.txt:1", Cmd: "echo", Expected: "one\n\ntwo\n"},
		{Pos: "t.txt:11", Cmd: "next"},
	})
}

func TestParseReadsEmptyFileAsNoBlocks(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment\n"} {
		if blocks := mustParse(t, src); len(blocks) != 0 {
			t.Errorf("Parse(%q) gave %d blocks, want none", src, len(blocks))
		}
	}
}

func TestParseRejectsMalformedTranscriptsAtTheirLine(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"no separator before blank line", "# c\nstatus\ninput\n\nnext\n----\n", "t.txt:2: block has no ---- line"},
		{"no separator before end of file", "a\n----\n\nstatus\n", "t.txt:4: block has no ---- line"},
		{"separator where directive expected", "a\n----\n\n\n----\nout\n", "t.txt:5: found ---- where a directive was expected"},
		{"unclosed list", "x\n----\n\nadd voters=(1,2\n----\n", "t.txt:4: argument voters has an unclosed '('"},
		{"text after list", "add voters=(1,2)x\n----\n", "t.txt:1: argument voters has \"x\" after its closing ')'"},
		{"argument without key", "add =3\n----\n", "t.txt:1: argument \"=3\" has no key before '='"},
		{"unterminated doubled output", "a\n----\n----\nout\n\n----\nmore\n", "t.txt:3: output opened with two ---- lines is never closed"},
		{"text right after doubled output", "a\n----\n----\nout\n----\n----\nb\n----\n", "t.txt:7: expected a blank line after the closing ---- lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := datadriven.Parse("t.txt", strings.NewReader(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want one starting with %q", err, tc.want)
			}
		})
	}
}

func TestCmdArgStringGivesDirectiveForm(t *testing.T) {
	for _, tc := range []struct {
		arg  datadriven.CmdArg
		want string
	}{
		{datadriven.CmdArg{Key: "1"}, "1"},
		{datadriven.CmdArg{Key: "index", Vals: []string{"5"}}, "index=5"},
		{datadriven.CmdArg{Key: "voters", Vals: []string{"1", "2"}}, "voters=(1,2)"},
		{datadriven.CmdArg{Key: "learners", Vals: []string{}}, "learners=()"},
	} {
		if got := tc.arg.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.arg, got, tc.want)
		}
	}
}

func TestCmdArgStringParsesBackToSameArgument(t *testing.T) {
	args := []datadriven.CmdArg{
		{Key: "a"}, {Key: "b", Vals: []string{"x"}},
		{Key: "c", Vals: []string{"1", "2", "3"}}, {Key: "d", Vals: []string{}},
	}
	words := []string{"cmd"}
	for _, a := range args {
		words = append(words, a.String())
	}
	got := mustParse(t, strings.Join(words, " ")+"\n----\n")[0].CmdArgs
	if !reflect.DeepEqual(got, args) {
		t.Errorf("parsed %v back as %#v", args, got)
	}
}

func ExampleParse() {
	src := `# claim: a comment before a block is not part of it.
add-nodes 3 voters=(1,2,3) prevote=true
----
ok
`
	blocks, err := datadriven.Parse("example.txt", strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range blocks {
		fmt.Println(d.Pos, d.Cmd, d.CmdArgs)
		fmt.Printf("%q\n", d.Expected)
	}
	// Output:
	// example.txt:2 add-nodes [3 voters=(1,2,3) prevote=true]
	// "ok\n"
}
