package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// clkTck is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux architecture Go supports).
const clkTck = 100

// capacityRun is what one daemon at one time scale measured.
type capacityRun struct {
	scale       float64
	groups      int
	instances   int           // running and InService at the end of the bring-up
	toRunning   time.Duration // from the first CreateAutoScalingGroup to all running
	toInService time.Duration // ... to all InService
	rssBefore   int64         // daemon VmRSS with no instance, bytes
	rssAfter    int64         // ... with every instance
	pss         int64         // sum of the instances' PSS, bytes
	usage       int64         // sum of the instances' memory cgroup usage, bytes
	idleCPU     float64       // daemon CPU with no instance, % of one core
	cpu         float64       // daemon CPU in steady state with every instance
	instCPU     float64       // the instances' CPU (their cgroups), -1 if unknown
}

func benchAutoScalingCapacity(ctx context.Context, r *runner) (section, error) {
	const title = "Auto Scaling: instances on one machine"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	groups, per, window, idleWindow := 10, 50, 60*time.Second, 20*time.Second
	scales := []float64{1, 60}
	if dpQuick() {
		groups, window, idleWindow, scales = 2, 20*time.Second, 10*time.Second, []float64{1}
	}
	s := section{
		title: title,
		method: fmt.Sprintf("For each time scale, a fresh `cloudbox up --dataplane on --ephemeral --time-scale N` is left idle for %s "+
			"(daemon CPU with no instance), then %d Auto Scaling groups of %d instances each (min = max = desired, t2.micro, launch "+
			"template without user data: each instance is cloudbox's init alone, no ALB, EC2 health checks) are created one after the "+
			"other over the default VPC's default subnets. Bring-up is timed from the first CreateAutoScalingGroup until "+
			"DescribeInstances (polled every 500 ms) shows all %d running and DescribeAutoScalingGroups all InService. After 5 s of "+
			"settling, memory is read (each instance's memory cgroup and the PSS of its processes; the daemon's VmRSS before the groups "+
			"and now), then the daemon's CPU (utime + stime from /proc/PID/stat, all its threads) over %s of wall time in steady state, "+
			"and the instances' CPU over the same window from their cgroups' cpuacct.usage. At time scale 60 the metric publisher "+
			"(CPUUtilization of every instance and group), CloudWatch and the group reconciler run 60 times as often (the reconciler "+
			"every 50 ms of wall time, its floor). `cloudbox down` removes everything after each scale. MB are 10^6 bytes.",
			idleWindow, groups, per, groups*per, window),
		table: table{header: []string{"Time scale", "Groups", "Instances", "Bring-up to all running", "to all InService",
			"Instances' PSS (total / per instance)", "Instances' cgroup usage (per instance)", "Daemon RSS (idle → loaded, per instance)",
			"Daemon CPU idle", "Daemon CPU loaded", "Instances' CPU"}},
	}
	var runs []capacityRun
	for _, scale := range scales {
		r.logf("  time scale %g: %d groups × %d", scale, groups, per)
		run, err := capacity(ctx, r, scale, groups, per, window, idleWindow)
		if err != nil {
			return s, err
		}
		runs = append(runs, run)
	}
	for _, run := range runs {
		n := int64(run.instances)
		instCPU := "unknown"
		if run.instCPU >= 0 {
			instCPU = pct(run.instCPU)
		}
		s.table.rows = append(s.table.rows, []string{
			strconv.FormatFloat(run.scale, 'g', -1, 64), strconv.Itoa(run.groups), strconv.Itoa(run.instances),
			secs(run.toRunning), secs(run.toInService),
			fmt.Sprintf("%s / %s", mb(run.pss), mb(run.pss/n)), mb(run.usage / n),
			fmt.Sprintf("%s → %s (%s)", mb(run.rssBefore), mb(run.rssAfter), kb((run.rssAfter-run.rssBefore)/n)),
			pct(run.idleCPU), pct(run.cpu), instCPU,
		})
	}
	first := runs[0]
	n := int64(first.instances)
	s.notes = append(s.notes,
		fmt.Sprintf("Memory per idle instance at %d instances: **%s** (its processes' PSS %s + the daemon's growth %s); "+
			"%d instances take %s of the machine's %s in all.",
			first.instances, mb(first.pss/n+(first.rssAfter-first.rssBefore)/n), mb(first.pss/n), kb((first.rssAfter-first.rssBefore)/n),
			first.instances, mb(first.pss+first.rssAfter), memTotal()))
	for _, run := range runs {
		s.notes = append(s.notes, fmt.Sprintf("Control loops at time scale %g with %d instances in %d groups: the daemon uses **%s of one core** "+
			"(%s with no instance), i.e. %s per instance.", run.scale, run.instances, run.groups, pct(run.cpu), pct(run.idleCPU),
			fmt.Sprintf("%.3f%%", (run.cpu-run.idleCPU)/float64(run.instances))))
	}
	s.notes = append(s.notes, "CPU figures and bring-up times carry the noise of anything else on the machine's 2 cores; "+
		"the bench makes no call to the daemon during the CPU window.")
	return s, nil
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v) }

// capacity runs one daemon at scale with groups × per instances.
func capacity(ctx context.Context, r *runner, scale float64, groups, per int, window, idleWindow time.Duration) (run capacityRun, err error) {
	run = capacityRun{scale: scale, groups: groups, instCPU: -1}
	c, err := startAutoScaling(ctx, r, scale)
	if err != nil {
		return run, err
	}
	defer func() { err = errors.Join(err, c.close()) }()

	if run.idleCPU, err = daemonCPU(ctx, c.p.pid, idleWindow); err != nil {
		return run, err
	}
	if run.rssBefore, err = c.daemonRSS(); err != nil {
		return run, err
	}
	if _, err := c.ec2.api.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("idle"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(c.ami), InstanceType: types.InstanceTypeT2Micro},
	}); err != nil {
		return run, err
	}
	var names []string
	t0 := time.Now()
	for i := range groups {
		name := fmt.Sprintf("idle-%02d", i)
		names = append(names, name)
		if _, err := c.as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name),
			LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("idle"), Version: aws.String("$Latest")},
			MinSize:              aws.Int32(int32(per)), MaxSize: aws.Int32(int32(per)), DesiredCapacity: aws.Int32(int32(per)),
			VPCZoneIdentifier: aws.String(strings.Join(c.subnets, ",")),
		}); err != nil {
			return run, err
		}
	}
	want := groups * per
	var ids []string
	var inSvc int
	err = pollEvery(ctx, 500*time.Millisecond, 10*time.Minute, func() (bool, error) {
		if ids, err = c.running(ctx); err != nil {
			return false, err
		}
		if len(ids) >= want && run.toRunning == 0 {
			run.toRunning = time.Since(t0)
		}
		out, err := c.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names})
		if err != nil {
			return false, err
		}
		inSvc = 0
		for _, g := range out.AutoScalingGroups {
			inSvc += len(inService(g))
		}
		if inSvc >= want && run.toInService == 0 {
			run.toInService = time.Since(t0)
		}
		return run.toRunning > 0 && run.toInService > 0, nil
	})
	if err != nil {
		return run, fmt.Errorf("bringing up %d instances: %w (%d running, %d in service after %s)", want, err, len(ids), inSvc, time.Since(t0).Round(time.Second))
	}
	r.logf("  %d running after %s, InService after %s", len(ids), run.toRunning, run.toInService)
	run.instances = len(ids)
	select {
	case <-ctx.Done():
		return run, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	for _, id := range ids {
		m, err := readInstanceMemory(c.daemonID, id)
		if err != nil {
			return run, err
		}
		run.pss += m.pss
		run.usage += m.usage
	}
	if run.rssAfter, err = c.daemonRSS(); err != nil {
		return run, err
	}
	acct := filepath.Join("/sys/fs/cgroup/cpuacct/cloudbox", c.daemonID, "cpuacct.usage")
	instBefore, instErr := readInt(acct)
	wall := time.Now()
	if run.cpu, err = daemonCPU(ctx, c.p.pid, window); err != nil {
		return run, err
	}
	if instAfter, err := readInt(acct); err == nil && instErr == nil {
		run.instCPU = 100 * float64(instAfter-instBefore) / float64(time.Since(wall))
	}
	if ids, err = c.running(ctx); err != nil || len(ids) != run.instances {
		return run, fmt.Errorf("after the CPU window %d instances are running, want %d (%v)", len(ids), run.instances, err)
	}
	return run, nil
}

// running are the IDs of every running instance.
func (c *asCloud) running(ctx context.Context) ([]string, error) {
	var ids []string
	p := ec2.NewDescribeInstancesPaginator(c.ec2.api, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, res := range out.Reservations {
			for _, in := range res.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	return ids, nil
}

// daemonCPU is the CPU the process used over window, in % of one core.
func daemonCPU(ctx context.Context, pid int, window time.Duration) (float64, error) {
	before, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	after, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	return 100 * float64(after-before) / float64(time.Since(t0)), nil
}

// procCPU is utime + stime of a process (all its threads).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it do not.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, b)
	}
	// rest starts at field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clkTck, nil
}
