package main

import (
	"os"
	"testing"
	"time"
)

func TestProcCPUGrowsWithWork(t *testing.T) {
	before, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn at least 50 ms of CPU; utime counts in 10 ms ticks.
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
	}
	after, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 20*time.Millisecond || d > 10*time.Second {
		t.Errorf("utime+stime grew by %v over a 100 ms busy loop", d)
	}
}

func TestProcCPUOfMissingProcess(t *testing.T) {
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU(-1) succeeded")
	}
}

func TestAWSTime(t *testing.T) {
	for _, c := range []struct {
		wall time.Duration
		want string
	}{
		{50 * time.Millisecond, "3.0 s"},
		{1500 * time.Millisecond, "90.0 s"},
		{6 * time.Second, "360 s"},
	} {
		if got := awsTime(c.wall); got != c.want {
			t.Errorf("awsTime(%v) = %q, want %q", c.wall, got, c.want)
		}
	}
}

func TestOnlyAutoScalingGroup(t *testing.T) {
	got, err := only("autoscaling")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "autoscaling-scaleout" || got[1].name != "autoscaling-capacity" {
		t.Errorf("only(autoscaling) = %v", got)
	}
}
