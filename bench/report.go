package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// A section is one benchmark's part of the report.
type section struct {
	title  string
	method string   // how it was measured, one paragraph
	table  table    // the results
	notes  []string // sentences under the table, e.g. the cloudbox/moto ratios
	goals  []goal   // goals from the issue this section checks; also listed at the top
}

type table struct {
	header []string
	rows   [][]string
}

// A goal is a target from the issue and whether this run met it.
type goal struct {
	name   string // "Start to first answer"
	target string // "< 100 ms"
	result string // what was measured, with enough context to judge it
	met    bool
}

// machine is what a reader needs to judge the numbers.
type machine struct {
	date      string
	cpu       string
	nproc     int
	memory    string
	kernel    string
	goVersion string
	cloudbox  string
	moto      string
}

type report struct {
	command  string // how to reproduce, e.g. "go run ./bench"
	machine  machine
	sections []section
}

func (r report) render() string {
	var b strings.Builder
	m := r.machine
	fmt.Fprintf(&b, "# Benchmarks: cloudbox vs moto\n\n")
	fmt.Fprintf(&b, "Generated on %s by `%s` (run it from the repository root to refresh this file). ", m.date, r.command)
	fmt.Fprintf(&b, "All numbers are from that one run on the machine below.\n\n")

	b.WriteString("## Machine\n\n")
	writeTable(&b, table{header: []string{"", ""}, rows: [][]string{
		{"CPU", fmt.Sprintf("%s, %d cores (nproc)", m.cpu, m.nproc)},
		{"Memory", m.memory},
		{"Kernel", m.kernel},
		{"Go", m.goVersion},
		{"cloudbox", m.cloudbox},
		{"moto", m.moto},
	}})
	fmt.Fprintf(&b, "\nThe load-generating client and the servers share these %d cores, so absolute "+
		"throughput is bounded by the client's CPU too; the cloudbox/moto ratios are the more telling numbers.\n\n", m.nproc)

	var goals []goal
	for _, s := range r.sections {
		goals = append(goals, s.goals...)
	}
	if len(goals) > 0 {
		b.WriteString("## Goals (from the issue)\n\n")
		t := table{header: []string{"Goal", "Target", "Result", "Met"}}
		for _, g := range goals {
			t.rows = append(t.rows, []string{g.name, g.target, g.result, metString(g.met)})
		}
		writeTable(&b, t)
		b.WriteString("\n")
	}

	for _, s := range r.sections {
		fmt.Fprintf(&b, "## %s\n\n", s.title)
		if s.method != "" {
			fmt.Fprintf(&b, "%s\n\n", s.method)
		}
		if len(s.table.header) > 0 { // a skipped bench has no table
			writeTable(&b, s.table)
		}
		if len(s.notes) > 0 {
			b.WriteString("\n")
			for _, n := range s.notes {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func writeTable(b *strings.Builder, t table) {
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			fmt.Fprintf(b, " %s |", strings.ReplaceAll(c, "|", `\|`))
		}
		b.WriteString("\n")
	}
	row(t.header)
	b.WriteString("|")
	for range t.header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		row(r)
	}
}

func metString(met bool) string {
	if met {
		return "✅ met"
	}
	return "❌ not met"
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted, by the
// nearest-rank method: it is always an observed value, and p50 of an even
// count is the lower middle one.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(1, min(rank, len(sorted)))-1]
}

// ms formats d in milliseconds with about three significant digits, so
// sub-millisecond latencies and second-long starts both read well.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.3f ms", v)
	}
}

// mb formats a byte count in MB (10^6 bytes), the unit of the goal.
func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

// times formats a ratio such as 37.2x; small ratios keep two decimals.
func times(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.2fx", r)
	}
	return fmt.Sprintf("%.1fx", r)
}
