package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file is a strict parser of the Prometheus text exposition format,
// written for the tests and independent of the server's writer: every
// line must be a "# HELP name text", a "# TYPE name type" or a sample
// "name{label="value",...} value"; a sample must belong to a family whose
// TYPE came before it; a histogram's samples must be its _bucket (with an
// le label), _sum and _count, with cumulative buckets ending at le="+Inf"
// equal to _count; counters must not be negative; no sample may repeat.

// exposition is a parsed scrape: sample values by their series key
// (name{label="value",...} with labels sorted), and family types.
type exposition struct {
	samples map[string]float64
	types   map[string]string
}

// get returns the value of series key, and whether it is there.
func (e *exposition) get(key string) (float64, bool) {
	v, ok := e.samples[key]
	return v, ok
}

// value returns the value of series key, or NaN.
func (e *exposition) value(key string) float64 {
	if v, ok := e.samples[key]; ok {
		return v
	}
	return math.NaN()
}

// parseExposition parses a whole scrape; any malformed line is an error
// naming it.
func parseExposition(text string) (*exposition, error) {
	e := &exposition{samples: map[string]float64{}, types: map[string]string{}}
	if text == "" || !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the exposition is empty or does not end with a newline")
	}
	helped := map[string]bool{}
	seenSamples := map[string]bool{} // families that have samples
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if err := e.parseLine(line, helped, seenSamples); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	return e, e.checkHistograms()
}

func (e *exposition) parseLine(line string, helped, seenSamples map[string]bool) error {
	switch {
	case strings.HasPrefix(line, "# HELP "):
		name, _, _ := strings.Cut(line[len("# HELP "):], " ")
		if !validMetricName(name) || helped[name] {
			return fmt.Errorf("bad or repeated HELP")
		}
		helped[name] = true
		return nil
	case strings.HasPrefix(line, "# TYPE "):
		f := strings.Split(line[len("# TYPE "):], " ")
		if len(f) != 2 || !validMetricName(f[0]) || e.types[f[0]] != "" || seenSamples[f[0]] {
			return fmt.Errorf("bad, repeated or late TYPE")
		}
		switch f[1] {
		case "counter", "gauge", "histogram", "summary", "untyped":
		default:
			return fmt.Errorf("unknown type %q", f[1])
		}
		e.types[f[0]] = f[1]
		return nil
	case strings.HasPrefix(line, "#"), line == "":
		return fmt.Errorf("not a HELP, TYPE or sample line")
	}
	return e.parseSample(line, seenSamples)
}

func (e *exposition) parseSample(line string, seenSamples map[string]bool) error {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return fmt.Errorf("no value")
	}
	name, rest := line[:end], line[end:]
	if !validMetricName(name) {
		return fmt.Errorf("bad metric name %q", name)
	}
	labels := map[string]string{}
	if strings.HasPrefix(rest, "{") {
		var err error
		if rest, err = parseLabels(rest[1:], labels); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(rest, " ") {
		return fmt.Errorf("no space before the value")
	}
	f := strings.Split(rest[1:], " ")
	if len(f) > 2 || (len(f) == 2 && !isInt(f[1])) {
		return fmt.Errorf("junk after the value")
	}
	v, err := parseValue(f[0])
	if err != nil {
		return err
	}
	family, typ := e.familyOf(name)
	if typ == "" {
		return fmt.Errorf("sample before its family's TYPE")
	}
	if err := checkSampleOfType(name, family, typ, labels, v); err != nil {
		return err
	}
	seenSamples[family] = true
	key := seriesKey(name, labels)
	if _, dup := e.samples[key]; dup {
		return fmt.Errorf("repeated series %s", key)
	}
	e.samples[key] = v
	return nil
}

// familyOf returns the family a sample name belongs to and its type.
func (e *exposition) familyOf(name string) (string, string) {
	if t := e.types[name]; t != "" {
		return name, t
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && (e.types[base] == "histogram" || e.types[base] == "summary") {
			return base, e.types[base]
		}
	}
	return name, ""
}

func checkSampleOfType(name, family, typ string, labels map[string]string, v float64) error {
	switch typ {
	case "counter":
		if v < 0 || math.IsNaN(v) {
			return fmt.Errorf("counter %s is %v", name, v)
		}
	case "histogram":
		if name == family {
			return fmt.Errorf("histogram sample without _bucket, _sum or _count")
		}
		if _, ok := labels["le"]; ok != (name == family+"_bucket") {
			return fmt.Errorf("le label on a non-bucket or missing on a bucket")
		}
	}
	return nil
}

// parseLabels parses `name="value",...}` into labels and returns the rest
// of the line after the closing brace.
func parseLabels(s string, labels map[string]string) (string, error) {
	for {
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		eq := strings.Index(s, `="`)
		if eq < 0 || !validLabelName(s[:eq]) {
			return "", fmt.Errorf("bad label in %q", s)
		}
		name := s[:eq]
		s = s[eq+2:]
		var val strings.Builder
		for {
			if s == "" {
				return "", fmt.Errorf("unterminated label value")
			}
			c := s[0]
			s = s[1:]
			if c == '"' {
				break
			}
			if c == '\n' {
				return "", fmt.Errorf("raw newline in a label value")
			}
			if c == '\\' {
				if s == "" {
					return "", fmt.Errorf("dangling backslash")
				}
				switch s[0] {
				case '\\':
					val.WriteByte('\\')
				case '"':
					val.WriteByte('"')
				case 'n':
					val.WriteByte('\n')
				default:
					return "", fmt.Errorf("bad escape \\%c", s[0])
				}
				s = s[1:]
				continue
			}
			val.WriteByte(c)
		}
		if _, dup := labels[name]; dup {
			return "", fmt.Errorf("repeated label %s", name)
		}
		labels[name] = val.String()
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, "}"):
		default:
			return "", fmt.Errorf("want , or } after a label value")
		}
	}
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "_xXpP") || strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity") {
		return 0, fmt.Errorf("bad value %q", s)
	}
	return v, nil
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func validMetricName(s string) bool {
	return validName(s, func(c byte) bool { return c == '_' || c == ':' })
}

func validLabelName(s string) bool {
	return validName(s, func(c byte) bool { return c == '_' })
}

func validName(s string, extra func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || extra(c)
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// seriesKey is name{a="x",b="y"} with labels sorted by name.
func seriesKey(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, labels[n])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// checkHistograms checks each histogram without other labels than le:
// its buckets are cumulative with increasing bounds, the last is +Inf and
// equals _count, and _sum is there.
func (e *exposition) checkHistograms() error {
	for family, typ := range e.types {
		if typ != "histogram" {
			continue
		}
		type bucket struct{ le, n float64 }
		var bs []bucket
		prefix := family + `_bucket{le="`
		for key, v := range e.samples {
			if s, ok := strings.CutPrefix(key, prefix); ok {
				le, err := parseValue(strings.TrimSuffix(s, `"}`))
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				bs = append(bs, bucket{le, v})
			}
		}
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		count, okCount := e.get(family + "_count")
		_, okSum := e.get(family + "_sum")
		if len(bs) == 0 || !okCount || !okSum || !math.IsInf(bs[len(bs)-1].le, 1) || bs[len(bs)-1].n != count {
			return fmt.Errorf("histogram %s: no buckets, no +Inf bucket equal to _count, or no _sum", family)
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].n < bs[i-1].n {
				return fmt.Errorf("histogram %s: buckets not cumulative at le=%v", family, bs[i].le)
			}
		}
	}
	return nil
}
