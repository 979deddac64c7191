package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// sgFilterSizes are the group counts ec2-sg-filter measures at: the
// answer is one group either way, so its cost should not grow.
var sgFilterSizes = []int{300, 1000}

func sgName(i int) string { return fmt.Sprintf("filter-bench-%04d", i) }

// benchEC2SGFilter measures DescribeSecurityGroups filtered by group-name,
// whose answer is one group, as the number of groups grows.
func benchEC2SGFilter(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "EC2 DescribeSecurityGroups filtered by group-name",
		method: fmt.Sprintf("On a freshly started server, groups are created in the default VPC one call at a time "+
			"(untimed) up to each size in %v; then %d concurrent clients, then 1, each for %s after a %s warm-up, send "+
			"a query-protocol DescribeSecurityGroups with Filter group-name=<one group's name> (the middle one), signed "+
			"afresh per request; an answer counts only if it is a 200 naming that group. The answer is one group at "+
			"every size: a server that reads only what can match answers at the same rate.", sgFilterSizes, r.clients, r.dur, r.warmup),
		table: table{header: []string{"Server", "Groups", "Clients", "Requests/s", "p50", "p99", "Errors"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	rps := make([][]float64, len(targets)) // [target][size]
	for i, t := range targets {
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		made := 0
		for _, n := range sgFilterSizes {
			r.logf("  %s: %d groups", t.name, n)
			for ; made < n; made++ {
				body := "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=" + sgName(made) + "&GroupDescription=bench"
				c := newCaller(p.endpoint, 1, newAPICall("ec2", body, "<groupId>"))
				err := c.call(ctx)
				c.close()
				if err != nil {
					p.stop()
					return s, fmt.Errorf("%s: creating group %d: %w", t.name, made, err)
				}
			}
			name := sgName(n / 2)
			call := newAPICall("ec2", "Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-name&Filter.1.Value.1="+url.QueryEscape(name),
				"<groupName>"+name+"</groupName>")
			for _, clients := range []int{r.clients, 1} {
				l, err := runLoad(ctx, p.endpoint, call, clients, r.warmup, r.dur)
				if err != nil {
					p.stop()
					return s, fmt.Errorf("%s: %w", t.name, err)
				}
				s.table.rows = append(s.table.rows, []string{t.name, strconv.Itoa(n), strconv.Itoa(clients), fmt.Sprintf("%.0f", l.rps()),
					ms(l.pct(50)), ms(l.pct(99)), strconv.Itoa(l.errors)})
				if clients == r.clients {
					rps[i] = append(rps[i], l.rps())
				}
			}
		}
		p.stop()
	}
	last := len(sgFilterSizes) - 1
	for _, i := range []int{cbMem, cbDisk} {
		s.notes = append(s.notes, fmt.Sprintf("%s, %d clients: %s moto's requests/s with %d groups, %s with %d; its own rate at %d groups is %.2f of its rate at %d.",
			targets[i].name, r.clients, times(rps[i][0]/rps[motoSrv][0]), sgFilterSizes[0], times(rps[i][last]/rps[motoSrv][last]), sgFilterSizes[last],
			sgFilterSizes[last], rps[i][last]/rps[i][0], sgFilterSizes[0]))
	}
	ratio := rps[cbMem][last] / rps[motoSrv][last]
	s.goals = append(s.goals, goal{
		name:   "filtered DescribeSecurityGroups",
		target: "≥ 20x moto, flat as the group count grows",
		result: fmt.Sprintf("ephemeral %s moto's at %d groups; %d→%d groups keeps %.2f of the rate", times(ratio), sgFilterSizes[last],
			sgFilterSizes[0], sgFilterSizes[last], rps[cbMem][last]/rps[cbMem][0]),
		met: ratio >= 20 && rps[cbMem][last]/rps[cbMem][0] >= 0.8,
	})
	return s, nil
}
