package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A bench is one named measurement; each produces one section of the report.
// New benchmarks are added to this list and can be run alone with -only; the
// EC2 ones are in ec2.go, the S3 ones (-only s3 runs them all) in s3.go.
type bench struct {
	name string
	run  func(ctx context.Context, r *runner) (section, error)
}

var benches = []bench{
	{"start", benchStart},
	{"rss", benchIdleRSS},
	{"sts", benchSTS},
	{"ec2-run", benchEC2Run},
	{"ec2-describe", benchEC2Describe},
	{"ec2-sg", benchEC2SG},
	{"ec2-filter", benchEC2SGFilter},
	{"dataplane-launch", benchDataplaneLaunch},
	{"dataplane-sg", benchDataplaneSG},
	{"dataplane-throughput", benchDataplaneThroughput},
	{"dataplane-memory", benchDataplaneMemory},
	{"images", benchImages},
	{"route53-batch", benchRoute53Batch},
	{"route53-dns", benchRoute53DNS},
	{"alb", benchALB},
	{"autoscaling-scaleout", benchAutoScalingScaleOut},
	{"autoscaling-capacity", benchAutoScalingCapacity},
	{"s3-throughput", benchS3Throughput},
	{"s3-latency", benchS3Latency},
	{"s3-rss", benchS3RSS},
	{"s3-list", benchS3List},
	{"iam-authz", benchIAMAuthz},
	{"cloudwatch-put", benchCloudWatchPut},
	{"rds", benchRDS},
	{"elasticache", benchElastiCache},
}

// Goals from the issue.
const (
	goalStart      = 100 * time.Millisecond
	goalRSS        = 40_000_000 // bytes
	goalThroughput = 10.0       // times moto's
)

func benchStart(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "Start to first answer",
		method: fmt.Sprintf("Time from exec to the first successful answer to a signed STS GetCallerIdentity, "+
			"polled every 2 ms. Each server is started %d times, interleaved, after one untimed start each "+
			"to warm the page cache. The persistent store reuses one data directory across starts, as a "+
			"developer restarting `cloudbox up` would. moto_server is exec'd directly, not through the pyenv "+
			"shim on PATH, whose bash scripts would add their own start-up time to every moto start.", r.starts),
		table: table{header: []string{"Server", "p50", "min", "max", "Starts"}},
	}
	targets := r.targets()
	ready := make([][]time.Duration, len(targets))
	for i := -1; i < r.starts; i++ {
		for j, t := range targets {
			p, err := r.start(ctx, t)
			if err != nil {
				return s, err
			}
			p.stop()
			if i >= 0 {
				ready[j] = append(ready[j], p.ready)
			}
		}
	}
	p50 := make([]time.Duration, len(targets))
	for j, t := range targets {
		slices.Sort(ready[j])
		p50[j] = percentile(ready[j], 50)
		s.table.rows = append(s.table.rows, []string{t.name, ms(p50[j]), ms(ready[j][0]), ms(ready[j][len(ready[j])-1]), strconv.Itoa(len(ready[j]))})
	}
	cb, disk, moto := p50[cbMem], p50[cbDisk], p50[motoSrv]
	s.notes = append(s.notes,
		fmt.Sprintf("moto takes %s as long as cloudbox (ephemeral) to first answer, %s as long as cloudbox (persistent) (p50).",
			times(moto.Seconds()/cb.Seconds()), times(moto.Seconds()/disk.Seconds())))
	s.goals = append(s.goals, goal{
		name:   "Start to first answer",
		target: "< " + ms(goalStart),
		result: fmt.Sprintf("cloudbox p50 %s ephemeral, %s persistent (moto %s)", ms(cb), ms(disk), ms(moto)),
		met:    cb < goalStart && disk < goalStart,
	})
	return s, nil
}

func benchIdleRSS(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "Idle RSS",
		method: "Each server is started, sent 10 GetCallerIdentity requests, left idle for 1 s, and then the VmRSS " +
			"of its whole process group is read from /proc/PID/status (so forked workers would count too). " +
			"MB are 10^6 bytes.",
		table: table{header: []string{"Server", "Idle RSS", "Processes"}},
	}
	var rss []int64
	for _, t := range r.targets() {
		n, procs, err := r.idleRSS(ctx, t)
		if err != nil {
			return s, err
		}
		rss = append(rss, n)
		s.table.rows = append(s.table.rows, []string{t.name, mb(n), strconv.Itoa(procs)})
	}
	cb, disk, moto := rss[cbMem], rss[cbDisk], rss[motoSrv]
	s.notes = append(s.notes, fmt.Sprintf("moto's idle RSS is %s cloudbox's (ephemeral) and %s cloudbox's (persistent).",
		times(float64(moto)/float64(cb)), times(float64(moto)/float64(disk))))
	s.goals = append(s.goals, goal{
		name:   "Idle RSS",
		target: "< " + mb(goalRSS),
		result: fmt.Sprintf("cloudbox %s ephemeral, %s persistent (moto %s)", mb(cb), mb(disk), mb(moto)),
		met:    cb < goalRSS && disk < goalRSS,
	})
	return s, nil
}

func (r *runner) idleRSS(ctx context.Context, t target) (int64, int, error) {
	p, err := r.start(ctx, t)
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	c := newCaller(p.endpoint, 1, stsCall)
	for range 10 {
		if err := c.call(ctx); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	c.close()
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	return p.rss()
}

func benchSTS(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "STS GetCallerIdentity latency and throughput",
		method: fmt.Sprintf("Closed-loop load on a freshly started server: %d concurrent clients, then 1 client, "+
			"each for %s after a %s warm-up, sending POST `%s` signed afresh per request with aws-sdk-go-v2's "+
			"SigV4 signer (key test/test, us-east-1, sts) over keep-alive connections. An answer counts only "+
			"if it is a 200 containing `<Account>`. Latency is client-side, request start to body read. "+
			"RSS is read right after the %d-client run.", r.clients, r.dur, r.warmup, stsBody, r.clients),
		table: table{header: []string{"Server", "Clients", "Requests/s", "p50", "p90", "p99", "Errors", "RSS after load"}},
	}
	row := func(name string, l loadResult, rss string) []string {
		return []string{name, strconv.Itoa(l.clients), fmt.Sprintf("%.0f", l.rps()),
			ms(l.pct(50)), ms(l.pct(90)), ms(l.pct(99)), strconv.Itoa(l.errors), rss}
	}
	var many, one []loadResult
	for _, t := range r.targets() {
		m, o, rss, err := r.loadOne(ctx, t, stsCall)
		if err != nil {
			return s, err
		}
		many, one = append(many, m), append(one, o)
		s.table.rows = append(s.table.rows, row(t.name, m, mb(rss)), row(t.name, o, ""))
		for _, l := range []loadResult{m, o} {
			if l.errors > 0 {
				s.notes = append(s.notes, fmt.Sprintf("%s, %d clients: %d errors; first: %v", t.name, l.clients, l.errors, l.firstErr))
			}
		}
	}
	names := r.targets()
	moto := motoSrv
	for _, i := range []int{cbMem, cbDisk} {
		tput := many[i].rps() / many[moto].rps()
		s.notes = append(s.notes,
			fmt.Sprintf("%s throughput is **%s moto's** with %d clients. p50 latency ratio cloudbox/moto: "+
				"%.3f with %d clients (%s vs %s, moto %s slower), %.3f with 1 client (%s vs %s, moto %s slower).",
				names[i].name, times(tput), r.clients,
				latRatio(many[i], many[moto]), r.clients, ms(many[i].pct(50)), ms(many[moto].pct(50)), times(1/latRatio(many[i], many[moto])),
				latRatio(one[i], one[moto]), ms(one[i].pct(50)), ms(one[moto].pct(50)), times(1/latRatio(one[i], one[moto]))))
	}
	tput := many[cbMem].rps() / many[moto].rps()
	s.goals = append(s.goals, goal{
		name:   "GetCallerIdentity throughput",
		target: "≥ " + times(goalThroughput) + " moto's",
		result: fmt.Sprintf("cloudbox (ephemeral) %s moto's: %.0f vs %.0f requests/s, %d clients; persistent %s",
			times(tput), many[cbMem].rps(), many[moto].rps(), r.clients, times(many[cbDisk].rps()/many[moto].rps())),
		met: tput >= goalThroughput,
	})
	return s, nil
}

// latRatio is the cloudbox/moto ratio of p50 latencies.
func latRatio(cb, moto loadResult) float64 { return cb.pct(50).Seconds() / moto.pct(50).Seconds() }

// loadOne measures one freshly started target with r.clients clients and
// then with one, and reads its RSS in between.
func (r *runner) loadOne(ctx context.Context, t target, call apiCall) (many, one loadResult, rss int64, err error) {
	p, err := r.start(ctx, t)
	if err != nil {
		return many, one, 0, err
	}
	defer p.stop()
	wrap := func(err error) error { return fmt.Errorf("%s: %w", t.name, err) }
	r.logf("  %s: %d clients for %s", t.name, r.clients, r.dur)
	if many, err = runLoad(ctx, p.endpoint, call, r.clients, r.warmup, r.dur); err != nil {
		return many, one, 0, wrap(err)
	}
	if rss, _, err = p.rss(); err != nil {
		return many, one, 0, wrap(err)
	}
	r.logf("  %s: 1 client for %s", t.name, r.dur)
	if one, err = runLoad(ctx, p.endpoint, call, 1, r.warmup, r.dur); err != nil {
		return many, one, 0, wrap(err)
	}
	return many, one, rss, nil
}

// only parses the -only flag: a comma-separated list of bench names, where
// a name before a dash also stands for the group ("ec2" for all ec2-*).
func only(list string) ([]bench, error) {
	if list == "" {
		return benches, nil
	}
	var out []bench
	for name := range strings.SplitSeq(list, ",") {
		n := len(out)
		for _, b := range benches {
			if b.name == name || strings.HasPrefix(b.name, name+"-") {
				out = append(out, b)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("-only: no bench %q (have %s)", name, benchNames())
		}
	}
	return out, nil
}

func benchNames() string {
	var names []string
	for _, b := range benches {
		names = append(names, b.name)
	}
	return strings.Join(names, ",")
}
