package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// score counts the outcomes by status.
func score(outs []Outcome) map[Status]int {
	n := map[Status]int{}
	for _, o := range outs {
		n[o.Status]++
	}
	return n
}

// scoreLine is the one-line summary of a run.
func scoreLine(outs []Outcome) string {
	n := score(outs)
	return fmt.Sprintf("%d mutants: %d killed by an assertion, %d by transcript text only, %d survived, %d invalid",
		len(outs), n[Killed], n[TextOnly], n[Survived], n[Invalid])
}

// printTable prints one line per mutant (name, status, killer, rule) and
// the score.
func printTable(w io.Writer, outs []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MUTANT\tSTATUS\tKILLER\tRULE")
	for _, o := range outs {
		killer := o.Killer
		if o.TextFirst != "" {
			killer += " (text first: " + o.TextFirst + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Mutant.Name, o.Status, killer, o.Mutant.Rule)
	}
	tw.Flush()
	fmt.Fprintln(w, scoreLine(outs))
}

// printMarkdown prints the same as printTable as a Markdown table, for
// TESTING.md.
func printMarkdown(w io.Writer, outs []Outcome) {
	fmt.Fprintln(w, "| Mutant | Rule | Status | Killed by |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, o := range outs {
		killer := o.Killer
		if killer != "" {
			killer = "`" + killer + "`"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", o.Mutant.Name, mdEscape(o.Mutant.Rule), o.Status, mdEscape(killer))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, scoreLine(outs)+".")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
