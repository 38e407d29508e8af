package main

import (
	"errors"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is the module's root seen from this package's directory.
const moduleRoot = "../.."

// TestEveryMutantAppliesToTheCurrentTree checks that every mutant parses,
// names its rule, and finds its original text exactly once in the tree
// as it is now, and that the mutated file still parses as Go. It fails
// when code a mutant targets moves: re-base the mutant in the same change.
func TestEveryMutantAppliesToTheCurrentTree(t *testing.T) {
	ms, err := loadMutants("mutants")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 40 {
		t.Errorf("%d mutants; the suite keeps at least 40", len(ms))
	}
	for _, m := range ms {
		files, err := m.mutate(moduleRoot)
		if err != nil {
			t.Errorf("%v\n(re-base the mutant: edit its original and mutant lines to the current code)", err)
			continue
		}
		for path, src := range files {
			if _, err := parser.ParseFile(token.NewFileSet(), filepath.Join(moduleRoot, path), src, 0); err != nil {
				t.Errorf("%s: the mutated %s does not parse: %v", m.Name, path, err)
			}
		}
	}
}

func TestParseMutantReadsHunks(t *testing.T) {
	src := "# a comment\nrule: §5.3 rule\ndescription: what it does\n\n" +
		"@@ original core/a.go\n\tx := 1\n\n@@ mutant\n\tx := 2\n\ty := 3\n\n" +
		"@@ original tracker/b.go\n\tz()\n@@ mutant\n"
	m, err := parseMutant("001-some-name", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if m.Rule != "§5.3 rule" || m.Description != "what it does" || len(m.Hunks) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	want := []Hunk{
		{File: "core/a.go", Original: "\tx := 1\n", Mutated: "\tx := 2\n\ty := 3\n"},
		{File: "tracker/b.go", Original: "\tz()\n", Mutated: ""},
	}
	for i, h := range want {
		if m.Hunks[i] != h {
			t.Errorf("hunk %d = %+v, want %+v", i, m.Hunks[i], h)
		}
	}
	if got := strings.Join(m.Packages(), ","); got != "./core,./tracker" {
		t.Errorf("Packages() = %s", got)
	}
}

func TestParseMutantRefusesMalformedFiles(t *testing.T) {
	hunk := "@@ original core/a.go\n\tx := 1\n@@ mutant\n\tx := 2\n"
	for _, c := range []struct{ name, src string }{
		{"1-bad-name", "rule: r\ndescription: d\n" + hunk},
		{"001-no-rule", "description: d\n" + hunk},
		{"001-no-description", "rule: r\n" + hunk},
		{"001-no-hunk", "rule: r\ndescription: d\n"},
		{"001-no-mutant-marker", "rule: r\ndescription: d\n@@ original core/a.go\n\tx := 1\n"},
		{"001-no-change", "rule: r\ndescription: d\n@@ original core/a.go\n\tx\n@@ mutant\n\tx\n"},
		{"001-test-file", "rule: r\ndescription: d\n@@ original core/a_test.go\n\tx\n@@ mutant\n\ty\n"},
		{"001-tools", "rule: r\ndescription: d\n@@ original tools/sim/a.go\n\tx\n@@ mutant\n\ty\n"},
		{"001-escape", "rule: r\ndescription: d\n@@ original ../a.go\n\tx\n@@ mutant\n\ty\n"},
		{"001-stray-header", "rule: r\nwhat: d\n" + hunk},
	} {
		if _, err := parseMutant(c.name, []byte(c.src)); err == nil {
			t.Errorf("%s: parsed without error", c.name)
		}
	}
}

func TestMutateRefusesAnOriginalThatIsNotUnique(t *testing.T) {
	m := &Mutant{Name: "001-x", Hunks: []Hunk{{File: "core/raft.go", Original: "\t}\n", Mutated: "\t}}\n"}}}
	if _, err := m.mutate(moduleRoot); !errors.Is(err, errNotOnce) {
		t.Fatalf("mutate = %v, want %v", err, errNotOnce)
	}
}

func TestParseTestJSONNamesTheFirstFailingTest(t *testing.T) {
	out := `{"Action":"run","Test":"TestA"}
{"Action":"output","Test":"TestA/sub","Output":"--- FAIL"}
{"Action":"fail","Test":"TestA/sub"}
{"Action":"fail","Test":"TestA"}
{"Action":"fail"}
`
	r := parseTestJSON("./core", []byte(out))
	if !r.Failed || r.Build || r.TextDiff || r.killer() != "./core TestA/sub" {
		t.Fatalf("parsed %+v, killer %q", r, r.killer())
	}
	diff := `{"Action":"output","Test":"TestT/x","Output":"    run with TICKRAFT_REWRITE=1 to accept the actual output\n"}
{"Action":"fail","Test":"TestT/x"}
`
	if r := parseTestJSON(".", []byte(diff)); !r.TextDiff || r.killer() != ". TestT/x" {
		t.Fatalf("a transcript's text diff parsed as %+v", r)
	}
	r = parseTestJSON("./core", []byte(`{"Action":"build-fail","ImportPath":"x"}`+"\n"+`{"Action":"fail","FailedBuild":"x"}`))
	if !r.Build || !r.Failed {
		t.Fatalf("build failure parsed as %+v", r)
	}
}

func TestParseTestJSONNamesTheTestATimeoutStopped(t *testing.T) {
	out := `{"Action":"run","Test":"TestHang"}
{"Action":"output","Test":"TestHang","Output":"panic: test timed out after 5m0s\n"}
{"Action":"output","Test":"TestHang","Output":"\trunning tests:\n"}
{"Action":"output","Test":"TestHang","Output":"\t\tTestHang (5m0s)\n"}
{"Action":"fail","Elapsed":300}
`
	r := parseTestJSON(".", []byte(out))
	if !r.Failed || r.killer() != ". TestHang" {
		t.Fatalf("parsed %+v, killer %q", r, r.killer())
	}
}
