// Package metrics is the built-in metric publisher: each virtual minute
// it publishes AWS/EC2 CPUUtilization, NetworkIn and NetworkOut of the
// running instances (their cgroups' CPU time and interfaces' counters),
// the same counters of the service slots that ask (AWS/RDS's
// CPUUtilization, FreeableMemory and network throughput), and the
// AWS/ApplicationELB metrics of the load balancers (their nodes'
// counters), as CloudWatch receives them from AWS's own services.
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/alb"
	"github.com/cloudbox/cloudbox/metric"
)

// Instances reads a running instance's counters (the instances
// controller).
type Instances interface {
	Stats(id string) (compute.Stats, error)
}

// Nodes reads the counters of every running load balancer node, by node
// ENI (the load balancers controller).
type Nodes interface {
	NodeStats() map[string]alb.Stats
}

// Config is what the supervisor gives the publisher.
type Config struct {
	Publisher metric.Publisher
	Instances Instances
	Nodes     Nodes
	// Desired returns the latest snapshot.
	Desired func() *desired.World
	// Now is the virtual clock and TimeScale its speed (> 0): the period
	// is a virtual minute.
	Now       func() time.Time
	TimeScale float64
	Log       *slog.Logger
}

// Controller is the metric publisher.
type Controller struct {
	cfg  Config
	stop chan struct{}
	done chan struct{} // made by Start, closed when the publisher ends
}

// New returns the publisher; Start starts it.
func New(cfg Config) *Controller {
	return &Controller{cfg: cfg, stop: make(chan struct{})}
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "metrics" }

// Sync has nothing to do: each period reads the latest snapshot.
func (c *Controller) Sync(context.Context, *desired.World) error { return nil }

// Start starts publishing, every metric period until Close.
func (c *Controller) Start(context.Context) error {
	c.done = make(chan struct{})
	go c.run()
	return nil
}

// Close stops the publisher and waits for it.
func (c *Controller) Close() error {
	close(c.stop)
	if c.done != nil {
		<-c.done
	}
	return nil
}

// metricPeriod is how often the built-in metrics are published, in
// virtual time: EC2's detailed monitoring period, and the period of the
// Application Load Balancer's metrics.
const metricPeriod = time.Minute

// instanceSample is an instance's counters when they were last read.
type instanceSample struct {
	cpu     time.Duration
	in, out uint64
	wall    time.Time
}

// run publishes every metric period, a virtual minute (the wall-time
// ticker runs at the time scale), until Close.
func (c *Controller) run() {
	defer close(c.done)
	t := time.NewTicker(time.Duration(float64(metricPeriod) / c.cfg.TimeScale))
	defer t.Stop()
	instances := map[string]instanceSample{}
	nodes := map[string]alb.Stats{}
	slots := map[string]instanceSample{}
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			m := metricBatches{}
			snap, vnow := c.cfg.Desired(), c.cfg.Now()
			c.instanceMetrics(m, snap, instances, vnow)
			c.slotMetrics(m, snap, slots, vnow)
			c.lbMetrics(m, snap, nodes, vnow)
			for k, data := range m {
				if err := c.cfg.Publisher.Publish(k.account, k.region, k.namespace, data); err != nil {
					c.cfg.Log.Warn("metrics: publishing", "account", k.account, "region", k.region, "namespace", k.namespace, "error", err)
				}
			}
		}
	}
}

// metricBatches are the datapoints of one period, by account, region and
// namespace (one PutMetricData each).
type metricBatches map[metricScope][]metric.Datum

type metricScope struct{ account, region, namespace string }

func (m metricBatches) add(account, region, namespace string, d metric.Datum) {
	k := metricScope{account, region, namespace}
	m[k] = append(m[k], d)
}

// instanceMetrics adds AWS/EC2 CPUUtilization, NetworkIn and NetworkOut of
// every running instance since its last sample: CPU as the share of its
// vCPUs its cgroup used, network as the bytes its interfaces moved. Each
// is published per instance and, for instances of an Auto Scaling group,
// per group, whose Average is what target tracking follows.
func (c *Controller) instanceMetrics(m metricBatches, snap *desired.World, last map[string]instanceSample, vnow time.Time) {
	now := time.Now()
	seen := map[string]bool{}
	for _, in := range snap.Instances {
		if in.State != "running" {
			continue
		}
		st, err := c.cfg.Instances.Stats(in.ID)
		if err != nil {
			continue
		}
		seen[in.ID] = true
		prev, ok := last[in.ID]
		last[in.ID] = instanceSample{cpu: st.CPUTime, in: st.NetworkInBytes, out: st.NetworkOutBytes, wall: now}
		if !ok || !now.After(prev.wall) {
			continue
		}
		pct := 100 * float64(st.CPUTime-prev.cpu) / (float64(now.Sub(prev.wall)) * float64(max(in.VCPUs, 1)))
		data := []metric.Datum{
			{Name: "CPUUtilization", Value: min(max(pct, 0), 100), Unit: "Percent"},
			{Name: "NetworkIn", Value: float64(delta(st.NetworkInBytes, prev.in)), Unit: "Bytes"},
			{Name: "NetworkOut", Value: float64(delta(st.NetworkOutBytes, prev.out)), Unit: "Bytes"},
		}
		for _, d := range data {
			d.Time = vnow
			d.Dimensions = map[string]string{"InstanceId": in.ID}
			m.add(in.Account, in.Region, "AWS/EC2", d)
			if in.AutoScalingGroup != "" {
				d.Dimensions = map[string]string{"AutoScalingGroupName": in.AutoScalingGroup}
				m.add(in.Account, in.Region, "AWS/EC2", d)
			}
		}
	}
	for id := range last {
		if !seen[id] {
			delete(last, id)
		}
	}
}

// slotMetrics adds the metrics of every running service slot that asks
// for them (desired.Slot.Metrics), from its cgroup and interface counters
// as for instances: an RDS instance's CPUUtilization, FreeableMemory and
// network throughput come from its primary's slot.
func (c *Controller) slotMetrics(m metricBatches, snap *desired.World, last map[string]instanceSample, vnow time.Time) {
	now := time.Now()
	seen := map[string]bool{}
	for _, sl := range snap.Slots {
		sm := sl.Metrics
		if sm == nil || !sl.Running {
			continue
		}
		st, err := c.cfg.Instances.Stats(sl.ID)
		if err != nil {
			continue
		}
		seen[sl.ID] = true
		prev, ok := last[sl.ID]
		last[sl.ID] = instanceSample{cpu: st.CPUTime, in: st.NetworkInBytes, out: st.NetworkOutBytes, wall: now}
		if !ok || !now.After(prev.wall) {
			continue
		}
		elapsed := now.Sub(prev.wall)
		pct := 100 * float64(st.CPUTime-prev.cpu) / (float64(elapsed) * float64(max(sl.VCPUs, 1)))
		in, out, unit := float64(delta(st.NetworkInBytes, prev.in)), float64(delta(st.NetworkOutBytes, prev.out)), "Bytes"
		if sm.PerSecond {
			in, out, unit = in/elapsed.Seconds(), out/elapsed.Seconds(), "Bytes/Second"
		}
		free := float64(0)
		if st.MemoryLimitBytes > st.MemoryBytes {
			free = float64(st.MemoryLimitBytes - st.MemoryBytes)
		}
		for _, d := range []metric.Datum{
			{Name: sm.CPU, Value: min(max(pct, 0), 100), Unit: "Percent"},
			{Name: sm.FreeMemory, Value: free, Unit: "Bytes"},
			{Name: sm.NetworkIn, Value: in, Unit: unit},
			{Name: sm.NetworkOut, Value: out, Unit: unit},
		} {
			if d.Name == "" {
				continue
			}
			d.Time, d.Dimensions = vnow, sm.Dimensions
			m.add(sl.Account, sl.Region, sm.Namespace, d)
		}
	}
	for id := range last {
		if !seen[id] {
			delete(last, id)
		}
	}
}

// delta is how much a cumulative counter grew since the last sample; a
// counter that went back (its interface or LB node was made again) counts
// from zero.
func delta[T int64 | uint64](now, before T) T {
	if now < before {
		return now
	}
	return now - before
}

// targetKey is one target of one group.
type targetKey struct {
	tg, target string
	port       int
}

// tgCounts are one target group's counters behind one load balancer over
// a period, summed over the load balancer's nodes.
type tgCounts struct {
	requests, c2, c3, c4, c5, answered, connErrors int64
	responseTime                                   time.Duration
	// health is each target's health: healthy only if every node that
	// checks it says so. Draining targets are neither.
	health map[targetKey]bool
}

// lbMetrics adds the AWS/ApplicationELB metrics of every load balancer
// over the period, from its nodes' counters: per load balancer
// (RequestCount, HTTPCode_ELB_*), per target group behind it
// (RequestCount, HTTPCode_Target_*, TargetResponseTime,
// TargetConnectionErrorCount, HealthyHostCount, UnHealthyHostCount,
// RequestCountPerTarget) and per target group alone
// (RequestCountPerTarget, which ALBRequestCountPerTarget tracking follows).
// As on AWS, counts are reported only when non-zero; host counts always.
func (c *Controller) lbMetrics(m metricBatches, snap *desired.World, last map[string]alb.Stats, vnow time.Time) {
	nodes := c.cfg.Nodes.NodeStats()
	for eni := range last {
		if _, ok := nodes[eni]; !ok {
			delete(last, eni)
		}
	}
	type tgTotal struct {
		account, region string
		requests        int64
		healthy         int
	}
	perTG := map[string]*tgTotal{}
	for _, lb := range snap.LoadBalancers {
		var requests int64
		elb := map[int]int64{}
		groups := map[string]*tgCounts{}
		for _, nd := range lb.Nodes {
			now, ok := nodes[nd.ENI]
			if !ok {
				continue
			}
			prev := last[nd.ENI]
			last[nd.ENI] = now
			requests += delta(now.Requests, prev.Requests)
			for code, v := range now.ELB {
				elb[code/100] += delta(v, prev.ELB[code])
			}
			before := map[targetKey]alb.TargetStats{}
			for _, t := range prev.Targets {
				before[targetKey{t.TargetGroupARN, t.TargetID, t.Port}] = t
			}
			for _, t := range now.Targets {
				g := groups[t.TargetGroupARN]
				if g == nil {
					g = &tgCounts{health: map[targetKey]bool{}}
					groups[t.TargetGroupARN] = g
				}
				p := before[targetKey{t.TargetGroupARN, t.TargetID, t.Port}]
				g.requests += delta(t.Requests, p.Requests)
				c2, c3, c4, c5 := delta(t.Target2XX, p.Target2XX), delta(t.Target3XX, p.Target3XX), delta(t.Target4XX, p.Target4XX), delta(t.Target5XX, p.Target5XX)
				g.c2, g.c3, g.c4, g.c5 = g.c2+c2, g.c3+c3, g.c4+c4, g.c5+c5
				g.answered += c2 + c3 + c4 + c5
				g.connErrors += delta(t.ConnectionErrors, p.ConnectionErrors)
				if t.ResponseTime >= p.ResponseTime {
					g.responseTime += t.ResponseTime - p.ResponseTime
				}
				if t.Draining {
					continue
				}
				k := targetKey{t.TargetGroupARN, t.TargetID, t.Port}
				h, seen := g.health[k]
				g.health[k] = t.Healthy && (!seen || h)
			}
		}
		lbDim := lbDimension(lb.ARN)
		at := func(name string, v float64, unit string, dims map[string]string) {
			m.add(lb.Account, lb.Region, "AWS/ApplicationELB", metric.Datum{Name: name, Value: v, Unit: unit, Time: vnow, Dimensions: dims})
		}
		count := func(name string, v int64, dims map[string]string) {
			if v > 0 {
				at(name, float64(v), "Count", dims)
			}
		}
		lbDims := map[string]string{"LoadBalancer": lbDim}
		count("RequestCount", requests, lbDims)
		for class := 2; class <= 5; class++ {
			count("HTTPCode_ELB_"+strconv.Itoa(class)+"XX_Count", elb[class], lbDims)
		}
		for arn, g := range groups {
			dims := map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDimension(arn)}
			healthy := 0
			for _, ok := range g.health {
				if ok {
					healthy++
				}
			}
			count("RequestCount", g.requests, dims)
			count("HTTPCode_Target_2XX_Count", g.c2, dims)
			count("HTTPCode_Target_3XX_Count", g.c3, dims)
			count("HTTPCode_Target_4XX_Count", g.c4, dims)
			count("HTTPCode_Target_5XX_Count", g.c5, dims)
			count("TargetConnectionErrorCount", g.connErrors, dims)
			if g.answered > 0 {
				at("TargetResponseTime", g.responseTime.Seconds()/float64(g.answered), "Seconds", dims)
			}
			at("HealthyHostCount", float64(healthy), "Count", dims)
			at("UnHealthyHostCount", float64(len(g.health)-healthy), "Count", dims)
			if g.requests > 0 {
				at("RequestCountPerTarget", float64(g.requests)/float64(max(healthy, 1)), "Count", dims)
			}
			tot := perTG[arn]
			if tot == nil {
				tot = &tgTotal{account: lb.Account, region: lb.Region}
				perTG[arn] = tot
			}
			tot.requests += g.requests
			tot.healthy = max(tot.healthy, healthy)
		}
	}
	for arn, tot := range perTG {
		if tot.requests > 0 {
			m.add(tot.account, tot.region, "AWS/ApplicationELB", metric.Datum{Name: "RequestCountPerTarget", Value: float64(tot.requests) / float64(max(tot.healthy, 1)),
				Unit: "Count", Time: vnow, Dimensions: map[string]string{"TargetGroup": tgDimension(arn)}})
		}
	}
}

// lbDimension and tgDimension are the parts of a load balancer's and a
// target group's ARN CloudWatch names them by: app/<name>/<id> and
// targetgroup/<name>/<id>.
func lbDimension(arn string) string {
	_, v, _ := strings.Cut(arn, ":loadbalancer/")
	return v
}

func tgDimension(arn string) string {
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
