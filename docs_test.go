package raft

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeAndPackageDocShowTheSameLoop: a user reads the loop in the
// README or in go doc; the two must not drift apart.
func TestReadmeAndPackageDocShowTheSameLoop(t *testing.T) {
	doc := readFile(t, "doc.go")
	readme := readFile(t, "README.md")
	fromDoc := docLoop(t, doc)
	fromReadme := readmeLoop(t, readme)
	if fromDoc != fromReadme {
		t.Errorf("the loop in doc.go and the loop in README.md differ:\ndoc.go:\n%s\nREADME.md:\n%s", fromDoc, fromReadme)
	}
	for _, step := range []string{"rn.TickN(clock.Elapsed(time.Now()))", "rn.Step(m)", "rn.ReadIndex(", "rn.ReportUnreachable(",
		"rn.ReportSnapshot(", "rd.MustSync", "rd.MessagesAfterPersist", "rd.LocalMessages", "rn.ApplyConfChange(", "rd.ReadStates", "rn.Advance()"} {
		if !strings.Contains(fromDoc, step) {
			t.Errorf("the loop does not show %s", step)
		}
	}
}

// docLoop returns the code block of doc.go's "# The loop" section,
// without the comment markers.
func docLoop(t *testing.T, doc string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "// # The loop\n")
	if !ok {
		t.Fatal("doc.go has no \"# The loop\" section")
	}
	var b strings.Builder
	started := false
	for _, line := range strings.Split(after, "\n") {
		code, isCode := strings.CutPrefix(line, "//\t")
		if !isCode {
			if started {
				break
			}
			continue
		}
		started = true
		b.WriteString(code + "\n")
	}
	return b.String()
}

// readmeLoop returns the first Go code block of README.md's "The Ready
// loop" section.
func readmeLoop(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "## The Ready loop\n")
	if !ok {
		t.Fatal("README.md has no \"## The Ready loop\" section")
	}
	_, block, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("README.md's loop section has no Go code block")
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatal("README.md's loop code block is not closed")
	}
	return block
}

// mdReference matches a reference to a Markdown document by its name,
// such as ARCHITECTURE.md.
var mdReference = regexp.MustCompile(`\b[A-Z][A-Z_]*\.md\b`)

// relativePath matches a relative path that climbs up (..), which must
// stay inside the repository once resolved from the file that names it.
var relativePath = regexp.MustCompile(`(?:\.\./)+[A-Za-z][\w./-]*`)

// TestDocumentsPointInsideTheRepository: a fresh clone is all a reader
// has, so every document a file names must be in the repository, and no
// file points at a folder beside it.

func TestDocumentsPointInsideTheRepository(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".txt", "":
		default:
			return nil
		}
		text := readFile(t, path)
		for _, ref := range mdReference.FindAllString(text, -1) {
			if _, err := os.Stat(ref); err != nil {
				t.Errorf("%s names %s, which is not at the repository's root", path, ref)
			}
		}
		for _, ref := range relativePath.FindAllString(text, -1) {
			if target := filepath.Join(filepath.Dir(path), ref); target == ".." || strings.HasPrefix(target, "../") {
				t.Errorf("%s points outside the repository (%q)", path, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
