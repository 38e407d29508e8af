package datadriven

import (
	"fmt"
	"strings"
)

// Rewrite returns the transcript that blocks were parsed from, with the
// recorded output of blocks[i] replaced by outputs[i]. Comments, directives,
// input and blank lines are written back exactly as they were read, so
// rewriting with the recorded outputs reproduces a transcript byte for byte
// (up to a missing final newline, which is added). Each output is first
// brought to end in exactly one newline.
//
// A block that was not produced by [Parse] is written from its Cmd, CmdArgs
// and Input. Rewrite returns an error when len(outputs) differs from
// len(blocks), or when an output cannot be written unambiguously (see the
// package documentation).
func Rewrite(blocks []TestData, outputs []string) ([]byte, error) {
	if len(outputs) != len(blocks) {
		return nil, fmt.Errorf("datadriven: %d outputs for %d blocks", len(outputs), len(blocks))
	}
	var b strings.Builder
	for i := range blocks {
		if err := writeBlock(&b, &blocks[i], normalizeOutput(outputs[i])); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

// writeBlock writes one block with out as its output.
func writeBlock(b *strings.Builder, d *TestData, out string) error {
	b.WriteString(d.layout.lead)
	b.WriteString(d.head())
	b.WriteString(separator + "\n")
	if d.layout.doubled || needsDoubledSeparator(out) {
		if !fitsDoubledSeparator(out) {
			return fmt.Errorf("%s: output cannot be written: it has two adjacent %s lines or ends with one", d.Pos, separator)
		}
		b.WriteString(separator + "\n")
		b.WriteString(out)
		b.WriteString(separator + "\n" + separator + "\n")
	} else {
		b.WriteString(out)
	}
	if !d.layout.unterminated {
		b.WriteString("\n")
	}
	b.WriteString(d.layout.trail)
	return nil
}

// head returns the directive and input lines of d: verbatim when d was
// parsed, rebuilt from its fields otherwise.
func (d *TestData) head() string {
	if d.layout.head != "" {
		return d.layout.head
	}
	s := d.directive() + "\n"
	if d.Input != "" {
		s += d.Input + "\n"
	}
	return s
}

// directive returns the directive line of d rebuilt from Cmd and CmdArgs.
func (d *TestData) directive() string {
	words := []string{d.Cmd}
	for _, a := range d.CmdArgs {
		words = append(words, a.String())
	}
	return strings.Join(words, " ")
}

// needsDoubledSeparator reports whether out would not read back in the
// single form: it holds a blank line, which would end the block early, or
// starts with a separator, which would read as the second of a doubled pair.
func needsDoubledSeparator(out string) bool {
	lines := splitLines(out)
	if len(lines) > 0 && lines[0] == separator {
		return true
	}
	for _, l := range lines {
		if isBlank(l) {
			return true
		}
	}
	return false
}

// fitsDoubledSeparator reports whether out reads back in the doubled form:
// the output ends at the first two adjacent separator lines, so it may hold
// no such pair of its own, nor end in a separator that would pair with the
// closing one.
func fitsDoubledSeparator(out string) bool {
	lines := splitLines(out)
	for i, l := range lines {
		if l == separator && (i+1 == len(lines) || lines[i+1] == separator) {
			return false
		}
	}
	return true
}
