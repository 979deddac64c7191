package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 10; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 5 * time.Millisecond}, // nearest rank: the lower middle of an even count
		{90, 9 * time.Millisecond},
		{99, 10 * time.Millisecond},
		{100, 10 * time.Millisecond},
		{1, 1 * time.Millisecond},
		{0, 1 * time.Millisecond},
	} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("percentile(1..10 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("percentile of one = %v, want 7", got)
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		123456 * time.Microsecond: "123 ms",
		12345 * time.Microsecond:  "12.3 ms",
		1234 * time.Microsecond:   "1.23 ms",
		123 * time.Microsecond:    "0.123 ms",
	} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
	if got := times(37.24); got != "37.2x" {
		t.Errorf("times(37.24) = %q", got)
	}
	if got := times(0.5); got != "0.50x" {
		t.Errorf("times(0.5) = %q", got)
	}
	if got := mb(12_345_678); got != "12.3 MB" {
		t.Errorf("mb = %q", got)
	}
}

func TestRender(t *testing.T) {
	rep := report{
		command: "go run ./bench",
		machine: machine{date: "2026-01-02 03:04 UTC", cpu: "Test CPU", nproc: 2, memory: "1.0 GiB",
			kernel: "Linux 6", goVersion: "go1.26", cloudbox: "0.1.0", moto: "5.2.1"},
		sections: []section{{
			title:  "Thing",
			method: "How it was measured.",
			table:  table{header: []string{"Server", "Value"}, rows: [][]string{{"a|b", "1 ms"}}},
			notes:  []string{"cloudbox is 2.00x moto's."},
			goals: []goal{
				{name: "Fast", target: "< 100 ms", result: "1 ms", met: true},
				{name: "Small", target: "< 40 MB", result: "50 MB", met: false},
			},
		}},
	}
	got := rep.render()
	for _, want := range []string{
		"# Benchmarks: cloudbox vs moto\n",
		"Generated on 2026-01-02 03:04 UTC by `go run ./bench`",
		"| CPU | Test CPU, 2 cores (nproc) |",
		"share these 2 cores",
		"## Goals (from the issue)\n\n| Goal | Target | Result | Met |\n| --- | --- | --- | --- |\n",
		"| Fast | < 100 ms | 1 ms | ✅ met |",
		"| Small | < 40 MB | 50 MB | ❌ not met |",
		"## Thing\n\nHow it was measured.\n\n| Server | Value |\n| --- | --- |\n| a\\|b | 1 ms |\n",
		"- cloudbox is 2.00x moto's.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}
}

func TestOnly(t *testing.T) {
	if b, err := only(""); err != nil || len(b) != len(benches) {
		t.Errorf("only(\"\") = %d benches, %v", len(b), err)
	}
	if b, err := only("sts,start"); err != nil || len(b) != 2 || b[0].name != "sts" {
		t.Errorf("only(sts,start) = %v, %v", b, err)
	}
	if b, err := only("ec2"); err != nil || len(b) != 4 || b[0].name != "ec2-run" || b[2].name != "ec2-sg" {
		t.Errorf("only(ec2) = %v, %v", b, err)
	}
	if b, err := only("ec2-sg,sts"); err != nil || len(b) != 2 || b[0].name != "ec2-sg" {
		t.Errorf("only(ec2-sg,sts) = %v, %v", b, err)
	}
	for _, bad := range []string{"nope", "ec", "ec2-"} {
		if _, err := only(bad); err == nil {
			t.Errorf("only(%s) did not fail", bad)
		}
	}
}

func TestEC2Helpers(t *testing.T) {
	for n, want := range map[int]string{0: "0", 100: "100", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := joinInts([]int{100, 500, 1000}); got != "100, 500 and 1,000" {
		t.Errorf("joinInts = %q", got)
	}
	if got := faster(15.3); got != "15.3x faster" {
		t.Errorf("faster(15.3) = %q", got)
	}
	if got := faster(0.5); got != "2.00x slower" {
		t.Errorf("faster(0.5) = %q", got)
	}
	var s samples
	for _, d := range []time.Duration{3, 1, 2} {
		s.add(d*time.Millisecond, d*time.Microsecond, int64(d))
	}
	if s.p(50) != 2*time.Millisecond || s.min() != time.Millisecond || s.max() != 3*time.Millisecond ||
		s.wp(50) != 2*time.Microsecond || s.total() != 6*time.Millisecond || s.bytes != 2 {
		t.Errorf("samples: p50 %v min %v max %v wp50 %v total %v bytes %d", s.p(50), s.min(), s.max(), s.wp(50), s.total(), s.bytes)
	}
	if s.sdk[0] != 3*time.Millisecond {
		t.Error("percentiles sorted the samples in place")
	}
}

func TestErrCell(t *testing.T) {
	err := &smithy.OperationError{ServiceID: "EC2", OperationName: "RunInstances",
		Err: &smithy.GenericAPIError{Code: "NotImplemented", Message: "RunInstances is not implemented"}}
	if got, want := errCell(err), "error: RunInstances: NotImplemented: RunInstances is not implemented"; got != want {
		t.Errorf("errCell = %q, want %q", got, want)
	}
	long := errCell(errors.New(strings.Repeat("x", 300) + "\nmore"))
	if !strings.HasPrefix(long, "error: xxx") || len([]rune(long)) != len("error: ")+141 {
		t.Errorf("errCell(long) = %q (%d runes)", long, len([]rune(long)))
	}
}
