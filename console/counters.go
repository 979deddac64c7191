package console

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// counterWindow is how far back the counters look for a datapoint: the
// built-in metrics come once a (virtual) minute, and AWS publishes no
// RequestCount for a minute without requests.
const counterWindow = 5 * time.Minute

// Counters is what GET /_cloudbox/console/api/counters answers: the
// latest datapoint CloudWatch holds of each instance's CPUUtilization
// (Average) and each load balancer's RequestCount (Sum per minute, shown
// per second), with instances' states for a page that polls.
type Counters struct {
	// Time is the daemon's clock (virtual under --time-scale).
	Time          time.Time                `json:"time"`
	Instances     map[string]InstanceCount `json:"instances"`
	LoadBalancers map[string]LBCount       `json:"loadBalancers"`
}

// InstanceCount is one instance's live figures. CPU is nil when
// CloudWatch has no datapoint in the window.
type InstanceCount struct {
	State string     `json:"state"`
	CPU   *float64   `json:"cpu"`
	At    *time.Time `json:"at,omitempty"`
}

// LBCount is one load balancer's requests per second over the latest
// minute with requests; RequestsPerSecond is nil when there was none in
// the window.
type LBCount struct {
	RequestsPerSecond *float64   `json:"requestsPerSecond"`
	At                *time.Time `json:"at,omitempty"`
}

func (c *Console) counters(w http.ResponseWriter, r *http.Request) {
	account, region, known, ok := c.scopeOf(w, r)
	if !ok {
		return
	}
	if !known {
		writeJSON(w, &Counters{Time: c.cfg.Now(), Instances: map[string]InstanceCount{}, LoadBalancers: map[string]LBCount{}})
		return
	}
	out, err := c.readCounters(r.Context(), account, region)
	if err != nil {
		failAPI(w, err)
		return
	}
	writeJSON(w, out)
}

func (c *Console) readCounters(ctx context.Context, account, region string) (*Counters, error) {
	now := c.cfg.Now()
	out := &Counters{Time: now, Instances: map[string]InstanceCount{}, LoadBalancers: map[string]LBCount{}}
	reservations, err := c.call(ctx, account, region, "ec2", "DescribeInstances", nil)
	if err != nil {
		return nil, err
	}
	for _, res := range list(reservations, "Reservations") {
		for _, in := range list(res, "Instances") {
			id := str(in, "InstanceId")
			ic := InstanceCount{State: str(in, "State", "Name")}
			if v, at, err := c.latest(ctx, account, region, "AWS/EC2", "CPUUtilization", "InstanceId", id, "Average", now); err != nil {
				return nil, err
			} else if at != nil {
				ic.CPU, ic.At = &v, at
			}
			out.Instances[id] = ic
		}
	}
	lbs, err := c.call(ctx, account, region, "elbv2", "DescribeLoadBalancers", nil)
	if err != nil {
		return nil, err
	}
	for _, l := range list(lbs, "LoadBalancers") {
		arn := str(l, "LoadBalancerArn")
		// The LoadBalancer dimension is the ARN's tail: app/<name>/<id>.
		_, dim, _ := strings.Cut(arn, ":loadbalancer/")
		var lc LBCount
		if v, at, err := c.latest(ctx, account, region, "AWS/ApplicationELB", "RequestCount", "LoadBalancer", dim, "Sum", now); err != nil {
			return nil, err
		} else if at != nil {
			rps := v / 60
			lc.RequestsPerSecond, lc.At = &rps, at
		}
		out.LoadBalancers[arn] = lc
	}
	return out, nil
}

// latest is a metric's latest one-minute statistic in the window, through
// CloudWatch's GetMetricStatistics; at is nil when there is none.
func (c *Console) latest(ctx context.Context, account, region, namespace, name, dimName, dimValue, stat string, now time.Time) (float64, *time.Time, error) {
	got, err := c.call(ctx, account, region, "cloudwatch", "GetMetricStatistics", map[string]any{
		"Namespace": namespace, "MetricName": name,
		"Dimensions": []map[string]string{{"Name": dimName, "Value": dimValue}},
		"StartTime":  now.Add(-counterWindow), "EndTime": now, "Period": 60, "Statistics": []string{stat},
	})
	if err != nil {
		return 0, nil, err
	}
	var best *time.Time
	var value float64
	for _, p := range list(got, "Datapoints") {
		at, err := time.Parse(time.RFC3339, str(p, "Timestamp"))
		if err != nil {
			continue
		}
		if best == nil || at.After(*best) {
			v, _ := p[stat].(float64)
			best, value = &at, v
		}
	}
	return value, best, nil
}
