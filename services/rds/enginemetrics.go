package rds

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// The metrics only the engine knows: each virtual minute RDS asks each
// available instance's primary, through the slots' exec, for its
// connections (AWS/RDS DatabaseConnections) and, on a read replica, how
// far it is behind its source (ReplicaLag: MariaDB's
// Seconds_Behind_Master; on PostgreSQL the age of the last transaction
// replayed, 0 once everything received is replayed, as RDS computes it).
// The node's CPU, memory and network come from the metric publisher
// (desired.Slot.Metrics).

// engineQuery reads both figures in one command; the replica's status is
// empty on any other node.
const engineQuery = "SHOW GLOBAL STATUS LIKE 'Threads_connected'; SHOW SLAVE STATUS\\G"

// PostgreSQL's: the client connections (less the query's own), then the
// lag, NULL unless the node is a standby that streams.
const (
	pgConnsQuery = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
	pgLagQuery   = "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL " +
		"WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 " +
		"ELSE greatest(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))::int END"
)

// RunEngineMetrics publishes the engines' metrics through pub every
// period of wall time until ctx ends.
func (s *Service) RunEngineMetrics(ctx context.Context, pub metric.Publisher, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.publishEngineMetrics(ctx, pub)
		}
	}
}

// engineTarget is an instance whose engine is asked.
type engineTarget struct {
	sc       scope
	id       string
	slot     string
	replica  bool
	postgres bool
	port     int
}

// probe is the command that asks the target's engine, and how its answer
// reads.
func (tg engineTarget) probe() ([]string, func(string) (int, int, bool)) {
	if tg.postgres {
		return []string{"psql", "-h", "/run/postgresql", "-p", strconv.Itoa(tg.port), "-U", "rdsadmin", "-d", "postgres", "-tAX",
			"-c", pgConnsQuery, "-c", pgLagQuery}, parsePgStatus
	}
	return []string{"mysql", "--protocol=socket", "-uroot", "-e", engineQuery}, parseEngineStatus
}

func (s *Service) publishEngineMetrics(ctx context.Context, pub metric.Publisher) {
	var targets []engineTarget
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			if r.Status == "available" {
				targets = append(targets, engineTarget{sc: sc, id: r.ID, slot: primarySlot(r), replica: r.Source != nil,
					postgres: r.Engine == "postgres", port: r.Port})
			}
			return nil
		})
	})
	if err != nil {
		s.log.Warn("rds: engine metrics", "error", err)
		return
	}
	exec := s.snaps.execer()
	now := s.now()
	for _, tg := range targets {
		var out bytes.Buffer
		argv, parse := tg.probe()
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		code, err := exec.ExecSlot(qctx, tg.slot, argv, nil, &out)
		cancel()
		if err != nil || code != 0 {
			continue // a node not answering publishes nothing, as on AWS
		}
		conns, lag, lagKnown := parse(out.String())
		dims := map[string]string{"DBInstanceIdentifier": tg.id}
		data := []metric.Datum{{Name: "DatabaseConnections", Value: float64(conns), Unit: "Count", Dimensions: dims, Time: now}}
		if tg.replica && lagKnown {
			data = append(data, metric.Datum{Name: "ReplicaLag", Value: float64(lag), Unit: "Seconds", Dimensions: dims, Time: now})
		}
		if err := pub.Publish(tg.sc.account, tg.sc.region, "AWS/RDS", data); err != nil {
			s.log.Warn("rds: engine metrics", "id", tg.id, "error", err)
		}
	}
}

// parseEngineStatus reads engineQuery's output: the connections (less
// the query's own) and the replica's lag, when it has a known one (NULL
// while it is not replicating).
func parseEngineStatus(out string) (conns int, lag int, lagKnown bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Threads_connected":
			if n, err := strconv.Atoi(f[1]); err == nil {
				conns = max(n-1, 0)
			}
		case len(f) == 2 && f[0] == "Seconds_Behind_Master:":
			if n, err := strconv.Atoi(f[1]); err == nil {
				lag, lagKnown = n, true
			}
		}
	}
	return conns, lag, lagKnown
}

// parsePgStatus reads the answers to pgConnsQuery and pgLagQuery, a line
// each (the lag's empty when NULL).
func parsePgStatus(out string) (conns int, lag int, lagKnown bool) {
	lines := strings.Split(out, "\n")
	if n, err := strconv.Atoi(strings.TrimSpace(lines[0])); err == nil && n >= 0 {
		conns = n
	}
	if len(lines) > 1 {
		if n, err := strconv.Atoi(strings.TrimSpace(lines[1])); err == nil && n >= 0 {
			lag, lagKnown = n, true
		}
	}
	return conns, lag, lagKnown
}
