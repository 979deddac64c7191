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
// available MariaDB instance's primary, through the slots' exec, for its
// connections (AWS/RDS DatabaseConnections) and, on a read replica, how
// far it is behind its source (ReplicaLag, MariaDB's
// Seconds_Behind_Master). The node's CPU, memory and network come from
// the metric publisher (desired.Slot.Metrics).

// engineQuery reads both figures in one command; the replica's status is
// empty on any other node.
const engineQuery = "SHOW GLOBAL STATUS LIKE 'Threads_connected'; SHOW SLAVE STATUS\\G"

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
	sc      scope
	id      string
	slot    string
	replica bool
}

func (s *Service) publishEngineMetrics(ctx context.Context, pub metric.Publisher) {
	var targets []engineTarget
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			if r.Status == "available" && r.Engine != "postgres" {
				targets = append(targets, engineTarget{sc: sc, id: r.ID, slot: primarySlot(r), replica: r.Source != nil})
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
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		code, err := exec.ExecSlot(qctx, tg.slot, []string{"mysql", "--protocol=socket", "-uroot", "-e", engineQuery}, nil, &out)
		cancel()
		if err != nil || code != 0 {
			continue // a node not answering publishes nothing, as on AWS
		}
		conns, lag, lagKnown := parseEngineStatus(out.String())
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
