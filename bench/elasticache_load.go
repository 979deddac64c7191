package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// redisBench is one redis-benchmark test's result.
type redisBench struct {
	rps float64
	p99 float64 // ms
}

// parseRedisBenchCSV reads redis-benchmark 7's --csv output: a header
// ("test","rps","avg_latency_ms",...,"p99_latency_ms",...) and a row per
// test.
func parseRedisBenchCSV(out string) (map[string]redisBench, error) {
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("no results in %q", out)
	}
	rps, p99 := slices.Index(recs[0], "rps"), slices.Index(recs[0], "p99_latency_ms")
	if recs[0][0] != "test" || rps < 0 || p99 < 0 {
		return nil, fmt.Errorf("unexpected header %q", recs[0])
	}
	res := map[string]redisBench{}
	for _, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			return nil, fmt.Errorf("row %q", rec)
		}
		r, err1 := strconv.ParseFloat(rec[rps], 64)
		p, err2 := strconv.ParseFloat(rec[p99], 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("row %q: %w", rec, err)
		}
		res[rec[0]] = redisBench{r, p}
	}
	return res, nil
}

func (w *ecWorld) benchmark(ctx context.Context, s *section) error {
	args := func(host string) []string {
		return []string{"redis-benchmark", "-h", host, "-t", "set,get", "-n", strconv.Itoa(ecBenchRequests), "-c", strconv.Itoa(ecBenchClients),
			"-r", strconv.Itoa(ecBenchKeys), "--csv"}
	}
	primary, _, err := w.primary(ctx)
	if err != nil {
		return err
	}
	// The server binds the node's interface address only.
	bind, err := w.nodeCLI(ctx, primary, "CONFIG", "GET", "bind")
	if err != nil {
		return err
	}
	f := strings.Fields(bind)
	if len(f) != 2 {
		return fmt.Errorf("CONFIG GET bind in %s: %q", primary, bind)
	}
	nodeIP := f[1]
	one := func(where string) (map[string]redisBench, error) {
		var out []byte
		var err error
		if where == "endpoint" {
			out, err = w.c.exec(ctx, w.client, args(w.endpoint)...).Output()
		} else {
			cmd, cerr := w.inNode(ctx, primary, args(nodeIP)...)
			if cerr != nil {
				return nil, cerr
			}
			out, err = cmd.Output()
		}
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark (%s): %w: %s", where, err, out)
		}
		res, err := parseRedisBenchCSV(string(out))
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark (%s): %w", where, err)
		}
		if _, ok := res["SET"]; !ok {
			return nil, fmt.Errorf("redis-benchmark (%s): no SET in %s", where, out)
		}
		if _, ok := res["GET"]; !ok {
			return nil, fmt.Errorf("redis-benchmark (%s): no GET in %s", where, out)
		}
		return res, nil
	}
	var ep, local []map[string]redisBench
	for i := range ecBenchRuns {
		e, err := one("endpoint")
		if err != nil {
			return err
		}
		l, err := one("node")
		if err != nil {
			return err
		}
		w.c.r.logf("  redis-benchmark run %d: SET %.0f/s p99 %.3f ms, GET %.0f/s p99 %.3f ms through the endpoint; "+
			"SET %.0f/s p99 %.3f ms, GET %.0f/s p99 %.3f ms inside the node", i+1,
			e["SET"].rps, e["SET"].p99, e["GET"].rps, e["GET"].p99, l["SET"].rps, l["SET"].p99, l["GET"].rps, l["GET"].p99)
		ep, local = append(ep, e), append(local, l)
	}
	row := func(name string, runs []map[string]redisBench, f func(map[string]redisBench) float64, format string) float64 {
		var v []float64
		for _, r := range runs {
			v = append(v, f(r))
		}
		m := medianOf(v) // sorts v
		s.table.rows = append(s.table.rows, []string{name, fmt.Sprintf(format, m), fmt.Sprintf(format, v[0]), fmt.Sprintf(format, v[len(v)-1]), strconv.Itoa(len(v))})
		return m
	}
	var notes []string
	for _, test := range []string{"SET", "GET"} {
		rps := func(r map[string]redisBench) float64 { return r[test].rps }
		p99 := func(r map[string]redisBench) float64 { return r[test].p99 }
		er := row(test+" ops/s through the primary endpoint (client instance, VPC path)", ep, rps, "%.0f")
		lr := row(test+" ops/s inside the primary's node (its own address)", local, rps, "%.0f")
		ep99 := row(test+" p99 through the primary endpoint, ms", ep, p99, "%.3f")
		lp99 := row(test+" p99 inside the primary's node, ms", local, p99, "%.3f")
		notes = append(notes, fmt.Sprintf("%s ops/s through the endpoint are **%.2f** of those inside the node (%.0f vs %.0f, medians); "+
			"p99 %.3f ms vs %.3f ms (%.2f×).", test, er/lr, er, lr, ep99, lp99, ep99/lp99))
	}
	s.notes = append(s.notes, notes...)
	return nil
}

// ecWriter SETs key w:<round>:<i> per redis-cli process (one connection
// each) and appends "i <time>" to /tmp/acks once the SET answered OK,
// until /tmp/stop exists; see rdsWriter for why the log stays in the
// client.
const ecWriter = `i=0
while [ ! -e /tmp/stop ]; do
  i=$((i+1))
  if [ "$(timeout 5 redis-cli -h "$1" SET "w:$2:$i" "$i" 2>/dev/null)" = OK ]; then
    echo "$i $(date +%s.%N)" >> /tmp/acks
  fi
done`

// ecRound is what one test-failover under the writer gave.
type ecRound struct {
	gap      time.Duration // longest gap between consecutive acknowledged keys
	synced   time.Duration // waiting for an online replica before the round
	acked    int
	missing  []int // acknowledged but absent afterwards
	unacked  int   // present but never acknowledged
	from, to string
}

func (w *ecWorld) failovers(ctx context.Context, s *section) error {
	var rounds []ecRound
	for k := 1; k <= ecFailovers; k++ {
		rd, err := w.failover(ctx, k)
		if err != nil {
			return fmt.Errorf("failover %d: %w", k, err)
		}
		w.c.r.logf("  failover %d: gap %s, %d keys acknowledged, %d missing, %d unacknowledged present, %s → %s",
			k, ms(rd.gap), rd.acked, len(rd.missing), rd.unacked, rd.from, rd.to)
		rounds = append(rounds, rd)
	}
	var v []time.Duration
	acked, missing, unacked := 0, 0, 0
	var moves []string
	var synced time.Duration
	for _, rd := range rounds {
		v = append(v, rd.gap)
		acked, missing, unacked = acked+rd.acked, missing+len(rd.missing), unacked+rd.unacked
		moves = append(moves, rd.from+" → "+rd.to)
		synced = max(synced, rd.synced)
	}
	slices.Sort(v)
	p50 := percentile(v, 50)
	s.table.rows = append(s.table.rows, []string{"Write unavailability during test-failover (longest gap between acknowledged SETs)",
		secsMS(p50), secsMS(v[0]), secsMS(v[len(v)-1]), strconv.Itoa(len(v))})
	s.notes = append(s.notes,
		fmt.Sprintf("Failover: writes stop for **%s** (p50 of %d test-failovers). Keys acknowledged over the %d rounds: %d; missing afterwards: **%d**; "+
			"present but never acknowledged: %d. The primary after each failover: %s.",
			secsMS(p50), len(rounds), len(rounds), acked, missing, unacked, strings.Join(moves, ", ")),
		fmt.Sprintf("Each round began once the primary had its replica `online` (at most %s of waiting, after 3 s of keys following the previous "+
			"failover's call).", secsMS(synced)))
	for k, rd := range rounds {
		if len(rd.missing) > 0 {
			s.notes = append(s.notes, fmt.Sprintf("Round %d lost acknowledged keys %v.", k+1, rd.missing))
		}
	}
	return nil
}

func (w *ecWorld) failover(ctx context.Context, k int) (ecRound, error) {
	var rd ecRound
	t0 := time.Now()
	var last string
	if err := pollEvery(ctx, 200*time.Millisecond, 5*time.Minute, func() (bool, error) {
		p, _, err := w.primary(ctx)
		if err != nil {
			return false, err
		}
		rd.from = p
		info, err := w.nodeCLI(ctx, p, "INFO", "replication")
		last = info
		return err == nil && strings.Contains(info, "role:master\n") && strings.Contains(info, "connected_slaves:1\n") &&
			strings.Contains(info, ",state=online,"), nil
	}); err != nil {
		return rd, fmt.Errorf("an online replica: %w (last %q)", err, last)
	}
	rd.synced = time.Since(t0)

	if out, err := w.c.exec(ctx, w.client, "sh", "-c", ": > /tmp/acks; rm -f /tmp/stop").CombinedOutput(); err != nil {
		return rd, fmt.Errorf("preparing the writer: %w: %s", err, out)
	}
	writer := w.c.exec(ctx, w.client, "sh", "-c", ecWriter, "writer", w.endpoint, strconv.Itoa(k))
	var out strings.Builder
	writer.Stdout, writer.Stderr = &out, &out
	if err := writer.Start(); err != nil {
		return rd, err
	}
	stop := func() error {
		err := w.c.exec(ctx, w.client, "touch", "/tmp/stop").Run()
		if werr := writer.Wait(); werr != nil {
			err = errors.Join(err, fmt.Errorf("writer: %w: %s", werr, out.String()))
		}
		return err
	}
	acks := func() ([]ack, error) {
		out, err := w.c.exec(ctx, w.client, "cat", "/tmp/acks").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("reading the writer's log: %w: %s", err, out)
		}
		return parseAcks(string(out)), nil
	}
	until := func(t time.Time, within time.Duration) error {
		return pollEvery(ctx, 500*time.Millisecond, within, func() (bool, error) {
			a, err := acks()
			return err == nil && len(a) > 0 && !a[len(a)-1].at.Before(t), err
		})
	}
	err := func() error {
		if err := until(time.Now().Add(3*time.Second), time.Minute); err != nil {
			return fmt.Errorf("the writer's first keys: %w", err)
		}
		if _, err := w.aws(ctx, "elasticache", "test-failover", "--replication-group-id", ecGroup, "--node-group-id", "0001"); err != nil {
			return err
		}
		if err := until(time.Now().Add(3*time.Second), 3*time.Minute); err != nil {
			return fmt.Errorf("keys after the failover: %w", err)
		}
		return nil
	}()
	if err = errors.Join(err, stop()); err != nil {
		return rd, err
	}
	a, err := acks()
	if err != nil {
		return rd, err
	}
	rd.gap = longestGap(a)
	rd.acked = len(a)
	keys, err := w.c.exec(ctx, w.client, "redis-cli", "-h", w.endpoint, "--scan", "--pattern", fmt.Sprintf("w:%d:*", k)).CombinedOutput()
	if err != nil {
		return rd, fmt.Errorf("listing round %d's keys: %w: %s", k, err, keys)
	}
	present := map[int]bool{}
	for f := range strings.FieldsSeq(string(keys)) {
		n, err := strconv.Atoi(strings.TrimPrefix(f, fmt.Sprintf("w:%d:", k)))
		if err != nil {
			return rd, fmt.Errorf("listing round %d's keys: %q", k, f)
		}
		present[n] = true
	}
	ackd := map[int]bool{}
	for _, x := range a {
		ackd[x.id] = true
		if !present[x.id] {
			rd.missing = append(rd.missing, x.id)
		}
	}
	for n := range present {
		if !ackd[n] {
			rd.unacked++
		}
	}
	rd.to, _, err = w.primary(ctx)
	return rd, err
}

func (w *ecWorld) memory(ctx context.Context, s *section) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
	}
	return idleNodeMemory(w.c, s, "cache", w.clusters(), func(cl string) (int, error) { return w.net.nodeInit(w.prefix + cl) })
}
