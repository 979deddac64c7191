package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// cloudWatchPutCall is one PutMetricData of 20 datapoints, one per host
// dimension, as an agent reporting for a fleet sends it.
var cloudWatchPutCall = func() apiCall {
	var b strings.Builder
	b.WriteString("Action=PutMetricData&Version=2010-08-01&Namespace=Bench")
	for i := 1; i <= 20; i++ {
		m := "&MetricData.member." + strconv.Itoa(i)
		fmt.Fprintf(&b, "%s.MetricName=Latency%s.Unit=Milliseconds%s.Value=%d", m, m, m, i)
		fmt.Fprintf(&b, "%s.Dimensions.member.1.Name=Host%s.Dimensions.member.1.Value=host-%d", m, m, i)
	}
	return newAPICall("monitoring", b.String(), "PutMetricDataResponse")
}()

// benchCloudWatchPut measures PutMetricData, whose datapoints cloudbox
// keeps in memory and writes to the store in batches: the persistent
// store should cost it next to nothing.
func benchCloudWatchPut(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "CloudWatch PutMetricData",
		method: fmt.Sprintf("Closed-loop load on a freshly started server: %d concurrent clients, then 1 client, "+
			"each for %s after a %s warm-up, sending a query-protocol PutMetricData of 20 datapoints (one metric, "+
			"20 host dimensions) signed afresh per request with aws-sdk-go-v2's SigV4 signer. An answer counts "+
			"only if it is a 200 PutMetricDataResponse. cloudbox keeps datapoints in memory and writes the "+
			"changed hour-chunks to its store once a second in one transaction (persistent: one fsync), so "+
			"the datapoints survive a restart.", r.clients, r.dur, r.warmup),
		table: table{header: []string{"Server", "Clients", "Requests/s", "p50", "p99", "Errors"}},
	}
	var many []loadResult
	for _, t := range r.targets() {
		m, o, _, err := r.loadOne(ctx, t, cloudWatchPutCall)
		if err != nil {
			return s, err
		}
		many = append(many, m)
		for _, l := range []loadResult{m, o} {
			s.table.rows = append(s.table.rows, []string{t.name, strconv.Itoa(l.clients), fmt.Sprintf("%.0f", l.rps()),
				ms(l.pct(50)), ms(l.pct(99)), strconv.Itoa(l.errors)})
			if l.errors > 0 {
				s.notes = append(s.notes, fmt.Sprintf("%s, %d clients: %d errors; first: %v", t.name, l.clients, l.errors, l.firstErr))
			}
		}
	}
	disk := many[cbDisk].rps() / many[cbMem].rps()
	s.notes = append(s.notes, fmt.Sprintf("With %d clients cloudbox (ephemeral) answers %s moto's requests/s, cloudbox (persistent) %s.",
		r.clients, times(many[cbMem].rps()/many[motoSrv].rps()), times(many[cbDisk].rps()/many[motoSrv].rps())))
	s.goals = append(s.goals, goal{
		name:   "PutMetricData with durable datapoints",
		target: "persistent ≥ 1/1.2 of ephemeral throughput",
		result: fmt.Sprintf("persistent %.0f vs ephemeral %.0f requests/s (%.2f), %d clients", many[cbDisk].rps(), many[cbMem].rps(), disk, r.clients),
		met:    disk >= 1/1.2,
	})
	return s, nil
}
