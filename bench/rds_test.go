package main

import (
	"os"
	"testing"
	"time"
)

func TestParseAcksAndLongestGap(t *testing.T) {
	log := "1 1700000000.000000000\n2 1700000000.030000000\n3 1700000001.530000000\n4 1700000001.560000000\n5 17000"
	acks := parseAcks(log)
	if len(acks) != 4 || acks[0].id != 1 || acks[3].id != 4 {
		t.Fatalf("parsed %+v", acks)
	}
	if got := longestGap(acks); got < 1499*time.Millisecond || got > 1501*time.Millisecond {
		t.Errorf("longest gap %v, want 1.5 s", got)
	}
	if got := longestGap(parseAcks("")); got != 0 {
		t.Errorf("gap of no rows: %v", got)
	}
}

func TestSlapSeconds(t *testing.T) {
	out := `Benchmark
	Average number of seconds to run all queries: 6.412 seconds
	Minimum number of seconds to run all queries: 6.412 seconds
	Maximum number of seconds to run all queries: 6.412 seconds
	Number of clients running queries: 8
	Average number of queries per client: 2500
`
	m := slapSeconds.FindStringSubmatch(out)
	if m == nil || m[1] != "6.412" {
		t.Fatalf("matched %q", m)
	}
}

func TestCgroupOfAProcessOutsideCloudbox(t *testing.T) {
	// The test's own process is in no cloudbox/<daemon>/<slot> cgroup.
	if id, err := cgroupOf(os.Getpid()); err == nil {
		t.Skipf("this test runs inside cloudbox's cgroup %s", id)
	}
}
