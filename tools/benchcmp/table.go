package benchcmp

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// table is a titled grid of cells, written as aligned text or Markdown.
type table struct {
	title  string
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// writeText writes t as columns aligned with spaces.
func (t *table) writeText(w io.Writer) error {
	fmt.Fprintf(w, "%s\n\n", t.title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, cells := range append([][]string{t.header}, t.rows...) {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeMarkdown writes t as a Markdown table under a bold title.
func (t *table) writeMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "**%s**\n\n", t.title)
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.header, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat(" --- |", len(t.header)))
	for _, cells := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// Write writes the report's tables (replication, floor, idle groups,
// targets) as aligned text, or as Markdown if markdown is set.
func (r *Report) Write(w io.Writer, markdown bool) error {
	for _, t := range []*table{r.replicationTable(), r.floorTable(), r.idleTable(), r.targetTable()} {
		if len(t.rows) == 0 {
			continue
		}
		write := t.writeText
		if markdown {
			write = t.writeMarkdown
		}
		if err := write(w); err != nil {
			return err
		}
	}
	return nil
}

// replicationMetrics are the replication table's metrics, in its order.
var replicationMetrics = []string{
	MetricEntriesPerSec, MetricNsPerEntry, MetricAllocsPerEntry, MetricBytesPerEntry, MetricMsgsPerEntry,
}

// idleMetrics are the idle table's metrics, in its order.
var idleMetrics = []string{
	MetricNsPerGroupTick, MetricAllocsPerGroupTick, MetricMsgsPerGroupTick, MetricHeapPerGroup, MetricHeapPerGroupIdle,
}

func (r *Report) replicationTable() *table {
	t := r.versusTable("Replication: medians, ratio = median of tickraft ÷ etcd in the same run", "row")
	for _, s := range r.Shapes {
		r.addVersusRows(t, s.Name(), replicationMetrics)
	}
	return t
}

func (r *Report) idleTable() *table {
	t := r.versusTable("Idle three-node groups, ticked 1,000 times: medians, ratio = median of tickraft ÷ etcd in the same run", "groups")
	for _, n := range r.GroupCounts {
		r.addVersusRows(t, GroupsRow(n), idleMetrics)
	}
	return t
}

func (r *Report) versusTable(title, rowHeader string) *table {
	return &table{
		title:  fmt.Sprintf("%s (%d runs)", title, r.Runs),
		header: []string{rowHeader, "metric", Tickraft.Name, Etcd.Name, "ratio"},
	}
}

// addVersusRows adds a line per metric of row: both medians and the ratio.
func (r *Report) addVersusRows(t *table, row string, metrics []string) {
	for _, metric := range metrics {
		tv, ok1 := r.Median(row, Tickraft.Name, metric)
		ev, ok2 := r.Median(row, Etcd.Name, metric)
		if !ok1 && !ok2 {
			continue
		}
		t.add(row, metric, formatValue(tv), formatValue(ev), r.formatRatio(row, metric, Tickraft.Name, Etcd.Name))
	}
}

func (r *Report) floorTable() *table {
	t := &table{
		title: fmt.Sprintf("Floors: median ns/entry (%d runs), ratio = median of library ÷ floor in the same run; floor copies the entries, payload floor only their payload bytes", r.Runs),
		header: []string{"row", "floor", "payload floor", Tickraft.Name, Etcd.Name,
			Tickraft.Name + " ÷ floor", Etcd.Name + " ÷ floor",
			Tickraft.Name + " ÷ payload floor", Etcd.Name + " ÷ payload floor"},
	}
	for _, s := range r.Shapes {
		row := s.Name()
		fv, ok := r.Median(row, FloorName, MetricNsPerEntry)
		if !ok {
			continue
		}
		pv, _ := r.Median(row, PayloadFloorName, MetricNsPerEntry)
		tv, _ := r.Median(row, Tickraft.Name, MetricNsPerEntry)
		ev, _ := r.Median(row, Etcd.Name, MetricNsPerEntry)
		t.add(row, formatValue(fv), formatValue(pv), formatValue(tv), formatValue(ev),
			r.formatRatio(row, MetricNsPerEntry, Tickraft.Name, FloorName),
			r.formatRatio(row, MetricNsPerEntry, Etcd.Name, FloorName),
			r.formatRatio(row, MetricNsPerEntry, Tickraft.Name, PayloadFloorName),
			r.formatRatio(row, MetricNsPerEntry, Etcd.Name, PayloadFloorName))
	}
	return t
}

func (r *Report) formatRatio(row, metric, num, den string) string {
	v, ok := r.Ratio(row, metric, num, den)
	if !ok {
		return "-"
	}
	return formatRatio(v)
}

// formatRatio writes a ratio with two decimals and a trailing ×.
func formatRatio(v float64) string { return fmt.Sprintf("%.2f×", v) }

// formatValue writes v with about three significant digits, and large
// values as integers.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
