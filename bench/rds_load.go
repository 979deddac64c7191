package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rdsWriter inserts row i of a round per mysql process (one connection
// each) and appends "i <time>" to /tmp/acks once the INSERT is
// acknowledged, until /tmp/stop exists. The log stays in the client so the
// bench reads it with exec rather than depending on output streaming; the
// bench empties it and removes /tmp/stop before it starts the writer.
const rdsWriter = `i=0
while [ ! -e /tmp/stop ]; do
  i=$((i+1))
  if timeout 5 mysql --connect-timeout=2 -h "$1" -u "$2" -p"$3" -e "INSERT INTO bench.w (round, id) VALUES ($4, $i)" 2>/dev/null; then
    echo "$i $(date +%s.%N)" >> /tmp/acks
  fi
done`

// An ack is one acknowledged row of the writer.
type ack struct {
	id int
	at time.Time
}

func (w *rdsWorld) acks(ctx context.Context) ([]ack, error) {
	out, err := w.c.exec(ctx, w.client, "cat", "/tmp/acks").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("reading the writer's log: %w: %s", err, out)
	}
	return parseAcks(string(out)), nil
}

// parseAcks reads the writer's "i <seconds since the epoch>" lines; the
// last one, while the writer is still appending it, has no newline yet.
func parseAcks(log string) []ack {
	var acks []ack
	for line := range strings.Lines(log) {
		if !strings.HasSuffix(line, "\n") {
			break // the line being written
		}
		id, ts, ok := strings.Cut(strings.TrimSpace(line), " ")
		n, err1 := strconv.Atoi(id)
		f, err2 := strconv.ParseFloat(ts, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		acks = append(acks, ack{n, time.Unix(0, int64(f*1e9))})
	}
	return acks
}

// longestGap is the longest time between two consecutive acknowledged rows.
func longestGap(acks []ack) time.Duration {
	var gap time.Duration
	for i := 1; i < len(acks); i++ {
		gap = max(gap, acks[i].at.Sub(acks[i-1].at))
	}
	return gap
}

// rdsRound is what one failover under the writer gave.
type rdsRound struct {
	gap       time.Duration // longest gap between consecutive acknowledged rows
	toAvail   time.Duration // reboot-db-instance call to available
	standby   time.Duration // waiting for a connected semi-synchronous standby before the round
	acked     int
	missing   []int // acknowledged but not in the table afterwards
	unacked   int   // in the table but never acknowledged (written, answer lost)
	throughAZ string
}

func (w *rdsWorld) failovers(ctx context.Context, s *section) error {
	var rounds []rdsRound
	for k := 1; k <= rdsFailovers; k++ {
		rd, err := w.failover(ctx, k)
		if err != nil {
			return fmt.Errorf("failover %d: %w", k, err)
		}
		w.c.r.logf("  failover %d: gap %s, call to available %s, %d rows acknowledged, %d missing, now in %s",
			k, ms(rd.gap), secs(rd.toAvail), rd.acked, len(rd.missing), rd.throughAZ)
		rounds = append(rounds, rd)
	}
	row := func(name string, f func(rdsRound) time.Duration, format func(time.Duration) string) time.Duration {
		var v []time.Duration
		for _, rd := range rounds {
			v = append(v, f(rd))
		}
		slices.Sort(v)
		p50 := percentile(v, 50)
		s.table.rows = append(s.table.rows, []string{name, format(p50), format(v[0]), format(v[len(v)-1]), strconv.Itoa(len(v))})
		return p50
	}
	gap := row("Write unavailability during --force-failover (longest gap between acknowledged rows)", func(rd rdsRound) time.Duration { return rd.gap }, secsMS)
	row("reboot-db-instance --force-failover to available", func(rd rdsRound) time.Duration { return rd.toAvail }, secsMS)
	acked, missing, unacked := 0, 0, 0
	var zones []string
	var standby time.Duration
	for _, rd := range rounds {
		acked, missing, unacked = acked+rd.acked, missing+len(rd.missing), unacked+rd.unacked
		zones = append(zones, rd.throughAZ)
		standby = max(standby, rd.standby)
	}
	s.notes = append(s.notes,
		fmt.Sprintf("Failover: writes stop for **%s** (p50 of %d failovers). Rows acknowledged over the %d rounds: %d; missing afterwards: **%d**; "+
			"present but never acknowledged (the answer lost in the failover): %d. The primary's zone after each failover: %s.",
			secsMS(gap), len(rounds), len(rounds), acked, missing, unacked, strings.Join(zones, ", ")),
		fmt.Sprintf("Each round began 3 s or more after the previous failover's `available` (the first, after the client's set-up), and "+
			"the primary had its semi-synchronous standby connected by then: the check took at most %s (one `mysql` call).", secsMS(standby)))
	for k, rd := range rounds {
		if len(rd.missing) > 0 {
			s.notes = append(s.notes, fmt.Sprintf("Round %d lost acknowledged rows %v.", k+1, rd.missing))
		}
	}
	return nil
}

func (w *rdsWorld) failover(ctx context.Context, k int) (rdsRound, error) {
	var rd rdsRound
	// The instance is available once the old primary's slot runs; its
	// MariaDB connects to the new primary as the semi-synchronous
	// standby a little later, and a failover before that would find a
	// standby without the latest commits.
	t0 := time.Now()
	var last string
	if err := pollEvery(ctx, 200*time.Millisecond, 5*time.Minute, func() (bool, error) {
		out, err := w.sql(ctx, "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'")
		last = out
		return err == nil && strings.HasSuffix(out, "\t1"), nil
	}); err != nil {
		return rd, fmt.Errorf("a connected standby: %w (last %q)", err, last)
	}
	rd.standby = time.Since(t0)

	if out, err := w.c.exec(ctx, w.client, "sh", "-c", ": > /tmp/acks; rm -f /tmp/stop").CombinedOutput(); err != nil {
		return rd, fmt.Errorf("preparing the writer: %w: %s", err, out)
	}
	writer := w.c.exec(ctx, w.client, "sh", "-c", rdsWriter, "writer", w.endpoint, rdsUser, rdsPassword, strconv.Itoa(k))
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
	// until waits for an acknowledged row at or after t.
	until := func(t time.Time, within time.Duration) error {
		return pollEvery(ctx, 500*time.Millisecond, within, func() (bool, error) {
			acks, err := w.acks(ctx)
			return err == nil && len(acks) > 0 && !acks[len(acks)-1].at.Before(t), err
		})
	}
	err := func() error {
		if err := until(time.Now().Add(3*time.Second), time.Minute); err != nil {
			return fmt.Errorf("the writer's first rows: %w", err)
		}
		called := time.Now()
		out, err := w.rds(ctx, "reboot-db-instance", "--db-instance-identifier", rdsID, "--force-failover")
		if err != nil {
			return err
		}
		// The answer is the instance already rebooting, so the wait
		// below cannot see the available of before.
		if !strings.Contains(string(out), `"rebooting"`) {
			return fmt.Errorf("reboot-db-instance answered: %s", out)
		}
		if err := w.waitStatus(ctx, "available", 5*time.Minute); err != nil {
			return err
		}
		rd.toAvail = time.Since(called)
		if err := until(time.Now().Add(3*time.Second), 3*time.Minute); err != nil {
			return fmt.Errorf("rows after the failover: %w", err)
		}
		return nil
	}()
	if err = errors.Join(err, stop()); err != nil {
		return rd, err
	}
	acks, err := w.acks(ctx)
	if err != nil {
		return rd, err
	}
	rd.gap = longestGap(acks)
	rd.acked = len(acks)
	ids, err := w.sql(ctx, fmt.Sprintf("SELECT id FROM bench.w WHERE round = %d", k))
	if err != nil {
		return rd, err
	}
	present := map[int]bool{}
	for f := range strings.FieldsSeq(ids) {
		n, _ := strconv.Atoi(f)
		present[n] = true
	}
	ackd := map[int]bool{}
	for _, a := range acks {
		ackd[a.id] = true
		if !present[a.id] {
			rd.missing = append(rd.missing, a.id)
		}
	}
	for n := range present {
		if !ackd[n] {
			rd.unacked++
		}
	}
	d, err := w.describe(ctx)
	rd.throughAZ = d.AvailabilityZone
	return rd, err
}

// slapSeconds is mysqlslap's "Average number of seconds to run all queries".
var slapSeconds = regexp.MustCompile(`Average number of seconds to run all queries: ([0-9.]+) seconds`)

func (w *rdsWorld) tps(ctx context.Context, s *section) error {
	if _, err := w.sql(ctx, "CREATE DATABASE slap; CREATE TABLE slap.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB"); err != nil {
		return err
	}
	slap := func(host string) []string {
		return []string{"mysqlslap", "-h", host, "-u", rdsUser, "-p" + rdsPassword, "--create-schema=slap", "--no-drop",
			"--query=INSERT INTO t (v) VALUES (1)", fmt.Sprintf("--concurrency=%d", rdsSlapClients),
			fmt.Sprintf("--number-of-queries=%d", rdsSlapQueries), "--iterations=1"}
	}
	count := func() (int, error) {
		out, err := w.sql(ctx, "SELECT COUNT(*) FROM slap.t")
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(out)
	}
	// one runs mysqlslap once and returns rows inserted per second of
	// mysqlslap's own time.
	one := func(where string) (float64, error) {
		before, err := count()
		if err != nil {
			return 0, err
		}
		var out []byte
		if where == "endpoint" {
			out, err = w.c.exec(ctx, w.client, slap(w.endpoint)...).CombinedOutput()
		} else {
			primary, perr := w.primary(ctx)
			if perr != nil {
				return 0, perr
			}
			cmd, cerr := w.inNode(ctx, primary, slap("127.0.0.1")...)
			if cerr != nil {
				return 0, cerr
			}
			out, err = cmd.CombinedOutput()
		}
		if err != nil {
			return 0, fmt.Errorf("mysqlslap (%s): %w: %s", where, err, out)
		}
		m := slapSeconds.FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("mysqlslap (%s) said: %s", where, out)
		}
		sec, _ := strconv.ParseFloat(string(m[1]), 64)
		after, err := count()
		if err != nil {
			return 0, err
		}
		if sec <= 0 || after <= before {
			return 0, fmt.Errorf("mysqlslap (%s): %d rows in %s s: %s", where, after-before, m[1], out)
		}
		return float64(after-before) / sec, nil
	}
	semi := func() (yes, no int, err error) {
		out, err := w.sql(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_yes_tx', 'Rpl_semi_sync_master_no_tx')")
		if err != nil {
			return 0, 0, err
		}
		for line := range strings.Lines(out) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "\t")
			n, _ := strconv.Atoi(v)
			switch k {
			case "Rpl_semi_sync_master_yes_tx":
				yes = n
			case "Rpl_semi_sync_master_no_tx":
				no = n
			}
		}
		return yes, no, nil
	}
	yes0, no0, err := semi()
	if err != nil {
		return err
	}
	var ep, local []float64
	for i := range rdsSlapRuns {
		e, err := one("endpoint")
		if err != nil {
			return err
		}
		l, err := one("node")
		if err != nil {
			return err
		}
		w.c.r.logf("  mysqlslap run %d: %.0f transactions/s through the endpoint, %.0f inside the node", i+1, e, l)
		ep, local = append(ep, e), append(local, l)
	}
	row := func(name string, v []float64) float64 {
		m := medianOf(v) // sorts v
		s.table.rows = append(s.table.rows, []string{name, fmt.Sprintf("%.0f", m), fmt.Sprintf("%.0f", v[0]), fmt.Sprintf("%.0f", v[len(v)-1]), strconv.Itoa(len(v))})
		return m
	}
	me := row("Transactions/s through the endpoint (client instance, VPC path)", ep)
	ml := row("Transactions/s inside the primary's node (127.0.0.1)", local)
	yes1, no1, err := semi()
	if err != nil {
		return err
	}
	s.notes = append(s.notes,
		fmt.Sprintf("Transactions/s through the endpoint are **%.2f** of the same engine's reached inside its node (%.0f vs %.0f, medians).", me/ml, me, ml),
		fmt.Sprintf("Over the mysqlslap runs the primary counted %d commits acknowledged by the standby (Rpl_semi_sync_master_yes_tx) and %d "+
			"committed without its acknowledgement (no_tx); both runs wait for the standby on every commit.", yes1-yes0, no1-no0))
	return nil
}

func (w *rdsWorld) memory(ctx context.Context, s *section) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
	}
	return idleNodeMemory(w.c, s, "DB", w.slots(), w.nodeInit)
}

// cgroupOf is the last element of a process's cgroup path (the slot's
// directory under cloudbox/<daemon>), v2's or v1's memory controller's.
func cgroupOf(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) == 3 && (f[1] == "" || slices.Contains(strings.Split(f[1], ","), "memory")) && strings.HasPrefix(f[2], "/cloudbox/") {
			return filepath.Base(f[2]), nil
		}
	}
	return "", fmt.Errorf("PID %d is in no cloudbox cgroup: %s", pid, b)
}

// secsMS formats a duration of seconds with millisecond precision.
func secsMS(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
