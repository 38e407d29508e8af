package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// mutantExt is the extension of a mutant file in the mutants directory.
const mutantExt = ".mut"

// namePattern is the form of a mutant's name: three digits, a dash, and a
// short lower-case name, such as "020-fig8-commit-previous-term".
var namePattern = regexp.MustCompile(`^[0-9]{3}-[a-z0-9]+(-[a-z0-9]+)*$`)

// Mutant is one planted bug: a small change to the library that breaks
// one rule, kept as text so that it is applied to a scratch copy and never
// to the tree it was read from.
type Mutant struct {
	// Name is the file name without its extension.
	Name string
	// Rule names the rule the mutant breaks and the section it comes from.
	Rule string
	// Description says what the mutant changes.
	Description string
	// Hunks are the replacements, applied in order.
	Hunks []Hunk
}

// Hunk replaces Original, which must occur exactly once in File, by
// Mutated.
type Hunk struct {
	// File is the target's path relative to the module root, with
	// forward slashes.
	File string
	// Original and Mutated are whole lines, each ending in a newline.
	// Mutated may be empty: the lines are deleted.
	Original, Mutated string
}

// Packages returns the package directories (such as "./core" or ".") the
// mutant changes, in the order of its hunks.
func (m *Mutant) Packages() []string {
	var pkgs []string
	for _, h := range m.Hunks {
		p := "./" + filepath.ToSlash(filepath.Dir(h.File))
		if p == "./." {
			p = "."
		}
		if !contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// The markers of a mutant file: a hunk opens with "@@ original PATH",
// followed by the lines to replace, then "@@ mutant", followed by the
// lines that replace them.
const (
	originalMarker = "@@ original "
	mutantMarker   = "@@ mutant"
)

// parseMutant reads a mutant named name from src. The format:
//
//	# Comments start with '#'; blank lines are ignored in the header.
//	rule: §5.4.2 (Figure 8): only entries of the leader's term are committed by counting
//	description: the leader counts replicas of an entry of an earlier term
//	@@ original core/replication.go
//		if !r.raftLog.maybeCommit(entryID{term: r.term, index: mci}) {
//	@@ mutant
//		t, _ := r.raftLog.term(mci)
//		if !r.raftLog.maybeCommit(entryID{term: t, index: mci}) {
//
// Lines of a block are taken verbatim, except that trailing blank lines are
// dropped; several hunks may follow one another.
func parseMutant(name string, src []byte) (*Mutant, error) {
	if !namePattern.MatchString(name) {
		return nil, fmt.Errorf("%s: name must look like 001-short-name", name)
	}
	m := &Mutant{Name: name}
	sc := bufio.NewScanner(bytes.NewReader(src))
	var (
		block *[]string // the block being read: nil in the header
		orig  []string
		mut   []string
		file  string
		line  int
	)
	flush := func() error {
		if file == "" {
			return nil
		}
		h := Hunk{File: file, Original: joinBlock(orig), Mutated: joinBlock(mut)}
		switch {
		case h.Original == "":
			return fmt.Errorf("%s: hunk for %s has no original lines", name, file)
		case h.Original == h.Mutated:
			return fmt.Errorf("%s: hunk for %s changes nothing", name, file)
		}
		m.Hunks = append(m.Hunks, h)
		file, orig, mut = "", nil, nil
		return nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, originalMarker):
			if block == &orig {
				return nil, fmt.Errorf("%s:%d: %q without %q before it", name, line, originalMarker, mutantMarker)
			}
			if err := flush(); err != nil {
				return nil, err
			}
			file = strings.TrimSpace(strings.TrimPrefix(text, originalMarker))
			if err := checkTarget(file); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			block = &orig
		case text == mutantMarker:
			if block != &orig {
				return nil, fmt.Errorf("%s:%d: %q without %q before it", name, line, mutantMarker, originalMarker)
			}
			block = &mut
		case block != nil:
			*block = append(*block, text)
		case text == "" || strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, "rule:"):
			m.Rule = strings.TrimSpace(strings.TrimPrefix(text, "rule:"))
		case strings.HasPrefix(text, "description:"):
			m.Description = strings.TrimSpace(strings.TrimPrefix(text, "description:"))
		default:
			return nil, fmt.Errorf("%s:%d: unexpected header line %q", name, line, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if block == &orig {
		return nil, fmt.Errorf("%s: the last hunk has no %q line", name, mutantMarker)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	switch {
	case m.Rule == "":
		return nil, fmt.Errorf("%s: no rule: line", name)
	case m.Description == "":
		return nil, fmt.Errorf("%s: no description: line", name)
	case len(m.Hunks) == 0:
		return nil, fmt.Errorf("%s: no hunk", name)
	}
	return m, nil
}

// checkTarget refuses a target outside the library: mutants break the
// library's rules, never its tests or tools.
func checkTarget(file string) error {
	switch {
	case file == "" || filepath.IsAbs(file) || strings.Contains(file, "..") || strings.Contains(file, `\`):
		return fmt.Errorf("target %q must be a relative path inside the module", file)
	case !strings.HasSuffix(file, ".go") || strings.HasSuffix(file, "_test.go"):
		return fmt.Errorf("target %q must be a non-test Go file", file)
	case strings.HasPrefix(file, "tools/"):
		return fmt.Errorf("target %q is under tools/: mutants break the library, not its tools", file)
	}
	return nil
}

// joinBlock joins lines into text ending in a newline, without trailing
// blank lines ("" for no lines).
func joinBlock(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// loadMutants reads every mutant of dir, in name order. Two mutants may
// not share their number.
func loadMutants(dir string) ([]*Mutant, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ms []*Mutant
	numbers := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), mutantExt) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		m, err := parseMutant(strings.TrimSuffix(e.Name(), mutantExt), src)
		if err != nil {
			return nil, err
		}
		if other, dup := numbers[m.Name[:3]]; dup {
			return nil, fmt.Errorf("%s and %s share a number", other, m.Name)
		}
		numbers[m.Name[:3]] = m.Name
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no %s files in %s", mutantExt, dir)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms, nil
}

// errNotOnce is wrapped by mutate when an original does not occur exactly
// once: the code moved, and the mutant must be re-based.
var errNotOnce = errors.New("original text does not occur exactly once")

// mutate returns the files of the tree at root as the mutant changes them,
// by path, without writing anything. Each hunk's original must occur
// exactly once in its file as the earlier hunks left it.
func (m *Mutant) mutate(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, h := range m.Hunks {
		src, ok := files[h.File]
		if !ok {
			var err error
			if src, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(h.File))); err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
		}
		if n := bytes.Count(src, []byte(h.Original)); n != 1 {
			return nil, fmt.Errorf("%s: %w in %s: found %d times:\n%s", m.Name, errNotOnce, h.File, n, h.Original)
		}
		files[h.File] = bytes.Replace(src, []byte(h.Original), []byte(h.Mutated), 1)
	}
	return files, nil
}

// apply writes the mutant into the tree at root, which must be a scratch
// copy.
func (m *Mutant) apply(root string) error {
	files, err := m.mutate(root)
	if err != nil {
		return err
	}
	for path, src := range files {
		full := filepath.Join(root, filepath.FromSlash(path))
		info, err := os.Stat(full)
		if err != nil {
			return err
		}
		if err := os.WriteFile(full, src, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
