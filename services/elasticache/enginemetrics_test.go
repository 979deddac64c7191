package elasticache

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/metric"
)

// A replica's INFO as redis-server 7 prints it (CRLF line ends).
const replicaInfo = "# Server\r\nredis_version:7.0.15\r\n\r\n# Clients\r\nconnected_clients:3\r\n\r\n" +
	"# Memory\r\nused_memory:1048576\r\nmaxmemory:4194304\r\n\r\n# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:4\r\nevicted_keys:0\r\n\r\n" +
	"# Replication\r\nrole:slave\r\nmaster_host:10.0.11.4\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:7\r\nslave_repl_offset:1234\r\n\r\n" +
	"# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.500000\r\n"

func values(data []metric.Datum) map[string]float64 {
	m := map[string]float64{}
	for _, d := range data {
		m[d.Name] = d.Value
	}
	return m
}

func TestRedisInfoMetrics(t *testing.T) {
	info := parseRedisInfo(replicaInfo)
	if info["role"] != "slave" || info["slave_repl_offset"] != "1234" || info["redis_version"] != "7.0.15" {
		t.Fatalf("parsed: %v", info)
	}
	// The first round: gauges only, the lag from the primary.
	data, sample := redisData(info, engineSample{}, true, 2)
	got := values(data)
	want := map[string]float64{"CurrConnections": 2, "DatabaseMemoryUsagePercentage": 25, "ReplicationLag": 2}
	if len(got) != len(want) {
		t.Fatalf("first round: %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("first round %s = %v, want %v (%v)", k, got[k], v, got)
		}
	}
	// A round later, with a second of wall time: the counters' changes
	// and the engine's CPU over that second.
	later := strings.NewReplacer("keyspace_hits:10", "keyspace_hits:25", "evicted_keys:0", "evicted_keys:3",
		"used_cpu_user:0.500000", "used_cpu_user:0.750000").Replace(replicaInfo)
	sample.at = time.Now().Add(-time.Second)
	data, _ = redisData(parseRedisInfo(later), sample, true, -1)
	got = values(data)
	if got["CacheHits"] != 15 || got["CacheMisses"] != 0 || got["Evictions"] != 3 || got["ReplicationLag"] != 7 {
		t.Fatalf("second round: %v", got)
	}
	if cpu := got["EngineCPUUtilization"]; cpu < 20 || cpu > 25.1 {
		t.Fatalf("EngineCPUUtilization = %v, want about 25", cpu)
	}
	// A restarted engine's counters start again: the whole value.
	data, _ = redisData(parseRedisInfo(strings.Replace(replicaInfo, "keyspace_hits:10", "keyspace_hits:2", 1)),
		engineSample{at: time.Now().Add(-time.Second), counters: map[string]float64{"CacheHits": 10}}, false, -1)
	if got := values(data); got["CacheHits"] != 2 || len(got) != 3 {
		t.Fatalf("restarted: %v", got)
	}
	// A link down: how long it has been down; no lag known: none.
	down := parseRedisInfo("master_link_status:down\nmaster_link_down_since_seconds:42\n")
	if lag, ok := replicationLag(down, 0); !ok || lag != 42 {
		t.Fatalf("link down: %v %v", lag, ok)
	}
	if _, ok := replicationLag(map[string]string{}, -1); ok {
		t.Fatal("a lag with nothing known")
	}
	// No maxmemory: no memory percentage.
	if got := values(must2(redisData(parseRedisInfo("used_memory:5\r\nmaxmemory:0\r\n"), engineSample{}, false, -1))); len(got) != 0 {
		t.Fatalf("no maxmemory: %v", got)
	}
}

func must2(data []metric.Datum, _ engineSample) []metric.Datum { return data }

func TestReplicaLags(t *testing.T) {
	info := parseRedisInfo("role:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.11.5,port=6379,state=online,offset=42,lag=0\r\n" +
		"slave1:ip=10.0.12.7,port=6379,state=online,offset=40,lag=3\r\nslave_read_only:1\r\nslaves:x\r\n")
	lags := replicaLags(info)
	if len(lags) != 2 || lags["10.0.11.5"] != 0 || lags["10.0.12.7"] != 3 {
		t.Fatalf("lags: %v", lags)
	}
}

func TestMemcachedStatsMetrics(t *testing.T) {
	out := "STAT pid 12\r\nSTAT curr_connections 3\r\nSTAT get_hits 7\r\nSTAT get_misses 2\r\nSTAT evictions 0\r\nEND\r\n"
	stats := parseMemcachedStats(out)
	data, sample := memcachedData(stats, engineSample{})
	if got := values(data); len(got) != 1 || got["CurrConnections"] != 2 {
		t.Fatalf("first round: %v", got)
	}
	out = strings.Replace(out, "get_hits 7", "get_hits 9", 1)
	data, _ = memcachedData(parseMemcachedStats(out), sample)
	if got := values(data); got["GetHits"] != 2 || got["GetMisses"] != 0 || got["Evictions"] != 0 || len(got) != 4 {
		t.Fatalf("second round: %v", got)
	}
}

// FuzzEngineOutput feeds the parsers of the nodes' INFO and stats
// arbitrary output: none may panic or publish a negative or non-finite
// value.
func FuzzEngineOutput(f *testing.F) {
	f.Add(replicaInfo)
	f.Add("slave0:ip=1,lag=NaN\nused_cpu_sys:Inf\nmaster_link_status:down\nmaster_link_down_since_seconds:-1")
	f.Add("STAT curr_connections 0\nSTAT get_hits 1e400\n")
	f.Fuzz(func(t *testing.T, s string) {
		prev := engineSample{at: time.Now().Add(-time.Second), counters: map[string]float64{"cpu": 1, "CacheHits": 5, "GetHits": 5}}
		check := func(data []metric.Datum) {
			for _, d := range data {
				if !(d.Value >= 0) || d.Value > 1e308 {
					t.Fatalf("%s = %v from %q", d.Name, d.Value, s)
				}
			}
		}
		info := parseRedisInfo(s)
		for _, lag := range replicaLags(info) {
			if !(lag >= 0) || lag > 1e308 {
				t.Fatalf("lag %v from %q", lag, s)
			}
		}
		data, _ := redisData(info, prev, true, -1)
		check(data)
		data, _ = memcachedData(parseMemcachedStats(s), prev)
		check(data)
	})
}
