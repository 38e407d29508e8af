package walbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// median returns the median of xs (the mean of the middle two for an
// even count), leaving xs unchanged.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianOf returns the median of f over samples.
func medianOf[T any](samples []T, f func(T) float64) float64 {
	xs := make([]float64, len(samples))
	for i, s := range samples {
		xs[i] = f(s)
	}
	return median(xs)
}

// isPeer reports whether name is another library's: not a floor's, and
// not tickraft's in another configuration.
func isPeer(name string) bool {
	return !strings.HasPrefix(name, "floor-") && !strings.HasPrefix(name, Baseline)
}

// counted returns the samples that counted system calls.
func counted(s []SaveSample) []SaveSample {
	var out []SaveSample
	for _, x := range s {
		if x.Counted {
			out = append(out, x)
		}
	}
	return out
}

// Baseline is the library the others are compared with.
const Baseline = "tickraft"

// ratioToPeer returns the median over runs of the baseline's entries/s
// divided by peer's in the same run; peer "" means the best peer of
// each run.
func (r *Report) ratioToPeer(p Point, peer string) float64 {
	byLib := r.Saves[p]
	base := byLib[Baseline]
	var ratios []float64
	for run := range base {
		best := 0.0
		for name, samples := range byLib {
			if name == Baseline || run >= len(samples) || (peer == "" && !isPeer(name)) || (peer != "" && name != peer) {
				continue
			}
			best = max(best, samples[run].EntriesPerSecond())
		}
		if best > 0 {
			ratios = append(ratios, base[run].EntriesPerSecond()/best)
		}
	}
	return median(ratios)
}

// WriteMarkdown prints the report's tables: every library's medians at
// every point, the baseline's ratios to each peer, and the replays.
func (r *Report) WriteMarkdown(w io.Writer) error {
	o := r.Options
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d runs (system calls: of the first %d, counted with %s); logs under %s (%s); each library saves for %v per measurement, in turns of %v.\n\n",
		o.Runs, min(o.CountRuns, o.Runs), o.Counter.Tool, o.Dir, r.FSType, o.Budget, ChunkTime)
	b.WriteString("| payload | per save | library | entries/s | saves/s | fsyncs/save | write calls/save | page bytes/entry | written bytes/entry | p50 save | p99 save |\n")
	b.WriteString("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range o.Points {
		for _, name := range o.Drivers {
			s := r.Saves[p][name]
			if len(s) == 0 {
				continue
			}
			perEntry := func(n func(SaveSample) int64) float64 {
				return medianOf(s, func(x SaveSample) float64 { return float64(n(x)) / float64(x.Entries) })
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %s | %s |\n",
				sizeName(p.Payload), p.PerSave, name,
				medianOf(s, SaveSample.EntriesPerSecond), medianOf(s, SaveSample.SavesPerSecond),
				medianOf(counted(s), func(x SaveSample) float64 { return x.SyncsPerSave }),
				medianOf(counted(s), func(x SaveSample) float64 { return x.WritesPerSave }),
				perEntry(func(x SaveSample) int64 { return x.IO.Bytes }),
				perEntry(func(x SaveSample) int64 { return x.IO.Chars }),
				micros(medianOf(s, func(x SaveSample) float64 { return float64(x.P50) })),
				micros(medianOf(s, func(x SaveSample) float64 { return float64(x.P99) })))
		}
	}
	peers := slices.DeleteFunc(slices.Clone(o.Drivers), func(n string) bool { return n == Baseline })
	if _, ok := r.Saves[o.Points[0]][Baseline]; ok && len(peers) > 0 {
		fmt.Fprintf(&b, "\nEntries/s of %s ÷ each peer's in the same run (median of the runs' ratios); target: at least 1 against the best of the other libraries (floors are not libraries; tickraft in another configuration is not a peer).\n\n", Baseline)
		b.WriteString("| payload | per save |")
		for _, p := range peers {
			fmt.Fprintf(&b, " ÷ %s |", p)
		}
		b.WriteString(" ÷ best library | target |\n| --- | ---: |" + strings.Repeat(" ---: |", len(peers)+1) + " --- |\n")
		for _, p := range o.Points {
			fmt.Fprintf(&b, "| %s | %d |", sizeName(p.Payload), p.PerSave)
			for _, peer := range peers {
				fmt.Fprintf(&b, " %.2f |", r.ratioToPeer(p, peer))
			}
			best := r.ratioToPeer(p, "")
			fmt.Fprintf(&b, " %.2f | %s |\n", best, metOrMissed(best >= 1))
		}
	}
	if len(r.Replays) > 0 {
		fmt.Fprintf(&b, "\nOpening a log of %d entries and reading every entry back (cold: none of its files in the page cache; warm: right after).\n\n", o.ReplayEntries)
		b.WriteString("| payload | library | cold | warm | cold ÷ etcd's |\n| --- | --- | ---: | ---: | ---: |\n")
		for _, size := range o.ReplayPayloads {
			etcd := r.Replays[size]["etcd"]
			for _, name := range o.Drivers {
				s := r.Replays[size][name]
				if len(s) == 0 {
					continue
				}
				ratio := "–"
				if len(etcd) == len(s) {
					var rs []float64
					for i := range s {
						rs = append(rs, float64(s[i].Cold)/float64(etcd[i].Cold))
					}
					ratio = fmt.Sprintf("%.2f", median(rs))
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", sizeName(size), name,
					seconds(medianOf(s, func(x ReplayResult) float64 { return float64(x.Cold) })),
					seconds(medianOf(s, func(x ReplayResult) float64 { return float64(x.Warm) })), ratio)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sizeName(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func micros(ns float64) string { return fmt.Sprintf("%.0f µs", time.Duration(ns).Seconds()*1e6) }

func seconds(ns float64) string { return fmt.Sprintf("%.3f s", time.Duration(ns).Seconds()) }

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
