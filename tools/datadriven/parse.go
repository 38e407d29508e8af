package datadriven

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// separator is the line between a block's directive and input and its
// expected output.
const separator = "----"

// TestData is one block of a transcript: a directive, its input and the
// output the file expects for it.
type TestData struct {
	// Pos is where the block's directive is, as "file:line" with a 1-based
	// line number; messages about the block start with it.
	Pos string
	// Cmd is the first word of the directive.
	Cmd string
	// CmdArgs are the arguments after the command, in the order written.
	CmdArgs []CmdArg
	// Input is the text between the directive and the separator: its lines
	// joined by newlines, with no final newline. It is empty when the block
	// has no input lines.
	Input string
	// Expected is the output recorded in the file, ending in exactly one
	// newline, or empty when the file records no output.
	Expected string

	// read records the arguments a handler asked for (see UnreadArgs).
	read map[string]bool

	layout layout
}

// layout is what a block needs, beyond its exported fields, to be written
// back exactly as it was read. Its zero value describes a block with no
// comments before it, a directive rebuilt from Cmd, CmdArgs and Input, the
// single separator, and a blank line after its output.
type layout struct {
	lead         string // blank and comment lines before the directive, verbatim
	head         string // the directive and input lines, verbatim
	doubled      bool   // the output sits between doubled separators
	unterminated bool   // the file ends right after the output, with no blank line
	trail        string // blank and comment lines after the last block, verbatim
}

// CmdArg is one argument of a directive: a key with zero or more values.
type CmdArg struct {
	// Key is the word before '=', or the whole word of a bare argument.
	Key string
	// Vals are the values after '='. Vals is nil for a bare argument and
	// empty but not nil for an empty list "key=()".
	Vals []string
}

// String returns the argument as it is written in a directive: "key" for a
// bare argument, "key=v" for one value and "key=(v1,v2)" for any other number
// of values.
func (a CmdArg) String() string {
	switch {
	case a.Vals == nil:
		return a.Key
	case len(a.Vals) == 1:
		return a.Key + "=" + a.Vals[0]
	default:
		return a.Key + "=(" + strings.Join(a.Vals, ",") + ")"
	}
}

// ParseFile reads and parses the transcript at path. Positions in the blocks
// and in errors are given as path:line.
func ParseFile(path string) ([]TestData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a transcript from r and returns its blocks in file order. The
// name is used in positions, as name:line. A malformed transcript (a block
// with no separator, a separator where a directive should be, an unclosed
// '(' list, doubled separators that are never closed) yields an error that
// starts with name:line of the offending line.
func Parse(name string, r io.Reader) ([]TestData, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &parser{name: name, lines: splitLines(string(src))}
	return p.parseFile()
}

// parser walks the lines of one transcript.
type parser struct {
	name  string
	lines []string // without their newlines
	next  int      // index of the next line to read
}

func (p *parser) done() bool { return p.next >= len(p.lines) }

// take returns the next line and its 1-based number, and moves past it.
func (p *parser) take() (string, int) {
	p.next++
	return p.lines[p.next-1], p.next
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...))
}

func (p *parser) parseFile() ([]TestData, error) {
	var blocks []TestData
	for {
		lead := p.skipBlankAndComments()
		if p.done() {
			if len(blocks) > 0 {
				blocks[len(blocks)-1].layout.trail = lead
			}
			return blocks, nil
		}
		d, err := p.parseBlock()
		if err != nil {
			return nil, err
		}
		d.layout.lead = lead
		blocks = append(blocks, d)
	}
}

// skipBlankAndComments moves past blank and comment lines and returns them
// verbatim.
func (p *parser) skipBlankAndComments() string {
	start := p.next
	for !p.done() && (isBlank(p.lines[p.next]) || isComment(p.lines[p.next])) {
		p.next++
	}
	return joinLines(p.lines[start:p.next])
}

func (p *parser) parseBlock() (TestData, error) {
	directive, line := p.take()
	if directive == separator {
		return TestData{}, p.errorf(line, "found %s where a directive was expected", separator)
	}
	cmd, args, err := parseDirective(directive)
	if err != nil {
		return TestData{}, p.errorf(line, "%v", err)
	}
	input, err := p.readInput(line)
	if err != nil {
		return TestData{}, err
	}
	d := TestData{
		Pos:     fmt.Sprintf("%s:%d", p.name, line),
		Cmd:     cmd,
		CmdArgs: args,
		Input:   strings.Join(input, "\n"),
	}
	d.layout.head = joinLines(append([]string{directive}, input...))
	if err := p.readOutput(&d); err != nil {
		return TestData{}, err
	}
	return d, nil
}

// readInput reads the input lines up to and including the separator. A block
// that reaches a blank line or the end of the file first has lost its
// separator; the error points at its directive.
func (p *parser) readInput(directiveLine int) ([]string, error) {
	var input []string
	for !p.done() {
		l, _ := p.take()
		if l == separator {
			return input, nil
		}
		if isBlank(l) {
			break
		}
		input = append(input, l)
	}
	return nil, p.errorf(directiveLine, "block has no %s line before its end", separator)
}

// readOutput reads the expected output after the first separator, in
// whichever form the block uses, and the blank line that ends the block.
func (p *parser) readOutput(d *TestData) error {
	if !p.done() && p.lines[p.next] == separator {
		_, line := p.take()
		d.layout.doubled = true
		return p.readDoubledOutput(d, line)
	}
	start := p.next
	for !p.done() && !isBlank(p.lines[p.next]) {
		p.next++
	}
	d.Expected = normalizeOutput(joinLines(p.lines[start:p.next]))
	if p.done() {
		d.layout.unterminated = true
		return nil
	}
	p.next++ // the blank line that ends the block
	return nil
}

// readDoubledOutput reads output up to the first two adjacent separator
// lines; openLine is the number of the second opening separator.
func (p *parser) readDoubledOutput(d *TestData, openLine int) error {
	start := p.next
	for i := start; i+1 < len(p.lines); i++ {
		if p.lines[i] == separator && p.lines[i+1] == separator {
			d.Expected = normalizeOutput(joinLines(p.lines[start:i]))
			p.next = i + 2
			return p.endDoubledOutput(d)
		}
	}
	return p.errorf(openLine, "output opened with two %s lines is never closed by two %s lines", separator, separator)
}

// endDoubledOutput reads the blank line that must follow the closing
// separators unless the file ends there.
func (p *parser) endDoubledOutput(d *TestData) error {
	if p.done() {
		d.layout.unterminated = true
		return nil
	}
	l, line := p.take()
	if !isBlank(l) {
		return p.errorf(line, "expected a blank line after the closing %s lines, found %q", separator, l)
	}
	return nil
}

// parseDirective splits a directive into its command and arguments.
func parseDirective(s string) (string, []CmdArg, error) {
	cmd, rest := cutWord(strings.TrimLeft(s, " \t"))
	var args []CmdArg
	for rest = strings.TrimLeft(rest, " \t"); rest != ""; rest = strings.TrimLeft(rest, " \t") {
		arg, tail, err := parseArg(rest)
		if err != nil {
			return "", nil, err
		}
		args = append(args, arg)
		rest = tail
	}
	return cmd, args, nil
}

// parseArg reads one argument from the start of s and returns the rest.
func parseArg(s string) (CmdArg, string, error) {
	end := strings.IndexAny(s, " \t=")
	if end < 0 || s[end] != '=' {
		key, rest := cutWord(s)
		return CmdArg{Key: key}, rest, nil
	}
	key, rest := s[:end], s[end+1:]
	if key == "" {
		word, _ := cutWord(s)
		return CmdArg{}, "", fmt.Errorf("argument %q has no key before '='", word)
	}
	if !strings.HasPrefix(rest, "(") {
		val, tail := cutWord(rest)
		return CmdArg{Key: key, Vals: []string{val}}, tail, nil
	}
	closing := strings.IndexByte(rest, ')')
	if closing < 0 {
		return CmdArg{}, "", fmt.Errorf("argument %s has an unclosed '('", key)
	}
	tail := rest[closing+1:]
	if tail != "" && tail[0] != ' ' && tail[0] != '\t' {
		word, _ := cutWord(tail)
		return CmdArg{}, "", fmt.Errorf("argument %s has %q after its closing ')'", key, word)
	}
	return CmdArg{Key: key, Vals: splitList(rest[1:closing])}, tail, nil
}

// splitList splits the inside of a "(...)" list at commas, dropping the
// spaces around each item; an empty inside is an empty, non-nil list.
func splitList(inside string) []string {
	if strings.TrimSpace(inside) == "" {
		return []string{}
	}
	vals := strings.Split(inside, ",")
	for i, v := range vals {
		vals[i] = strings.TrimSpace(v)
	}
	return vals
}

// cutWord splits s at its first space or tab.
func cutWord(s string) (word, rest string) {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func isBlank(line string) bool { return strings.TrimLeft(line, " \t") == "" }

func isComment(line string) bool { return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") }

// splitLines splits s into lines without their newlines; a final newline
// does not start another line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// joinLines is the inverse of splitLines: every line gets its newline back.
func joinLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// normalizeOutput makes s end in exactly one newline, or leaves it empty.
func normalizeOutput(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}
