package kvnode

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file holds the Prometheus text exposition format (version 0.0.4),
// written with the standard library: a family is a "# HELP" and a
// "# TYPE" line followed by its samples, one "name{label="value",...}
// value" a line; a histogram's samples are its cumulative buckets
// name_bucket{le="..."}, ending with le="+Inf", then name_sum and
// name_count.

// promContentType is the Content-Type of the text format.
const promContentType = "text/plain; version=0.0.4; charset=utf-8"

// label is one label of a sample.
type label struct{ name, value string }

// promWriter writes metric families into a buffer.
type promWriter struct{ b bytes.Buffer }

// family writes the HELP and TYPE lines of a family; typ is "counter",
// "gauge" or "histogram".
func (w *promWriter) family(name, typ, help string) {
	w.b.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	w.b.WriteString("# TYPE " + name + " " + typ + "\n")
}

// sample writes one sample line.
func (w *promWriter) sample(name string, v float64, labels ...label) {
	w.b.WriteString(name)
	if len(labels) > 0 {
		w.b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(l.name + `="` + escapeLabel(l.value) + `"`)
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(formatValue(v))
	w.b.WriteByte('\n')
}

// single writes a family of one unlabelled sample.
func (w *promWriter) single(name, typ, help string, v float64) {
	w.family(name, typ, help)
	w.sample(name, v)
}

// histogram writes a histogram family.
func (w *promWriter) histogram(name, help string, h *histogram) {
	w.family(name, "histogram", help)
	counts, sum, count := h.read()
	var cum uint64
	for i, le := range h.bounds {
		cum += counts[i]
		w.sample(name+"_bucket", float64(cum), label{"le", formatValue(le)})
	}
	w.sample(name+"_bucket", float64(count), label{"le", "+Inf"})
	w.sample(name+"_sum", sum)
	w.sample(name+"_count", float64(count))
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// histogram is a latency histogram safe for concurrent use: observations
// from any goroutine, reads from the HTTP handler. A read taken while
// observations go on may be off by those observations between its loads
// (each counter is exact on its own); the count is read last and the
// +Inf bucket reports it, so the buckets never exceed it.
type histogram struct {
	bounds []float64 // upper bounds in seconds, increasing
	counts []atomic.Uint64
	sumNs  atomic.Int64
	count  atomic.Uint64
}

// latencyBounds are the upper bounds, in seconds, of the latency
// histograms: from 100µs (an fsync on a fast disk) to 2.5s.
var latencyBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds))}
}

// observe records one duration.
func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	for i, le := range h.bounds {
		if s <= le {
			h.counts[i].Add(1)
			break
		}
	}
	h.sumNs.Add(int64(d))
	h.count.Add(1)
}

// read returns the per-bucket (not cumulative) counts, the sum in
// seconds and the count.
func (h *histogram) read() (counts []uint64, sum float64, count uint64) {
	counts = make([]uint64, len(h.bounds))
	var inBuckets uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		inBuckets += counts[i]
	}
	sum = time.Duration(h.sumNs.Load()).Seconds()
	count = max(h.count.Load(), inBuckets)
	return counts, sum, count
}
