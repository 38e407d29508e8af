package main

import (
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines a diff shows around a change.
const diffContext = 3

// lineDiff returns a line diff from recorded to actual: "  " before a line
// both share, "- " before a line only recorded has, "+ " before one only
// actual has, with unchanged runs far from any change folded into one
// line. Outputs are short, so the quadratic longest-common-subsequence
// table is fine.
func lineDiff(recorded, actual string) string {
	a, b := splitLines(recorded), splitLines(actual)
	// lcs[i][j] is the length of a longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var lines []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, "  "+a[i])
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, "- "+a[i])
			i++
		default:
			lines = append(lines, "+ "+b[j])
			j++
		}
	}
	return fold(lines)
}

// fold joins the diff lines, replacing each run of unchanged lines more
// than diffContext lines from a change by a count.
func fold(lines []string) string {
	near := make([]bool, len(lines))
	for i, l := range lines {
		if !strings.HasPrefix(l, "  ") {
			for k := max(0, i-diffContext); k <= min(len(lines)-1, i+diffContext); k++ {
				near[k] = true
			}
		}
	}
	var sb strings.Builder
	hidden := 0
	for i, l := range lines {
		if !near[i] {
			hidden++
			continue
		}
		if hidden > 0 {
			fmt.Fprintf(&sb, "  ... (%d unchanged)\n", hidden)
			hidden = 0
		}
		sb.WriteString(l + "\n")
	}
	if hidden > 0 {
		fmt.Fprintf(&sb, "  ... (%d unchanged)\n", hidden)
	}
	return sb.String()
}

// splitLines splits s into lines without their newlines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
