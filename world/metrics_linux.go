//go:build linux

package world

import "time"

// metricPeriod is how often the built-in metrics are published, in
// virtual time: EC2's detailed monitoring period.
const metricPeriod = time.Minute

// cpuSample is an instance's CPU time when it was last read.
type cpuSample struct {
	cpu  time.Duration
	wall time.Time
}

// publishMetrics runs until Close, publishing every metric period.
func (w *World) publishMetrics() {
	defer close(w.metricsDone)
	t := time.NewTicker(w.wall(metricPeriod))
	defer t.Stop()
	last := map[string]cpuSample{}
	for {
		select {
		case <-w.closed:
			return
		case <-t.C:
			w.publishCPU(last)
		}
	}
}

// wall turns a virtual duration into wall time at the time scale.
func (w *World) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / w.scale())
}

func (w *World) scale() float64 {
	if w.cfg.TimeScale > 0 {
		return w.cfg.TimeScale
	}
	return 1
}

func (w *World) now() time.Time {
	if w.cfg.Now != nil {
		return w.cfg.Now()
	}
	return time.Now()
}

// publishCPU publishes AWS/EC2 CPUUtilization of every running instance,
// the share of its vCPUs its cgroup used since the last sample, per
// instance and, for instances of an Auto Scaling group, per group (whose
// Average is the group's average, what target tracking follows).
func (w *World) publishCPU(last map[string]cpuSample) {
	snap := w.current()
	now, vnow := time.Now(), w.now()
	type key struct{ account, region string }
	batches := map[key][]Datum{}
	seen := map[string]bool{}
	for _, in := range snap.Instances {
		if in.State != "running" {
			continue
		}
		st, err := w.run.Stats(in.ID)
		if err != nil {
			continue
		}
		seen[in.ID] = true
		prev, ok := last[in.ID]
		last[in.ID] = cpuSample{cpu: st.CPUTime, wall: now}
		if !ok || !now.After(prev.wall) {
			continue
		}
		pct := 100 * float64(st.CPUTime-prev.cpu) / (float64(now.Sub(prev.wall)) * float64(max(in.VCPUs, 1)))
		pct = min(max(pct, 0), 100)
		k := key{in.Account, in.Region}
		batches[k] = append(batches[k], cpuDatum(pct, vnow, map[string]string{"InstanceId": in.ID}))
		if in.AutoScalingGroup != "" {
			batches[k] = append(batches[k], cpuDatum(pct, vnow, map[string]string{"AutoScalingGroupName": in.AutoScalingGroup}))
		}
	}
	for id := range last {
		if !seen[id] {
			delete(last, id)
		}
	}
	for k, data := range batches {
		if err := w.cfg.Metrics.Publish(k.account, k.region, "AWS/EC2", data); err != nil {
			w.cfg.Log.Warn("world: publishing metrics", "account", k.account, "region", k.region, "error", err)
		}
	}
}

func cpuDatum(pct float64, t time.Time, dims map[string]string) Datum {
	return Datum{Name: "CPUUtilization", Dimensions: dims, Value: pct, Unit: "Percent", Time: t}
}
