package elasticache_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/metric"
)

// infoNodes is a SlotExec standing in for the nodes' engines: INFO
// answers as the slot's role (the first cache cluster the primary),
// stats as memcached; the hits grow by 5 each time asked.
type infoNodes struct {
	mu    sync.Mutex
	asked map[string]int
}

func (r *infoNodes) ExecSlot(_ context.Context, slot string, argv []string, _ io.Reader, stdout io.Writer) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked[slot]++
	hits := strconv.Itoa(5 * r.asked[slot])
	cmd := strings.Join(argv, " ")
	switch {
	case strings.Contains(cmd, "/dev/tcp/127.0.0.1/11211"):
		io.WriteString(stdout, "STAT curr_connections 4\r\nSTAT get_hits "+hits+"\r\nSTAT get_misses 1\r\nSTAT evictions 0\r\nEND\r\n")
	case !strings.Contains(cmd, "redis-cli -s /var/lib/redis/redis-server.sock info") || !strings.Contains(cmd, "/etc/redis/elasticache.env"):
		return 1, nil
	case strings.HasSuffix(slot, "-001"):
		io.WriteString(stdout, "# Clients\r\nconnected_clients:6\r\n# Stats\r\nkeyspace_hits:"+hits+"\r\nkeyspace_misses:0\r\nevicted_keys:0\r\n# Replication\r\nrole:master\r\n")
	default:
		io.WriteString(stdout, "connected_clients:1\r\nrole:slave\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:3\r\n")
	}
	return 0, nil
}

// published is a metric.Publisher keeping what it is given.
type published struct {
	mu   sync.Mutex
	data []metric.Datum
}

func (p *published) Publish(_, _, namespace string, data []metric.Datum) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if namespace == "AWS/ElastiCache" {
		p.data = append(p.data, data...)
	}
	return nil
}

// find is the last datum of a metric for a cache cluster's node.
func (p *published) find(name, cluster, node string) (metric.Datum, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.data) - 1; i >= 0; i-- {
		d := p.data[i]
		if d.Name == name && d.Dimensions["CacheClusterId"] == cluster && d.Dimensions["CacheNodeId"] == node {
			return d, true
		}
	}
	return metric.Datum{}, false
}

// TestEngineMetrics publishes the engines' figures per cache node, as
// AWS/ElastiCache does: a Redis group's primary and replica and a
// Memcached cluster's nodes.
func TestEngineMetrics(t *testing.T) {
	e := newEnv(t)
	nodes := &infoNodes{asked: map[string]int{}}
	e.svc.UseSlotExec(nodes)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-replication-group", "--replication-group-id", "pair", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets")
	e.must(t, "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached", "--cache-node-type", "cache.t3.micro",
		"--num-cache-nodes", "2", "--cache-subnet-group-name", "subnets")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")
	e.must(t, "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")

	pub := &published{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunEngineMetrics(ctx, pub, 50*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the counters' changes", 10*time.Second, func() bool {
		_, ok := pub.find("GetHits", "mc01", "0002")
		_, ok2 := pub.find("CacheHits", "pair-001", "0001")
		return ok && ok2
	})
	for _, c := range []struct {
		name, cluster, node string
		value               float64
	}{
		{"CurrConnections", "pair-001", "0001", 5},
		{"CurrConnections", "pair-002", "0001", 0},
		{"CacheHits", "pair-001", "0001", 5},
		{"CacheMisses", "pair-001", "0001", 0},
		{"ReplicationLag", "pair-002", "0001", 3},
		{"CurrConnections", "mc01", "0001", 3},
		{"GetHits", "mc01", "0002", 5},
		{"GetMisses", "mc01", "0001", 0},
	} {
		d, ok := pub.find(c.name, c.cluster, c.node)
		if !ok || d.Value != c.value || d.Time.IsZero() {
			t.Errorf("%s of %s %s: %+v %v, want %v", c.name, c.cluster, c.node, d, ok, c.value)
		}
	}
	if d, ok := pub.find("ReplicationLag", "pair-001", "0001"); ok {
		t.Errorf("a primary's ReplicationLag: %+v", d)
	}
}
