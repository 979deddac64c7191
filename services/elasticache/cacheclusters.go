package elasticache

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Memcached cache clusters: nodes 0001, 0002... each a slot behind an
// interface, and a configuration endpoint whose `config get cluster`
// lists them (ElastiCache's auto discovery, answered by a small front on
// each node, memcache.go).

const kindCacheCluster = "elasticache:cachecluster"

// maxCacheNodes is the default quota of nodes in a Memcached cluster.
const maxCacheNodes = 40

type cacheCluster struct {
	ID, Status, EngineVersion string
	NodeType                  string
	ParamGroup, SubnetGroup   string
	VPC                       string
	SecurityGroups            []string
	Port                      int64
	AZMode                    string
	Created                   time.Time
	DeleteAt                  time.Time `json:",omitzero"`
	Nodes                     []*cacheNode
	// Pending is a node change waiting for the maintenance window.
	Pending *mcPending `json:",omitempty"`
}

type cacheNode struct {
	ID, AZ, Subnet, ENI, IP, Status string
	Created                         time.Time
	// DeleteAt is when a removed node is gone.
	DeleteAt time.Time `json:",omitzero"`
}

func (s *Service) registerCacheClusters(h *ecapi.Handlers) {
	h.CreateCacheCluster = s.createCacheCluster
	h.DeleteCacheCluster = s.deleteCacheCluster
	h.ModifyCacheCluster = s.modifyCacheCluster
}

// clusterIDTaken reports whether a cache cluster id is used, by a
// Memcached cluster or a replication group's member.
func clusterIDTaken(tx *store.Tx, sc scope, id string) (bool, error) {
	if ok, err := tx.Get(sc.key(kindCacheCluster, id), &cacheCluster{}); err != nil || ok {
		return ok, err
	}
	_, _, err := findCluster(tx, sc, id)
	if err == nil {
		return true, nil
	}
	if ae, ok := err.(*api.Error); ok && ae.Code == "CacheClusterNotFound" {
		return false, nil
	}
	return false, err
}

func (s *Service) createCacheCluster(ctx context.Context, in *ecapi.CreateCacheClusterMessage) (*ecapi.CreateCacheClusterResult, error) {
	sc := scopeOf(ctx)
	id := strings.ToLower(deref(in.CacheClusterId))
	if err := checkName("CacheClusterId", id, 50); err != nil {
		return nil, err
	}
	engine := strings.ToLower(deref(in.Engine))
	if engine != "memcached" {
		return nil, api.NotImplemented("ElastiCache", "CreateCacheCluster for engine "+cmp(engine, "redis")+" (Redis runs in replication groups)")
	}
	version, ok := lookupVersion("memcached", deref(in.EngineVersion))
	if !ok {
		return nil, invalidValue("Cannot find version %s for memcached", deref(in.EngineVersion))
	}
	nodeType := deref(in.CacheNodeType)
	if nodeType == "" {
		return nil, invalidValue("The parameter CacheNodeType must be provided and must not be blank.")
	}
	if _, ok := nodeTypes[nodeType]; !ok {
		return nil, invalidValue("Invalid CacheNodeType: %s", nodeType)
	}
	count := int(deref64(in.NumCacheNodes))
	if in.NumCacheNodes == nil {
		return nil, invalidValue("The parameter NumCacheNodes must be provided.")
	}
	if count < 1 || count > maxCacheNodes {
		return nil, api.Errorf("NodeQuotaForClusterExceeded", "The number of cache nodes must be between 1 and %d.", maxCacheNodes)
	}
	azMode := cmp(deref(in.AZMode), "single-az")
	var azs []string
	for _, az := range in.PreferredAvailabilityZones {
		azs = append(azs, deref(az))
	}
	if in.PreferredAvailabilityZone != nil {
		if len(azs) > 0 {
			return nil, invalidCombination("Cannot specify both PreferredAvailabilityZone and PreferredAvailabilityZones.")
		}
		azs = slices.Repeat([]string{*in.PreferredAvailabilityZone}, count)
	}
	if len(azs) > 0 && len(azs) != count {
		return nil, invalidValue("The number of preferred availability zones (%d) must match the number of cache nodes (%d).", len(azs), count)
	}
	if azMode == "cross-az" && count < 2 {
		return nil, invalidValue("Cross-AZ mode requires at least 2 cache nodes.")
	}
	now := s.now()
	c := &cacheCluster{ID: id, Status: "creating", EngineVersion: version.version, NodeType: nodeType, Port: 11211, AZMode: azMode, Created: now}
	if in.Port != nil {
		c.Port = *in.Port
	}
	err := s.store.Update(func(tx *store.Tx) error {
		if taken, err := clusterIDTaken(tx, sc, id); err != nil || taken {
			if taken {
				return api.Errorf("CacheClusterAlreadyExists", "Cache cluster %s already exists.", id)
			}
			return err
		}
		pg, err := loadParamGroup(tx, sc, cmp(deref(in.CacheParameterGroupName), "default."+version.family))
		if err != nil {
			return err
		}
		if pg.Family != version.family {
			return invalidCombination("The parameter group family %s of %s does not match the engine family %s.", pg.Family, pg.Name, version.family)
		}
		c.ParamGroup = pg.Name
		sg, err := loadSubnetGroup(tx, sc, cmp(deref(in.CacheSubnetGroupName), "default"))
		if err != nil {
			return err
		}
		c.SubnetGroup, c.VPC = sg.Name, sg.VPC
		if c.SecurityGroups, err = securityGroups(tx, sc, sg.VPC, in.SecurityGroupIds); err != nil {
			return err
		}
		for i := range count {
			var sn groupSubnet
			switch {
			case len(azs) > 0:
				sn, err = placeNode(sg, azs, i)
			case azMode == "cross-az":
				sn, err = placeNode(sg, nil, i)
			default:
				sn, err = placeNode(sg, nil, 0)
			}
			if err != nil {
				return err
			}
			n := &cacheNode{ID: fmt.Sprintf("%04d", i+1), AZ: sn.AZ, Subnet: sn.ID, Status: "creating", Created: now}
			eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: c.SecurityGroups,
				Description: "ElastiCache " + id, InterfaceType: "interface", Owner: "elasticache"})
			if err != nil {
				return err
			}
			n.ENI, n.IP = eni.ID, eni.PrivateIP.String()
			c.Nodes = append(c.Nodes, n)
		}
		if err := setTags(tx, sc, "cluster:"+id, in.Tags); err != nil {
			return err
		}
		return tx.Put(sc.key(kindCacheCluster, id), c)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: memcached cluster creating", "id", id, "nodes", count)
	return &ecapi.CreateCacheClusterResult{CacheCluster: sc.memcachedOut(c, false)}, nil
}

func (sc scope) memcachedOut(c *cacheCluster, nodeInfo bool) *ecapi.CacheCluster {
	az := "Multiple"
	if zones := c.zones(); len(zones) == 1 {
		az = zones[0]
	}
	out := &ecapi.CacheCluster{ARN: str(sc.arn("cluster", c.ID)), CacheClusterId: str(c.ID), CacheClusterStatus: str(c.Status),
		CacheNodeType: str(c.NodeType), Engine: str("memcached"), EngineVersion: str(c.EngineVersion), NumCacheNodes: i64(int64(len(c.Nodes))),
		PreferredAvailabilityZone: str(az), CacheClusterCreateTime: &c.Created, PreferredMaintenanceWindow: str(maintenanceWindow),
		CacheSubnetGroupName: str(c.SubnetGroup), AutoMinorVersionUpgrade: boolp(true), AuthTokenEnabled: boolp(false),
		TransitEncryptionEnabled: boolp(false), AtRestEncryptionEnabled: boolp(false), NetworkType: str("ipv4"), IpDiscovery: str("ipv4"),
		ClientDownloadLandingPage: str("https://console.aws.amazon.com/elasticache/home#client-download:"),
		CacheParameterGroup:       &ecapi.CacheParameterGroupStatus{CacheParameterGroupName: str(c.ParamGroup), ParameterApplyStatus: str("in-sync"), CacheNodeIdsToReboot: []*string{}},
		ConfigurationEndpoint:     &ecapi.Endpoint{Address: str(sc.configName(c.ID)), Port: i64(c.Port)},
		CacheSecurityGroups:       []*ecapi.CacheSecurityGroupMembership{},
		PendingModifiedValues:     c.pendingOut(),
	}
	for _, g := range c.SecurityGroups {
		out.SecurityGroups = append(out.SecurityGroups, &ecapi.SecurityGroupMembership{SecurityGroupId: str(g), Status: str("active")})
	}
	if nodeInfo {
		for _, n := range c.Nodes {
			cn := &ecapi.CacheNode{CacheNodeId: str(n.ID), CacheNodeStatus: str(n.Status), CacheNodeCreateTime: &n.Created,
				ParameterGroupStatus: str("in-sync"), CustomerAvailabilityZone: str(n.AZ)}
			if n.Status != "creating" {
				cn.Endpoint = &ecapi.Endpoint{Address: str(sc.memcachedNodeName(c.ID, n.ID)), Port: i64(c.Port)}
			}
			out.CacheNodes = append(out.CacheNodes, cn)
		}
	}
	return out
}

func (c *cacheCluster) zones() []string {
	var out []string
	for _, n := range c.Nodes {
		if !slices.Contains(out, n.AZ) {
			out = append(out, n.AZ)
		}
	}
	return out
}

func (s *Service) deleteCacheCluster(ctx context.Context, in *ecapi.DeleteCacheClusterMessage) (*ecapi.DeleteCacheClusterResult, error) {
	sc := scopeOf(ctx)
	if in.FinalSnapshotIdentifier != nil {
		return nil, api.NotImplemented("ElastiCache", "DeleteCacheCluster with a final snapshot")
	}
	id := strings.ToLower(deref(in.CacheClusterId))
	var c *cacheCluster
	err := s.store.Update(func(tx *store.Tx) error {
		var ok bool
		var err error
		c, ok, err = store.Get[cacheCluster](tx, sc.key(kindCacheCluster, id))
		if err != nil {
			return err
		}
		if !ok {
			if _, _, err := findCluster(tx, sc, id); err != nil {
				return err
			}
			return api.NotImplemented("ElastiCache", "DeleteCacheCluster of a replication group's member")
		}
		if c.Status != "available" {
			return api.Errorf("InvalidCacheClusterState", "Cache cluster %s is not in available state.", c.ID)
		}
		c.Status, c.DeleteAt = "deleting", s.now().Add(deleteTime)
		for _, n := range c.Nodes {
			n.Status = "deleting"
		}
		return tx.Put(sc.key(kindCacheCluster, id), c)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.DeleteCacheClusterResult{CacheCluster: sc.memcachedOut(c, false)}, nil
}

// advanceMemcached moves one scope's Memcached clusters on, as advance
// does replication groups.
func (s *Service) advanceMemcached(tx *store.Tx, sc scope, now time.Time) error {
	cs, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
	if err != nil {
		return err
	}
	for _, c := range cs {
		switch {
		case c.Status == "deleting" && !now.Before(c.DeleteAt):
			for _, n := range c.Nodes {
				if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
					return err
				}
			}
			if err := dropTags(tx, sc, "cluster:"+c.ID); err != nil {
				return err
			}
			if err := recordEvent(tx, sc, now, "cache-cluster", c.ID, "Cache cluster deleted"); err != nil {
				return err
			}
			if _, err := tx.Delete(sc.key(kindCacheCluster, c.ID)); err != nil {
				return err
			}
		case c.Status == "available" && c.Pending != nil && !now.Before(c.Pending.ApplyAt):
			if err := s.applyNodeChange(tx, sc, c, now); err != nil {
				return err
			}
			if err := tx.Put(sc.key(kindCacheCluster, c.ID), c); err != nil {
				return err
			}
		case c.Status == "creating" || c.Status == "modifying":
			changed := false
			for _, n := range slices.Clone(c.Nodes) {
				switch {
				case n.Status == "creating" && !s.dataPlane && !now.Before(n.Created.Add(nodeBootTime)):
					if err := cacheNodeUp(tx, sc, c, n, now); err != nil {
						return err
					}
					changed = true
				case n.Status == "deleting" && !now.Before(n.DeleteAt):
					if err := removeCacheNode(tx, sc, c, n, now); err != nil {
						return err
					}
					changed = true
				}
			}
			if changed {
				if err := memcachedSettle(tx, sc, c, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// memcachedSettle stores a cluster whose nodes changed, available once
// every node is (and none is being removed).
func memcachedSettle(tx *store.Tx, sc scope, c *cacheCluster, now time.Time) error {
	if (c.Status == "creating" || c.Status == "modifying") && !slices.ContainsFunc(c.Nodes, func(n *cacheNode) bool { return n.Status != "available" }) {
		if c.Status == "creating" {
			if err := recordEvent(tx, sc, now, "cache-cluster", c.ID, "Cache cluster created"); err != nil {
				return err
			}
		}
		c.Status = "available"
	}
	return tx.Put(sc.key(kindCacheCluster, c.ID), c)
}

// cacheNodeUp marks a node available; one added to a running cluster is
// an event of its own.
func cacheNodeUp(tx *store.Tx, sc scope, c *cacheCluster, n *cacheNode, now time.Time) error {
	n.Status = "available"
	if c.Status != "modifying" {
		return nil
	}
	return recordEvent(tx, sc, now, "cache-cluster", c.ID, "Added cache node "+n.ID+" in availability zone "+n.AZ)
}

// reportMemcachedSlot takes a Memcached node's slot report; ok is false
// when the slot is no Memcached node's.
func (s *Service) reportMemcachedSlot(tx *store.Tx, sc scope, slot, state string) (bool, error) {
	cs, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
	if err != nil {
		return false, err
	}
	for _, c := range cs {
		for _, n := range c.Nodes {
			if sc.memcachedSlot(c.ID, n.ID) != slot {
				continue
			}
			if state != "running" || n.Status != "creating" || c.Status != "creating" && c.Status != "modifying" {
				return true, nil
			}
			if err := cacheNodeUp(tx, sc, c, n, s.now()); err != nil {
				return true, err
			}
			return true, memcachedSettle(tx, sc, c, s.now())
		}
	}
	return false, nil
}

func (sc scope) memcachedSlot(cluster, nodeID string) string {
	return sc.slotPrefix() + cluster + "-" + nodeID
}

// groupInUse reports whether a replication group or a Memcached cluster of
// the scope uses a parameter or subnet group that matches.
func groupInUse(tx *store.Tx, sc scope, uses func(paramGroup, subnetGroup string) bool) (bool, error) {
	rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
	if err != nil {
		return false, err
	}
	for _, rg := range rgs {
		if uses(rg.ParamGroup, rg.SubnetGroup) {
			return true, nil
		}
	}
	cls, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
	if err != nil {
		return false, err
	}
	for _, c := range cls {
		if uses(c.ParamGroup, c.SubnetGroup) {
			return true, nil
		}
	}
	return false, nil
}
