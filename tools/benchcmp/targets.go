package benchcmp

import "fmt"

// target is one goal of the project's performance issue, checked on a
// report.
type target struct {
	row, what string
	// value returns the measured value and whether it was measured.
	value func(r *Report) (float64, bool)
	// atLeast says whether value must be at least bound (else at most).
	atLeast bool
	bound   float64
	// ratio says whether value is a ratio (printed with ×).
	ratio bool
}

// targets lists the goals that apply to the rows r ran.
func (r *Report) targets() []target {
	var ts []target
	for _, s := range r.Shapes {
		row := s.Name()
		if s == (Shape{Nodes: 3, Size: 128, Batch: 64}) {
			ts = append(ts,
				r.ratioTarget(row, "entries/s, tickraft ÷ etcd", MetricEntriesPerSec, Tickraft.Name, Etcd.Name, true, 4),
				r.valueTarget(row, "allocs/entry, tickraft", MetricAllocsPerEntry, Tickraft.Name, false, 0.25),
				r.valueTarget(row, "msgs/entry, tickraft", MetricMsgsPerEntry, Tickraft.Name, false, 1))
		}
		if s.Batch == 1024 {
			ts = append(ts,
				r.ratioTarget(row, "entries/s, tickraft ÷ etcd", MetricEntriesPerSec, Tickraft.Name, Etcd.Name, true, 2),
				r.ratioTarget(row, "ns/entry, tickraft ÷ floor", MetricNsPerEntry, Tickraft.Name, FloorName, false, 15))
		}
	}
	for _, n := range r.GroupCounts {
		row := GroupsRow(n)
		ts = append(ts,
			target{row: row, what: "heap B/group, tickraft (larger of elected and idle)", bound: 3 << 10,
				value: func(r *Report) (float64, bool) {
					a, ok1 := r.Median(row, Tickraft.Name, MetricHeapPerGroup)
					b, ok2 := r.Median(row, Tickraft.Name, MetricHeapPerGroupIdle)
					return max(a, b), ok1 && ok2
				}},
			r.ratioTarget(row, "ns/group-tick, etcd ÷ tickraft", MetricNsPerGroupTick, Etcd.Name, Tickraft.Name, true, 3))
	}
	return ts
}

func (r *Report) ratioTarget(row, what, metric, num, den string, atLeast bool, bound float64) target {
	return target{row: row, what: what, atLeast: atLeast, bound: bound, ratio: true,
		value: func(r *Report) (float64, bool) { return r.Ratio(row, metric, num, den) }}
}

func (r *Report) valueTarget(row, what, metric, lib string, atLeast bool, bound float64) target {
	return target{row: row, what: what, atLeast: atLeast, bound: bound,
		value: func(r *Report) (float64, bool) { return r.Median(row, lib, metric) }}
}

// met reports whether v meets t.
func (t target) met(v float64) bool {
	if t.atLeast {
		return v >= t.bound
	}
	return v <= t.bound
}

func (r *Report) targetTable() *table {
	t := &table{
		title:  "Targets of the performance issue (medians; ratios from the same run)",
		header: []string{"row", "measure", "target", "measured", "status"},
	}
	for _, tg := range r.targets() {
		v, ok := tg.value(r)
		if !ok {
			continue
		}
		format := formatValue
		if tg.ratio {
			format = formatRatio
		}
		op, status := "≤", "missed"
		if tg.atLeast {
			op = "≥"
		}
		if tg.met(v) {
			status = "met"
		}
		t.add(tg.row, tg.what, fmt.Sprintf("%s %s", op, format(tg.bound)), format(v), status)
	}
	return t
}
