package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloudbox/cloudbox/controllers"
)

// The ElastiCache bench builds seed 003's network (the RDS bench's: a
// public subnet with a NAT gateway, two private subnets in two zones),
// makes one Redis replication group (a primary and a replica, automatic
// failover) in the private subnets and one client instance next to it,
// and measures the group's creation, redis-benchmark through the primary
// endpoint against the same run inside the primary's node, writes during
// test-failover, and the nodes' memory.
const (
	ecGroup = "bench-rg"
	ecClass = "cache.t3.micro"
	// ecFailovers is how many failovers the unavailability is the p50 of.
	ecFailovers = 5
	// redis-benchmark's load: ecBenchRequests SETs then as many GETs, by
	// ecBenchClients connections over ecBenchKeys random keys.
	ecBenchClients  = 50
	ecBenchRequests = 300000
	ecBenchKeys     = 100000
	ecBenchRuns     = 5
)

func benchElastiCache(ctx context.Context, r *runner) (section, error) {
	const title = "Issue 16 (ElastiCache): a Redis replication group in a VPC"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral`. The network is seed 003's (the RDS bench's): VPC %s, a public "+
			"subnet with an internet gateway and a NAT gateway, two private subnets in us-east-1a and us-east-1b routed through the NAT "+
			"gateway (the nodes install Debian's redis-server from the mirror through it). A cache subnet group over the private subnets; "+
			"`aws elasticache create-replication-group --engine redis --cache-node-type %s --num-cache-clusters 2 "+
			"--automatic-failover-enabled` with a security group admitting 6379 from the client's group; a client instance (Amazon Linux 2 "+
			"image, c5.large, `yum install -y redis` in its user data, which installs Debian's redis-server and redis-tools 7.0) in private "+
			"subnet A. "+
			"**Create**: from the create-replication-group call to DescribeReplicationGroups first saying `available`, polled every second. "+
			"**redis-benchmark** (redis-tools 7.0 in both places): `-t set,get -n %d -c %d -r %d --csv`, once from the client instance "+
			"through the primary endpoint (client → VPC router → the node) and once inside the primary's node against its own address "+
			"(the server binds only that; the bench enters the node's namespaces with `nsenter -a` at its init's PID, found in the daemon's "+
			"process tree), %d runs each, interleaved; ops/s and p99 as redis-benchmark reports them, medians of the runs. The in-node "+
			"client is outside the node's cgroup (2 vCPUs for %s), the client instance in its own (2 vCPUs). "+
			"**Failover**: %d times, the client runs a writer loop, one `redis-cli` process (one connection) per key SETting key i of that "+
			"round and logging i and `date +%%s.%%N` once the SET answered OK; after 3 s of keys the bench calls `aws elasticache "+
			"test-failover --node-group-id 0001` and waits for 3 s of acknowledged keys after the call, then stops the writer. The "+
			"unavailability is the longest gap between two consecutive acknowledged keys of the round. Afterwards every key of the round is "+
			"listed through the primary endpoint (`redis-cli --scan`). Before each round the bench waits (inside the primary's node) "+
			"until the primary has its replica connected and `online`. "+
			"**Memory**: after the load, 10 s idle, each node's memory cgroup (memory.current: all charged pages, page cache included; anon; "+
			"found from its init's /proc/PID/cgroup). MB are 10^6 bytes.",
			rdsVPC, ecClass, ecBenchRequests, ecBenchClients, ecBenchKeys, ecBenchRuns, ecClass, ecFailovers),
		table: table{header: []string{"Measurement", "p50 / median", "min", "max", "Samples"}},
	}
	err := onDataplane(ctx, r, func(c *dpCloud) error {
		w, err := buildECWorld(ctx, c)
		if err != nil {
			return err
		}
		return w.measure(ctx, &s)
	})
	return s, err
}

// ecWorld is the bench's VPC once the client instance can run redis-cli.
type ecWorld struct {
	net      *rdsWorld // the network, its groups, and the process-tree walk
	c        *dpCloud
	client   string // instance ID
	endpoint string // the primary endpoint's name
	prefix   string // the group's node slots' ids start with it
}

// buildECWorld makes the RDS bench's network, opens 6379 from the client
// group to the nodes' group, and replaces the RDS bench's client (which
// installs mysql) with one that installs redis.
func buildECWorld(ctx context.Context, c *dpCloud) (*ecWorld, error) {
	net, err := buildRDSWorld(ctx, c)
	if err != nil {
		return nil, err
	}
	w := &ecWorld{net: net, c: c}
	api := c.ec2.api
	if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{net.client}}); err != nil {
		return nil, err
	}
	if err := c.ec2.allowFrom(ctx, net.dbSG, net.clientSG, 6379); err != nil {
		return nil, err
	}
	if w.client, err = c.ec2.launchClient(ctx, net.subnetA, net.clientSG, "redis"); err != nil {
		return nil, err
	}
	return w, nil
}

// measure runs the four measurements in order on one group and adds them
// to s.
func (w *ecWorld) measure(ctx context.Context, s *section) error {
	c := w.c
	id, err := w.aws(ctx, "sts", "get-caller-identity")
	if err != nil {
		return err
	}
	var who struct{ Account string }
	if err := json.Unmarshal(id, &who); err != nil || who.Account == "" {
		return fmt.Errorf("get-caller-identity: %v: %s", err, id)
	}
	// ElastiCache names a node's slot after the account and region
	// (unique in the daemon) and the node's cluster id.
	sum := sha256.Sum256([]byte(who.Account + "/" + ec2Region))
	w.prefix = "elasticache-" + hex.EncodeToString(sum[:3]) + "-"

	if _, err := w.aws(ctx, "elasticache", "create-cache-subnet-group", "--cache-subnet-group-name", "bench",
		"--cache-subnet-group-description", "bench", "--subnet-ids", w.net.subnetA, w.net.subnetB); err != nil {
		return err
	}
	c.r.logf("  create-replication-group %s (a primary and a replica)", ecGroup)
	t0 := time.Now()
	if _, err := w.aws(ctx, "elasticache", "create-replication-group", "--replication-group-id", ecGroup,
		"--replication-group-description", "bench", "--engine", "redis", "--cache-node-type", ecClass, "--num-cache-clusters", "2",
		"--automatic-failover-enabled", "--cache-subnet-group-name", "bench", "--security-group-ids", w.net.dbSG); err != nil {
		return err
	}
	var last string
	if err := pollEvery(ctx, time.Second, 15*time.Minute, func() (bool, error) {
		g, err := w.describe(ctx)
		last = g.Status
		return err == nil && last == "available", err
	}); err != nil {
		return fmt.Errorf("%s available: %w (last status %q)", ecGroup, err, last)
	}
	created := time.Since(t0)
	s.table.rows = append(s.table.rows, []string{"create-replication-group (primary + replica) to available", secs(created), "–", "–", "1"})
	c.r.logf("  available after %s", secs(created))
	g, err := w.describe(ctx)
	if err != nil {
		return err
	}
	if len(g.NodeGroups) != 1 || g.NodeGroups[0].PrimaryEndpoint.Address == "" {
		return fmt.Errorf("described without a primary endpoint: %+v", g)
	}
	w.endpoint = g.NodeGroups[0].PrimaryEndpoint.Address

	if _, err := c.waitRunning(ctx, []string{w.client}, time.Minute); err != nil {
		return err
	}
	if err := pollEvery(ctx, time.Second, 5*time.Minute, func() (bool, error) {
		return c.exec(ctx, w.client, "sh", "-c", "command -v redis-cli && command -v redis-benchmark").Run() == nil, nil
	}); err != nil {
		return fmt.Errorf("redis-tools installed in the client: %w\n%s", err, c.console(ctx, w.client))
	}
	if out, err := c.exec(ctx, w.client, "redis-cli", "-h", w.endpoint, "PING").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "PONG" {
		return fmt.Errorf("PING through %s: %v: %s", w.endpoint, err, out)
	}

	if err := w.benchmark(ctx, s); err != nil {
		return err
	}
	if err := w.failovers(ctx, s); err != nil {
		return err
	}
	return w.memory(ctx, s)
}

// ecGroupDesc is the part of DescribeReplicationGroups the bench reads.
type ecGroupDesc struct {
	Status     string
	NodeGroups []struct {
		PrimaryEndpoint  struct{ Address string }
		NodeGroupMembers []struct {
			CacheClusterID            string `json:"CacheClusterId"`
			CurrentRole               string
			PreferredAvailabilityZone string
		}
	}
}

func (w *ecWorld) describe(ctx context.Context) (ecGroupDesc, error) {
	out, err := w.aws(ctx, "elasticache", "describe-replication-groups", "--replication-group-id", ecGroup)
	if err != nil {
		return ecGroupDesc{}, err
	}
	var d struct{ ReplicationGroups []ecGroupDesc }
	if err := json.Unmarshal(out, &d); err != nil || len(d.ReplicationGroups) != 1 {
		return ecGroupDesc{}, fmt.Errorf("describe-replication-groups: %v: %s", err, out)
	}
	return d.ReplicationGroups[0], nil
}

// primary is the member cluster DescribeReplicationGroups calls primary,
// and its zone.
func (w *ecWorld) primary(ctx context.Context) (cluster, zone string, err error) {
	g, err := w.describe(ctx)
	if err != nil {
		return "", "", err
	}
	for _, ng := range g.NodeGroups {
		for _, m := range ng.NodeGroupMembers {
			if m.CurrentRole == "primary" {
				return m.CacheClusterID, m.PreferredAvailabilityZone, nil
			}
		}
	}
	return "", "", fmt.Errorf("no primary in %+v", g)
}

// clusters are the group's member cluster ids.
func (w *ecWorld) clusters() []string { return []string{ecGroup + "-001", ecGroup + "-002"} }

// inNode is a command run inside a member cluster's node's namespaces.
func (w *ecWorld) inNode(ctx context.Context, cluster string, argv ...string) (*exec.Cmd, error) {
	return w.net.inNode(ctx, w.prefix+cluster, argv...)
}

// nodeCLI runs redis-cli inside a node against its own server's unix
// socket (as root, which the socket's mode admits).
func (w *ecWorld) nodeCLI(ctx context.Context, cluster string, args ...string) (string, error) {
	cmd, err := w.inNode(ctx, cluster, append([]string{"redis-cli", "-s", "/var/lib/redis/redis-server.sock"}, args...)...)
	if err != nil {
		return "", err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("redis-cli %s in %s: %w: %s", strings.Join(args, " "), cluster, err, out)
	}
	return strings.ReplaceAll(string(out), "\r", ""), nil
}

// aws runs `aws <service> ...` against the daemon (loopback) and returns
// its JSON output.
func (w *ecWorld) aws(ctx context.Context, service string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", w.c.p.endpoint, "--output", "json", service}, args...)...)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(strings.ToUpper(e), "HTTP") && !strings.HasPrefix(strings.ToUpper(e), "NO_PROXY") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+testCreds.SecretAccessKey,
		"AWS_DEFAULT_REGION="+ec2Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("aws %s %s: %w: %s", service, args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
