package elasticache

import (
	"bytes"
	"context"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// The metrics only the engine knows, as AWS/ElastiCache publishes them
// per cache node (CacheClusterId, CacheNodeId): each virtual minute every
// available node is asked through the slots' exec, Redis for its INFO
// (over its own socket, so TLS is not involved; AUTH from the node's env
// file), Memcached for its stats. Counters (hits, misses, evictions, the
// engine's CPU seconds) are published as the change since the previous
// round, so a node's first round publishes only its gauges. The host's
// CPU, memory and network come from the metric publisher
// (desired.Slot.Metrics, nodes.go).

// authEnv exports a node's AUTH token for redis-cli (REDISCLI_AUTH),
// when the group has one.
const authEnv = `[ -r /etc/redis/elasticache.env ] && export "$(cat /etc/redis/elasticache.env)"`

// redisInfoArgv asks a Redis node for its INFO (sections, e.g.
// "replication"; none for the default ones).
func redisInfoArgv(section string) []string {
	return []string{"bash", "-c", authEnv + "\nexec redis-cli -s /var/lib/redis/redis-server.sock info " + section}
}

// memcachedStatsArgv asks a Memcached node's server (on the node's
// loopback, behind the front) for its stats.
var memcachedStatsArgv = []string{"bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/11211 && printf 'stats\r\nquit\r\n' >&3 && cat <&3`}

// engineTimeout bounds one node's answer.
const engineTimeout = 10 * time.Second

// RunEngineMetrics publishes the engines' metrics through pub every
// period of wall time until ctx ends.
func (s *Service) RunEngineMetrics(ctx context.Context, pub metric.Publisher, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	prev := map[string]engineSample{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			prev = s.publishEngineMetrics(ctx, pub, prev)
		}
	}
}

// engineNode is a node whose engine is asked.
type engineNode struct {
	sc            scope
	slot          string
	cluster, node string
	memcached     bool
	// group and ip find a replica in its primary's INFO; replica says
	// it is one.
	group, ip string
	replica   bool
}

// engineSample is a node's counters at a (wall) time.
type engineSample struct {
	at       time.Time
	counters map[string]float64
}

// redisCounters are the INFO fields published as their change, by
// metric; "cpu" is used_cpu_sys plus used_cpu_user.
var redisCounters = map[string]string{"CacheHits": "keyspace_hits", "CacheMisses": "keyspace_misses", "Evictions": "evicted_keys"}

// memcachedCounters are the stats published as their change, by metric.
var memcachedCounters = map[string]string{"GetHits": "get_hits", "GetMisses": "get_misses", "Evictions": "evictions"}

func (s *Service) engineNodes() ([]engineNode, error) {
	var nodes []engineNode
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := scopesWithNodes(tx)
		if err != nil {
			return err
		}
		for _, p := range scopes {
			sc := scope{account: p[0], region: p[1]}
			rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
			if err != nil {
				return err
			}
			for _, rg := range rgs {
				for _, n := range rg.Nodes {
					if n.Status == "available" {
						nodes = append(nodes, engineNode{sc: sc, slot: sc.slotID(n.Cluster, n.Gen), cluster: n.Cluster, node: "0001",
							group: rg.ID, ip: n.IP, replica: n.Role == "replica"})
					}
				}
			}
			cs, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
			if err != nil {
				return err
			}
			for _, c := range cs {
				for _, n := range c.Nodes {
					if n.Status == "available" {
						nodes = append(nodes, engineNode{sc: sc, slot: sc.memcachedSlot(c.ID, n.ID), cluster: c.ID, node: n.ID, memcached: true})
					}
				}
			}
		}
		return nil
	})
	return nodes, err
}

// publishEngineMetrics asks every available node and publishes what it
// answers; it returns the counters the next round publishes changes
// from.
func (s *Service) publishEngineMetrics(ctx context.Context, pub metric.Publisher, prev map[string]engineSample) map[string]engineSample {
	nodes, err := s.engineNodes()
	if err != nil {
		s.log.Warn("elasticache: engine metrics", "error", err)
		return prev
	}
	ex := s.snaps.execer()
	if ex == nil {
		return prev
	}
	now := s.now()
	next := map[string]engineSample{}
	infos := map[string]map[string]string{}
	for _, n := range nodes {
		argv := redisInfoArgv("")
		if n.memcached {
			argv = memcachedStatsArgv
		}
		var out bytes.Buffer
		qctx, cancel := context.WithTimeout(ctx, engineTimeout)
		code, err := ex.ExecSlot(qctx, n.slot, argv, nil, &out)
		cancel()
		if err != nil || code != 0 {
			continue // a node not answering publishes nothing, as on AWS
		}
		if n.memcached {
			infos[n.slot] = parseMemcachedStats(out.String())
		} else {
			infos[n.slot] = parseRedisInfo(out.String())
		}
	}
	// The replicas' lag as their primaries see it.
	lags := map[string]map[string]float64{}
	for _, n := range nodes {
		if info, ok := infos[n.slot]; ok && !n.memcached && !n.replica {
			// With cluster mode a group has a primary per shard.
			key := n.sc.account + "/" + n.sc.region + "/" + n.group
			if lags[key] == nil {
				lags[key] = map[string]float64{}
			}
			maps.Copy(lags[key], replicaLags(info))
		}
	}
	for _, n := range nodes {
		info, ok := infos[n.slot]
		if !ok {
			continue
		}
		var data []metric.Datum
		var sample engineSample
		if n.memcached {
			data, sample = memcachedData(info, prev[n.slot])
		} else {
			lag, ok := lags[n.sc.account+"/"+n.sc.region+"/"+n.group][n.ip]
			if !ok {
				lag = -1
			}
			data, sample = redisData(info, prev[n.slot], n.replica, lag)
		}
		next[n.slot] = sample
		dims := map[string]string{"CacheClusterId": n.cluster, "CacheNodeId": n.node}
		for i := range data {
			data[i].Dimensions, data[i].Time = dims, now
		}
		if err := pub.Publish(n.sc.account, n.sc.region, "AWS/ElastiCache", data); err != nil {
			s.log.Warn("elasticache: engine metrics", "cluster", n.cluster, "error", err)
		}
	}
	return next
}

// redisData is a Redis node's metrics from its INFO, with the counters'
// changes since prev, and its sample for the next round. primaryLag is
// the replica's lag as its primary reports it (-1 unknown).
func redisData(info map[string]string, prev engineSample, replica bool, primaryLag float64) ([]metric.Datum, engineSample) {
	now := time.Now()
	sample := engineSample{at: now, counters: map[string]float64{}}
	var data []metric.Datum
	if n, ok := infoNumber(info, "connected_clients"); ok {
		// Less the INFO's own connection.
		data = append(data, metric.Datum{Name: "CurrConnections", Value: max(n-1, 0), Unit: "Count"})
	}
	used, okUsed := infoNumber(info, "used_memory")
	limit, okLimit := infoNumber(info, "maxmemory")
	if okUsed && okLimit && limit >= 1 {
		data = append(data, metric.Datum{Name: "DatabaseMemoryUsagePercentage", Value: used / limit * 100, Unit: "Percent"})
	}
	sys, okSys := infoNumber(info, "used_cpu_sys")
	user, okUser := infoNumber(info, "used_cpu_user")
	if okSys && okUser {
		sample.counters["cpu"] = sys + user
		if was, ok := prev.counters["cpu"]; ok && now.After(prev.at) {
			pct := max(sys+user-was, 0) / now.Sub(prev.at).Seconds() * 100
			data = append(data, metric.Datum{Name: "EngineCPUUtilization", Value: min(pct, 100), Unit: "Percent"})
		}
	}
	data = append(data, counterData(info, redisCounters, prev, sample)...)
	if replica {
		if lag, ok := replicationLag(info, primaryLag); ok {
			data = append(data, metric.Datum{Name: "ReplicationLag", Value: lag, Unit: "Seconds"})
		}
	}
	return data, sample
}

// replicationLag is how far a replica is behind, in seconds: while its
// link is down, how long it has been down; else the lag its primary
// reports (seconds since the replica's last acknowledgement), or failing
// that the seconds since it last heard from the primary.
func replicationLag(info map[string]string, primaryLag float64) (float64, bool) {
	if info["master_link_status"] == "down" {
		if n, ok := infoNumber(info, "master_link_down_since_seconds"); ok && n >= 0 {
			return n, true
		}
		return 0, false
	}
	if primaryLag >= 0 {
		return primaryLag, true
	}
	if n, ok := infoNumber(info, "master_last_io_seconds_ago"); ok && n >= 0 {
		return n, true
	}
	return 0, false
}

// memcachedData is a Memcached node's metrics from its stats, as
// redisData.
func memcachedData(stats map[string]string, prev engineSample) ([]metric.Datum, engineSample) {
	sample := engineSample{at: time.Now(), counters: map[string]float64{}}
	var data []metric.Datum
	if n, ok := infoNumber(stats, "curr_connections"); ok {
		data = append(data, metric.Datum{Name: "CurrConnections", Value: max(n-1, 0), Unit: "Count"})
	}
	return append(data, counterData(stats, memcachedCounters, prev, sample)...), sample
}

// counterData records the counters in sample and returns, for those prev
// has, their change: the whole value when the engine restarted since
// (the counter went down).
func counterData(info map[string]string, counters map[string]string, prev, sample engineSample) []metric.Datum {
	var data []metric.Datum
	for name, field := range counters {
		n, ok := infoNumber(info, field)
		if !ok {
			continue
		}
		sample.counters[name] = n
		was, ok := prev.counters[name]
		if !ok {
			continue
		}
		if n >= was {
			n -= was
		}
		data = append(data, metric.Datum{Name: name, Value: n, Unit: "Count"})
	}
	return data
}

// parseRedisInfo reads INFO's "field:value" lines (sections' headers,
// "# Name", and blank lines skipped).
func parseRedisInfo(out string) map[string]string {
	info := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = v
		}
	}
	return info
}

// parseMemcachedStats reads the "STAT name value" lines of memcached's
// stats.
func parseMemcachedStats(out string) map[string]string {
	stats := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "STAT" {
			stats[f[1]] = f[2]
		}
	}
	return stats
}

// infoNumber is a field's number: absent unless between 0 and 2^62 (no
// engine's figure is larger), so what is computed from them is finite.
func infoNumber(info map[string]string, key string) (float64, bool) {
	n, err := strconv.ParseFloat(info[key], 64)
	if err != nil || math.IsNaN(n) || n < 0 || n > 1<<62 {
		return 0, false
	}
	return n, true
}

// replicaLags reads a primary's replicas' lines,
// "slave0:ip=10.0.11.5,port=6379,state=online,offset=42,lag=0": each
// replica's lag by its address.
func replicaLags(info map[string]string) map[string]float64 {
	lags := map[string]float64{}
	for k, v := range info {
		if !strings.HasPrefix(k, "slave") {
			continue
		}
		if _, err := strconv.Atoi(k[len("slave"):]); err != nil {
			continue
		}
		f := replicaFields(v)
		if lag, err := strconv.ParseFloat(f["lag"], 64); err == nil && lag >= 0 && lag <= 1<<62 && f["ip"] != "" {
			lags[f["ip"]] = lag
		}
	}
	return lags
}

// replicaFields splits a replica's line into its k=v fields.
func replicaFields(v string) map[string]string {
	f := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	return f
}

// execer is the exec to ask the nodes through (nil: no data plane).
func (sn *snapshotter) execer() desired.SlotExec {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.exec
}
