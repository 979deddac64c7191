package elasticache

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// ModifyCacheCluster of a Memcached cluster: NumCacheNodes up adds real
// nodes (interfaces and slots that install memcached), down removes the
// nodes CacheNodeIdsToRemove names; the configuration endpoint and every
// node's `config get cluster` follow. With ApplyImmediately the cluster is
// modifying at once; without, the change waits in PendingModifiedValues for
// the maintenance window's next start on the virtual clock, as on AWS.
// AZMode and security groups change at once.

// mcPending is a node change waiting for the maintenance window.
type mcPending struct {
	NumNodes int
	Remove   []string  `json:",omitempty"`
	AZs      []string  `json:",omitempty"`
	ApplyAt  time.Time // the window's start
}

// maintenanceWindow is every cluster's weekly window (AWS picks one; this
// is the one shown as PreferredMaintenanceWindow).
const maintenanceWindow = "sun:06:00-sun:07:00"

// nextMaintenance is the start of the first maintenance window after t.
func nextMaintenance(t time.Time) time.Time {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), t.Day(), 6, 0, 0, 0, time.UTC).AddDate(0, 0, -int(t.Weekday()))
	for !start.After(t) {
		start = start.AddDate(0, 0, 7)
	}
	return start
}

func unsupportedMemcachedChange(in *ecapi.ModifyCacheClusterMessage, c *cacheCluster) string {
	switch {
	case in.CacheNodeType != nil && *in.CacheNodeType != c.NodeType:
		return "CacheNodeType (scaling the nodes)"
	case in.EngineVersion != nil && *in.EngineVersion != c.EngineVersion:
		return "EngineVersion (an engine upgrade)"
	case in.CacheParameterGroupName != nil && strings.ToLower(*in.CacheParameterGroupName) != c.ParamGroup:
		return "CacheParameterGroupName (nodes take their parameters at their first boot only)"
	case in.AuthToken != nil || in.AuthTokenUpdateStrategy != nil:
		return "AuthToken"
	case in.NotificationTopicArn != nil || in.NotificationTopicStatus != nil:
		return "notifications to SNS"
	case in.PreferredMaintenanceWindow != nil:
		return "PreferredMaintenanceWindow"
	case in.AutoMinorVersionUpgrade != nil && !*in.AutoMinorVersionUpgrade:
		return "AutoMinorVersionUpgrade false"
	case len(in.LogDeliveryConfigurations) > 0:
		return "LogDeliveryConfigurations"
	case in.IpDiscovery != nil && *in.IpDiscovery != "ipv4":
		return "IpDiscovery ipv6"
	case len(in.CacheSecurityGroupNames) > 0:
		return "CacheSecurityGroupNames (EC2-Classic)"
	}
	return ""
}

func (s *Service) modifyCacheCluster(ctx context.Context, in *ecapi.ModifyCacheClusterMessage) (*ecapi.ModifyCacheClusterResult, error) {
	sc := scopeOf(ctx)
	id := strings.ToLower(deref(in.CacheClusterId))
	var c *cacheCluster
	err := s.store.Update(func(tx *store.Tx) error {
		var ok bool
		var err error
		if c, ok, err = store.Get[cacheCluster](tx, sc.key(kindCacheCluster, id)); err != nil {
			return err
		}
		if !ok {
			if _, _, err := findCluster(tx, sc, id); err != nil {
				return err
			}
			return api.NotImplemented("ElastiCache", "ModifyCacheCluster of a replication group's member (use ModifyReplicationGroup)")
		}
		if c.Status != "available" {
			return api.Errorf("InvalidCacheClusterState", "Cache cluster %s is not in available state.", c.ID)
		}
		if what := unsupportedMemcachedChange(in, c); what != "" {
			return api.NotImplemented("ElastiCache", "ModifyCacheCluster of "+what)
		}
		if in.SnapshotRetentionLimit != nil || in.SnapshotWindow != nil {
			return invalidCombination("Snapshots are not supported by the memcached engine.")
		}
		if err := setAZMode(c, deref(in.AZMode)); err != nil {
			return err
		}
		change, err := checkNodeChange(c, in)
		if err != nil {
			return err
		}
		if len(in.SecurityGroupIds) > 0 {
			groups, err := securityGroups(tx, sc, c.VPC, in.SecurityGroupIds)
			if err != nil {
				return err
			}
			for _, n := range c.Nodes {
				if err := ec2.SetServiceENIGroups(tx, sc.account, sc.region, n.ENI, groups); err != nil {
					return err
				}
			}
			c.SecurityGroups = groups
		}
		now := s.now()
		if change != nil {
			change.ApplyAt = nextMaintenance(now)
			c.Pending = change
		}
		if in.ApplyImmediately != nil && *in.ApplyImmediately && c.Pending != nil {
			if err := s.applyNodeChange(tx, sc, c, now); err != nil {
				return err
			}
		}
		return tx.Put(sc.key(kindCacheCluster, c.ID), c)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: memcached cluster modified", "id", c.ID, "status", c.Status, "nodes", len(c.Nodes))
	return &ecapi.ModifyCacheClusterResult{CacheCluster: sc.memcachedOut(c, false)}, nil
}

// setAZMode changes where new nodes go; single-az is refused once the
// nodes span zones.
func setAZMode(c *cacheCluster, mode string) error {
	switch mode {
	case "":
	case "cross-az":
		c.AZMode = mode
	case "single-az":
		if len(c.zones()) > 1 {
			return invalidValue("Cannot use single-az mode: cache cluster %s has cache nodes in more than one availability zone.", c.ID)
		}
		c.AZMode = mode
	default:
		return invalidValue("Invalid value for AZMode: %s. Valid values are single-az and cross-az.", mode)
	}
	return nil
}

// checkNodeChange reads a change of the number of nodes: nil when there is
// none.
func checkNodeChange(c *cacheCluster, in *ecapi.ModifyCacheClusterMessage) (*mcPending, error) {
	var remove, azs []string
	for _, p := range in.CacheNodeIdsToRemove {
		remove = append(remove, deref(p))
	}
	for _, p := range in.NewAvailabilityZones {
		azs = append(azs, deref(p))
	}
	if in.NumCacheNodes == nil {
		if len(remove) > 0 || len(azs) > 0 {
			return nil, invalidValue("The parameter NumCacheNodes must be provided with CacheNodeIdsToRemove or NewAvailabilityZones.")
		}
		return nil, nil
	}
	want, have := int(*in.NumCacheNodes), len(c.Nodes)
	switch {
	case want < 1:
		return nil, invalidValue("The number of cache nodes must be at least 1.")
	case want > maxCacheNodes:
		return nil, api.Errorf("NodeQuotaForClusterExceeded", "The number of cache nodes must be between 1 and %d.", maxCacheNodes)
	case want > have && len(remove) > 0:
		return nil, invalidCombination("CacheNodeIdsToRemove cannot be specified when NumCacheNodes adds cache nodes.")
	case want > have && len(azs) > 0 && len(azs) != want-have:
		return nil, invalidValue("The number of availability zones specified (%d) must match the number of cache nodes being added (%d).", len(azs), want-have)
	case want < have && len(remove) != have-want:
		return nil, invalidValue("The number of cache node ids to remove (%d) must be the number of cache nodes removed (%d).", len(remove), have-want)
	case want == have:
		if len(remove) > 0 {
			return nil, invalidValue("CacheNodeIdsToRemove requires NumCacheNodes lower than the current number of cache nodes (%d).", have)
		}
		return nil, nil
	}
	for i, r := range remove {
		if !slices.ContainsFunc(c.Nodes, func(n *cacheNode) bool { return n.ID == r }) || slices.Contains(remove[:i], r) {
			return nil, invalidValue("Invalid cache node id: %s", r)
		}
	}
	return &mcPending{NumNodes: want, Remove: remove, AZs: azs}, nil
}

// applyNodeChange adds or removes a cluster's nodes as pending and makes
// it modifying; the subnet group is read again, as AWS places new nodes
// in its subnets as they are now.
func (s *Service) applyNodeChange(tx *store.Tx, sc scope, c *cacheCluster, now time.Time) error {
	p := c.Pending
	c.Pending = nil
	c.Status = "modifying"
	if len(p.Remove) > 0 {
		for _, n := range c.Nodes {
			if slices.Contains(p.Remove, n.ID) {
				n.Status, n.DeleteAt = "deleting", now.Add(deleteTime)
			}
		}
		return nil
	}
	sg, err := loadSubnetGroup(tx, sc, c.SubnetGroup)
	if err != nil {
		return err
	}
	next := 0
	for _, n := range c.Nodes {
		i, _ := strconv.Atoi(n.ID)
		next = max(next, i)
	}
	for i := range p.NumNodes - len(c.Nodes) {
		var sn groupSubnet
		switch {
		case len(p.AZs) > 0:
			sn, err = placeNode(sg, p.AZs, i)
		case c.AZMode == "cross-az":
			sn, err = placeNode(sg, []string{c.emptiestZone(sg)}, 0)
		default:
			sn, err = placeNode(sg, []string{c.Nodes[0].AZ}, 0)
		}
		if err != nil {
			return err
		}
		next++
		n := &cacheNode{ID: fmt.Sprintf("%04d", next), AZ: sn.AZ, Subnet: sn.ID, Status: "creating", Created: now}
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: c.SecurityGroups,
			Description: "ElastiCache " + c.ID, InterfaceType: "interface", Owner: "elasticache"})
		if err != nil {
			return err
		}
		n.ENI, n.IP = eni.ID, eni.PrivateIP.String()
		c.Nodes = append(c.Nodes, n)
	}
	return nil
}

// emptiestZone is the subnet group's zone with the fewest of the
// cluster's nodes (the first in name order on a tie).
func (c *cacheCluster) emptiestZone(sg *subnetGroup) string {
	best, bestN := "", 0
	for _, sn := range sg.Subnets {
		k := 0
		for _, n := range c.Nodes {
			if n.AZ == sn.AZ {
				k++
			}
		}
		if best == "" || k < bestN || k == bestN && sn.AZ < best {
			best, bestN = sn.AZ, k
		}
	}
	return best
}

// removeCacheNode takes a removed node out of its cluster with its
// interface; its slot leaves the desired world and is reaped.
func removeCacheNode(tx *store.Tx, sc scope, c *cacheCluster, n *cacheNode, now time.Time) error {
	if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
		return err
	}
	c.Nodes = slices.DeleteFunc(c.Nodes, func(o *cacheNode) bool { return o == n })
	return recordEvent(tx, sc, now, "cache-cluster", c.ID, "Removed cache node "+n.ID)
}

func (c *cacheCluster) pendingOut() *ecapi.PendingModifiedValues {
	out := &ecapi.PendingModifiedValues{}
	if p := c.Pending; p != nil {
		out.NumCacheNodes = i64(int64(p.NumNodes))
		for _, id := range p.Remove {
			out.CacheNodeIdsToRemove = append(out.CacheNodeIdsToRemove, str(id))
		}
	}
	return out
}
