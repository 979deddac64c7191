package cloudformation

import (
	"context"
	"sort"
)

// runGraph runs fn on every node once all of its dependencies (within
// nodes) succeeded, independent nodes in parallel. After the first
// failure it starts nothing more, cancels the context the running ones
// see, and waits for them. It returns the nodes that failed, sorted.
func runGraph(ctx context.Context, nodes []string, deps map[string][]string, fn func(ctx context.Context, node string) error) []string {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := map[string]bool{}
	for _, n := range nodes {
		in[n] = true
	}
	waiting := map[string]int{}
	users := map[string][]string{}
	for _, n := range nodes {
		for _, d := range deps[n] {
			if in[d] && d != n {
				waiting[n]++
				users[d] = append(users[d], n)
			}
		}
	}
	type result struct {
		node string
		err  error
	}
	results := make(chan result)
	running := 0
	stopped := false
	var failed []string
	start := func(n string) {
		running++
		go func() { results <- result{n, fn(ctx, n)} }()
	}
	sorted := append([]string(nil), nodes...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if waiting[n] == 0 {
			start(n)
		}
	}
	for running > 0 {
		r := <-results
		running--
		if r.err != nil {
			failed = append(failed, r.node)
			if !stopped {
				stopped = true
				cancel()
			}
			continue
		}
		if stopped {
			continue
		}
		for _, u := range users[r.node] {
			if waiting[u]--; waiting[u] == 0 {
				start(u)
			}
		}
	}
	sort.Strings(failed)
	return failed
}
