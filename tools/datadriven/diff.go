package datadriven

import (
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines the diff shows around a change.
const diffContext = 3

// diffOp is one line of a diff: ' ' for a line both sides share, '-' for a
// line only the expected output has, '+' for one only the actual output has.
type diffOp struct {
	mark byte
	line string
}

// LineDiff returns a line diff that turns expected into actual, one line per
// diff line prefixed by its mark and a space: "  " for a line both share,
// "- " for a line only expected has, "+ " for one only actual has. Runs of
// unchanged lines farther than three lines from any change are folded into
// one line saying how many were left out. It is the diff RunTest shows for a
// mismatch, exported for tools that replay transcripts themselves.
func LineDiff(expected, actual string) string {
	return renderDiff(diffLines(splitLines(expected), splitLines(actual)), diffContext)
}

// diffLines computes a shortest edit from a to b by way of a longest common
// subsequence of their lines. Transcript outputs are short, so the quadratic
// table is cheaper to trust than a cleverer algorithm.
func diffLines(a, b []string) []diffOp {
	// common[i][j] is the length of a longest common subsequence of a[i:] and b[j:].
	common := make([][]int, len(a)+1)
	for i := range common {
		common[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				common[i][j] = common[i+1][j+1] + 1
			} else {
				common[i][j] = max(common[i+1][j], common[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i]})
			i, j = i+1, j+1
		case common[i+1][j] >= common[i][j+1]:
			ops = append(ops, diffOp{'-', a[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		ops = append(ops, diffOp{'-', a[i]})
	}
	for ; j < len(b); j++ {
		ops = append(ops, diffOp{'+', b[j]})
	}
	return ops
}

// renderDiff prints ops, folding unchanged lines that are more than context
// lines away from every change.
func renderDiff(ops []diffOp, context int) string {
	shown := nearChanges(ops, context)
	var b strings.Builder
	folded := 0
	fold := func() {
		if folded > 0 {
			fmt.Fprintf(&b, "  ... (%d unchanged)\n", folded)
			folded = 0
		}
	}
	for i, op := range ops {
		if !shown[i] {
			folded++
			continue
		}
		fold()
		b.WriteByte(op.mark)
		b.WriteByte(' ')
		b.WriteString(op.line)
		b.WriteByte('\n')
	}
	fold()
	return b.String()
}

// nearChanges reports, for every op, whether it is a change or lies within
// context lines of one.
func nearChanges(ops []diffOp, context int) []bool {
	near := make([]bool, len(ops))
	for i, op := range ops {
		if op.mark == ' ' {
			continue
		}
		for k := max(0, i-context); k <= min(len(ops)-1, i+context); k++ {
			near[k] = true
		}
	}
	return near
}
