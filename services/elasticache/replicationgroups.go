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

// replicationGroup is a Redis replication group: with cluster mode
// disabled one node group (0001) of a primary and up to five replicas,
// with it enabled (clustermode.go) shards of a primary and up to five
// replicas each; each node is a cache cluster of one cache node.
type replicationGroup struct {
	ID, Description, Status string
	Engine, EngineVersion   string
	NodeType                string
	ParamGroup, SubnetGroup string
	VPC                     string
	SecurityGroups          []string
	Port                    int64
	AutoFailover, MultiAZ   bool
	// SnapshotWindow is the daily window asked for, "" for the default;
	// RetentionLimit, the days automatic snapshots are kept (0: none
	// taken); AutoFrom, since when (the last one, or when they were
	// turned on) the next is due (autosnap.go).
	SnapshotWindow string    `json:",omitempty"`
	RetentionLimit int64     `json:",omitempty"`
	AutoFrom       time.Time `json:",omitzero"`
	// FinalSnapshot is the snapshot a deleting group waits for before its
	// nodes stop.
	FinalSnapshot string `json:",omitempty"`
	// Pending is a modification under way (the group is modifying).
	Pending *rgPending `json:",omitempty"`
	// Target is a node type or parameter group change (scale.go).
	Target *rgTarget `json:",omitempty"`
	// TLS is the nodes' certificate with in-transit encryption (nil
	// without); AuthToken the AUTH token ("" for none).
	TLS       *nodeTLS `json:",omitempty"`
	AuthToken string   `json:",omitempty"`
	Created   time.Time
	// DeleteAt is when a deleting group is gone.
	DeleteAt time.Time `json:",omitzero"`
	Nodes    []*node
	// Restore is the snapshot whose RDB the group's first node starts
	// from (its first boot waits for it); RestoreFile, that RDB (a link of
	// the group's own) until the node has it.
	Restore     string `json:",omitempty"`
	RestoreFile string `json:",omitempty"`
	// ClusterMode says the nodes run Redis Cluster, in Shards (nil with
	// cluster mode disabled).
	ClusterMode bool     `json:",omitempty"`
	Shards      []*shard `json:",omitempty"`
}

// node is one cache cluster of a group, in a slot behind its interface.
type node struct {
	Cluster, AZ, Subnet, ENI, IP string
	// Shard is the node group of a node of a cluster-mode group ("" with
	// cluster mode disabled: the one group, 0001).
	Shard string `json:",omitempty"`
	// Role is "primary" or "replica"; Status the cache cluster's.
	Role, Status string
	Created      time.Time
	// DeleteAt is when a deleting node (a replica removed) is gone.
	DeleteAt time.Time `json:",omitzero"`
	// Gen counts the node's replacements (its slot's generation); Type is
	// the node type it was replaced with while its group's change is under
	// way ("" for the group's); Next is its replacement being made.
	Gen  int          `json:",omitempty"`
	Type string       `json:",omitempty"`
	Next *replacement `json:",omitempty"`
}

// nodeType is the type a node runs with.
func (n *node) nodeType(rg *replicationGroup) string { return cmp(n.Type, rg.NodeType) }

// primary returns the group's primary node (the first shard's with
// cluster mode enabled).
func (rg *replicationGroup) primary() *node {
	for _, n := range rg.Nodes {
		if n.Role == "primary" {
			return n
		}
	}
	return nil
}

// shardPrimary returns a shard's primary node ("" for the one node group
// of a group with cluster mode disabled).
func (rg *replicationGroup) shardPrimary(shard string) *node {
	for _, n := range rg.Nodes {
		if n.Role == "primary" && n.Shard == shard {
			return n
		}
	}
	return nil
}

const (
	maxNodes = 6 // a primary and five replicas
	// nodeBootTime is how long a node takes to turn available without a
	// data plane; deleteTime how long a deleting group stays listed.
	nodeBootTime = 5 * time.Second
	deleteTime   = 2 * time.Second
)

func rgNotFound(id string) error {
	return api.NewError(404, "ReplicationGroupNotFoundFault", "Replication group %s not found.", id)
}

func loadRG(tx *store.Tx, sc scope, id string) (*replicationGroup, error) {
	rg, ok, err := store.Get[replicationGroup](tx, sc.key(kindRG, strings.ToLower(id)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rgNotFound(id)
	}
	return rg, nil
}

func (s *Service) registerReplicationGroups(h *ecapi.Handlers) {
	h.CreateReplicationGroup = s.createRG
	h.DescribeReplicationGroups = s.describeRGs
	h.DeleteReplicationGroup = s.deleteRG
	h.DescribeCacheClusters = s.describeClusters
	h.TestFailover = s.testFailover
	h.IncreaseReplicaCount = s.increaseReplicas
	h.DecreaseReplicaCount = s.decreaseReplicas
	h.ModifyReplicationGroup = s.modifyRG
}

// rgSpec is a create request, checked.
type rgSpec struct {
	id, engine, nodeType string
	version              engineVersion
	nodes                int
	azs                  []string
	tls                  bool
	auth                 string
	window               string
	retention            int64
	// shards are the node groups asked for, which cluster mode makes
	// (clustermode.go).
	shards []shardSpec
}

func checkCreate(in *ecapi.CreateReplicationGroupMessage) (rgSpec, error) {
	sp := rgSpec{id: strings.ToLower(deref(in.ReplicationGroupId)), engine: strings.ToLower(deref(in.Engine)), nodeType: deref(in.CacheNodeType)}
	if err := checkName("ReplicationGroupId", sp.id, 40); err != nil {
		return sp, err
	}
	switch sp.engine {
	case "", "redis", "valkey":
		// Valkey runs on the same redis-server.
		sp.engine = "redis"
	default:
		return sp, invalidValue("Invalid engine: %s. Replication groups support the redis and valkey engines.", deref(in.Engine))
	}
	var ok bool
	var err error
	if sp.version, ok = lookupVersion("redis", deref(in.EngineVersion)); !ok {
		return sp, invalidValue("Cannot find version %s for %s", deref(in.EngineVersion), sp.engine)
	}
	if sp.nodeType == "" {
		return sp, invalidValue("The parameter CacheNodeType must be provided and must not be blank.")
	}
	if _, ok := nodeTypes[sp.nodeType]; !ok {
		return sp, invalidValue("Invalid CacheNodeType: %s", sp.nodeType)
	}
	if in.SnapshotWindow != nil {
		if sp.window, err = checkSnapshotWindow(*in.SnapshotWindow); err != nil {
			return sp, err
		}
	}
	if in.SnapshotRetentionLimit != nil {
		if sp.retention = *in.SnapshotRetentionLimit; sp.retention < 0 {
			return sp, invalidValue("Invalid value for SnapshotRetentionLimit: %d. It must be 0 or greater.", sp.retention)
		}
	}
	if len(in.SnapshotArns) > 0 {
		return sp, api.NotImplemented("ElastiCache", "CreateReplicationGroup from RDB files in S3 (SnapshotArns)")
	}
	if in.PrimaryClusterId != nil || in.GlobalReplicationGroupId != nil {
		return sp, api.NotImplemented("ElastiCache", "CreateReplicationGroup from an existing cluster or a global group")
	}
	if sp.tls, err = checkTransit(in.TransitEncryptionEnabled, in.TransitEncryptionMode, in.AuthToken); err != nil {
		return sp, err
	}
	sp.auth = deref(in.AuthToken)
	switch {
	case in.NumCacheClusters != nil && in.ReplicasPerNodeGroup != nil:
		return sp, invalidCombination("Cannot specify both NumCacheClusters and ReplicasPerNodeGroup.")
	case in.NumCacheClusters != nil:
		sp.nodes = int(*in.NumCacheClusters)
	case in.ReplicasPerNodeGroup != nil:
		sp.nodes = int(*in.ReplicasPerNodeGroup) + 1
	default:
		sp.nodes = 1
	}
	if in.ReplicasPerNodeGroup != nil && (sp.nodes < 1 || sp.nodes > maxNodes) {
		return sp, invalidValue("The number of replicas per node group must be within 0 and %d.", maxReplicas)
	}
	if sp.nodes < 1 || sp.nodes > maxNodes {
		return sp, invalidValue("NumCacheClusters must be between 1 and %d.", maxNodes)
	}
	for _, az := range in.PreferredCacheClusterAZs {
		sp.azs = append(sp.azs, deref(az))
	}
	if len(sp.azs) > 0 && len(sp.azs) != sp.nodes {
		return sp, invalidValue("The number of availability zones specified (%d) must match the number of cache clusters (%d).", len(sp.azs), sp.nodes)
	}
	auto := in.AutomaticFailoverEnabled != nil && *in.AutomaticFailoverEnabled
	if auto && sp.nodes < 2 && !wantsClusterMode(in) {
		return sp, invalidCombination("When using automatic failover, there must be at least 2 cache clusters in the replication group.")
	}
	if in.MultiAZEnabled != nil && *in.MultiAZEnabled && !auto {
		return sp, invalidCombination("Multi-AZ is only supported with automatic failover enabled.")
	}
	sp.shards, err = checkShards(in)
	return sp, err
}

func (s *Service) createRG(ctx context.Context, in *ecapi.CreateReplicationGroupMessage) (*ecapi.CreateReplicationGroupResult, error) {
	sc := scopeOf(ctx)
	from, err := s.restoreSource(sc, in)
	if err != nil {
		return nil, err
	}
	sp, err := checkCreate(in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rg := &replicationGroup{ID: sp.id, Description: deref(in.ReplicationGroupDescription), Status: "creating",
		Engine: sp.engine, EngineVersion: sp.version.version, NodeType: sp.nodeType, Port: 6379, Created: now,
		AutoFailover: in.AutomaticFailoverEnabled != nil && *in.AutomaticFailoverEnabled,
		MultiAZ:      in.MultiAZEnabled != nil && *in.MultiAZEnabled}
	if in.Port != nil {
		rg.Port = *in.Port
	}
	rg.SnapshotWindow, rg.RetentionLimit, rg.AutoFrom = sp.window, sp.retention, now
	if sp.tls {
		if rg.TLS, err = s.issue(sc, rg.ID); err != nil {
			return nil, err
		}
		rg.AuthToken = sp.auth
	}
	if from != nil {
		if rg.Restore, rg.RestoreFile, err = s.restoreLink(sc, from); err != nil {
			return nil, err
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if from != nil {
			// Still there, with the same RDB.
			if cur, err := loadSnapshot(tx, sc, from.Name); err != nil {
				return err
			} else if cur.File != from.File {
				return snapshotNotFound(from.Name)
			}
		}
		if ok, err := tx.Get(sc.key(kindRG, rg.ID), &replicationGroup{}); err != nil || ok {
			if ok {
				return api.Errorf("ReplicationGroupAlreadyExists", "Replication group with specified name already exists.")
			}
			return err
		}
		pg, err := loadParamGroup(tx, sc, cmp(deref(in.CacheParameterGroupName), "default."+sp.version.family))
		if err != nil {
			return err
		}
		if pg.Family != sp.version.family {
			return invalidCombination("The parameter group family %s of %s does not match the engine family %s.", pg.Family, pg.Name, sp.version.family)
		}
		if rg.ClusterMode, err = checkClusterMode(in, pg, len(sp.shards)); err != nil {
			return err
		}
		if rg.ClusterMode {
			if what := unsupportedInClusterMode(sp, from != nil); what != "" {
				return api.NotImplemented("ElastiCache", "cluster mode enabled with "+what)
			}
			if in.AutomaticFailoverEnabled != nil && !*in.AutomaticFailoverEnabled {
				return invalidCombination("AutomaticFailoverEnabled must be enabled for Redis (cluster mode enabled) replication groups.")
			}
			// Redis Cluster fails a shard over itself.
			rg.AutoFailover = true
		}
		rg.ParamGroup = pg.Name
		sg, err := loadSubnetGroup(tx, sc, cmp(deref(in.CacheSubnetGroupName), "default"))
		if err != nil {
			return err
		}
		rg.SubnetGroup, rg.VPC = sg.Name, sg.VPC
		if rg.SecurityGroups, err = securityGroups(tx, sc, sg.VPC, in.SecurityGroupIds); err != nil {
			return err
		}
		if err := addNodes(tx, sc, rg, sg, sp); err != nil {
			return err
		}
		if err := setTags(tx, sc, "replicationgroup:"+rg.ID, in.Tags); err != nil {
			return err
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		s.snaps.remove(rg.RestoreFile)
		return nil, err
	}
	s.log.Info("elasticache: replication group creating", "id", rg.ID, "nodes", len(rg.Nodes), "snapshot", rg.Restore)
	return &ecapi.CreateReplicationGroupResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

// addNodes makes a new group's nodes: with cluster mode disabled a
// primary (<id>-001) and its replicas, else its shards'.
func addNodes(tx *store.Tx, sc scope, rg *replicationGroup, sg *subnetGroup, sp rgSpec) error {
	if rg.ClusterMode {
		return addShards(tx, sc, rg, sg, sp.shards)
	}
	for i := range sp.nodes {
		sn, err := placeNode(sg, sp.azs, i)
		if err != nil {
			return err
		}
		role := "replica"
		if i == 0 {
			role = "primary"
		}
		if err := addNode(tx, sc, rg, fmt.Sprintf("%s-%03d", rg.ID, i+1), "", role, sn); err != nil {
			return err
		}
	}
	return nil
}

// addNode makes a creating node with its interface in a subnet.
func addNode(tx *store.Tx, sc scope, rg *replicationGroup, cluster, shardID, role string, sn groupSubnet) error {
	n := &node{Cluster: cluster, Shard: shardID, AZ: sn.AZ, Subnet: sn.ID, Role: role, Status: "creating", Created: rg.Created}
	// A Memcached cluster's name, or another group's node's (group
	// x-0001's first node is cluster-mode group x's x-0001-001).
	if taken, err := clusterIDTaken(tx, sc, n.Cluster); err != nil || taken {
		if taken {
			return api.Errorf("CacheClusterAlreadyExists", "Cache cluster %s already exists.", n.Cluster)
		}
		return err
	}
	eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: rg.SecurityGroups,
		Description: "ElastiCache " + n.Cluster, InterfaceType: "interface", Owner: "elasticache", Cluster: rg.ID})
	if err != nil {
		return err
	}
	n.ENI, n.IP = eni.ID, eni.PrivateIP.String()
	rg.Nodes = append(rg.Nodes, n)
	return nil
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// securityGroups checks the groups asked for, or gives the VPC's default.
func securityGroups(tx *store.Tx, sc scope, vpc string, ids []*string) ([]string, error) {
	if len(ids) == 0 {
		def, err := ec2.DefaultSecurityGroup(tx, sc.account, sc.region, vpc)
		return []string{def}, err
	}
	var out []string
	for _, p := range ids {
		in, ok, err := ec2.SecurityGroupVPC(tx, sc.account, sc.region, deref(p))
		if err != nil {
			return nil, err
		}
		if !ok || in != vpc {
			return nil, invalidValue("Some security group Id not recongized by EC2: %s", deref(p))
		}
		out = append(out, deref(p))
	}
	return out, nil
}

// placeNode picks node i's subnet: in the AZ asked for, else spread over
// the group's AZs in turn.
func placeNode(g *subnetGroup, azs []string, i int) (groupSubnet, error) {
	if len(azs) > 0 {
		for _, sn := range g.Subnets {
			if sn.AZ == azs[i] {
				return sn, nil
			}
		}
		return groupSubnet{}, api.Errorf("InvalidVPCNetworkStateFault", "Cache subnet group %s has no subnet in availability zone %s.", g.Name, azs[i])
	}
	var zones []string
	for _, sn := range g.Subnets {
		if !slices.Contains(zones, sn.AZ) {
			zones = append(zones, sn.AZ)
		}
	}
	slices.Sort(zones)
	az := zones[i%len(zones)]
	for _, sn := range g.Subnets {
		if sn.AZ == az {
			return sn, nil
		}
	}
	return groupSubnet{}, fmt.Errorf("elasticache: no subnet in %s", az)
}

// snapshotWindow is the group's daily snapshot window (AWS picks one when
// none is asked; this is the one picked).
func (rg *replicationGroup) snapshotWindow() string { return cmp(rg.SnapshotWindow, "05:00-06:00") }

func onOff(b bool) *string {
	if b {
		return str("enabled")
	}
	return str("disabled")
}

func (sc scope) rgOut(rg *replicationGroup) *ecapi.ReplicationGroup {
	out := &ecapi.ReplicationGroup{ARN: str(sc.arn("replicationgroup", rg.ID)), ReplicationGroupId: str(rg.ID),
		Description: str(rg.Description), Status: str(rg.Status), CacheNodeType: str(rg.NodeType),
		AutomaticFailover: onOff(rg.AutoFailover), MultiAZ: onOff(rg.MultiAZ), ClusterEnabled: boolp(false), ClusterMode: str("disabled"),
		SnapshotRetentionLimit: i64(rg.RetentionLimit), SnapshotWindow: str(rg.snapshotWindow()), AuthTokenEnabled: boolp(rg.AuthToken != ""),
		TransitEncryptionEnabled: boolp(rg.TLS != nil), AtRestEncryptionEnabled: boolp(false), ReplicationGroupCreateTime: &rg.Created,
		DataTiering: str("disabled"), AutoMinorVersionUpgrade: boolp(true), NetworkType: str("ipv4"), IpDiscovery: str("ipv4"),
		PendingModifiedValues: rg.pendingOut()}
	if rg.TLS != nil {
		out.TransitEncryptionMode = str("required")
	}
	if rg.AuthToken != "" {
		out.AuthTokenLastModifiedDate = &rg.Created
	}
	if rg.ClusterMode {
		return sc.clusterModeOut(rg, out)
	}
	ng := &ecapi.NodeGroup{NodeGroupId: str("0001"), Status: str(rg.Status)}
	if rg.Status != "creating" {
		ng.PrimaryEndpoint = &ecapi.Endpoint{Address: str(sc.primaryName(rg.ID)), Port: i64(rg.Port)}
		ng.ReaderEndpoint = &ecapi.Endpoint{Address: str(sc.readerName(rg.ID)), Port: i64(rg.Port)}
	}
	for _, n := range rg.Nodes {
		out.MemberClusters = append(out.MemberClusters, str(n.Cluster))
		m := &ecapi.NodeGroupMember{CacheClusterId: str(n.Cluster), CacheNodeId: str("0001"), PreferredAvailabilityZone: str(n.AZ)}
		if rg.Status != "creating" {
			m.CurrentRole = str(n.Role)
			m.ReadEndpoint = &ecapi.Endpoint{Address: str(sc.nodeName(rg.ID, n.Cluster)), Port: i64(rg.Port)}
		}
		ng.NodeGroupMembers = append(ng.NodeGroupMembers, m)
	}
	out.NodeGroups = []*ecapi.NodeGroup{ng}
	return out
}

func (s *Service) describeRGs(ctx context.Context, in *ecapi.DescribeReplicationGroupsMessage) (*ecapi.ReplicationGroupMessage, error) {
	sc := scopeOf(ctx)
	var all []*ecapi.ReplicationGroup
	err := s.store.View(func(tx *store.Tx) error {
		if id := deref(in.ReplicationGroupId); id != "" {
			rg, err := loadRG(tx, sc, id)
			if err == nil {
				all = append(all, sc.rgOut(rg))
			}
			return err
		}
		rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
		for _, rg := range rgs {
			all = append(all, sc.rgOut(rg))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.ReplicationGroupMessage{ReplicationGroups: out, Marker: next}, err
}

func (s *Service) deleteRG(ctx context.Context, in *ecapi.DeleteReplicationGroupMessage) (*ecapi.DeleteReplicationGroupResult, error) {
	sc := scopeOf(ctx)
	final := deref(in.FinalSnapshotIdentifier)
	if in.FinalSnapshotIdentifier != nil {
		if err := checkName("FinalSnapshotIdentifier", final, 255); err != nil {
			return nil, err
		}
	}
	if in.RetainPrimaryCluster != nil && *in.RetainPrimaryCluster {
		return nil, api.NotImplemented("ElastiCache", "DeleteReplicationGroup retaining the primary cluster")
	}
	var rg *replicationGroup
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if rg, err = loadRG(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if rg.Status != "available" && rg.Status != "create-failed" {
			return api.Errorf("InvalidReplicationGroupState", "Replication group %s has status %s which is not valid for deletion.", rg.ID, rg.Status)
		}
		now := s.now()
		if final != "" && rg.ClusterMode {
			return api.NotImplemented("ElastiCache", "DeleteReplicationGroup with a final snapshot of a group with cluster mode enabled")
		}
		if final != "" {
			// A manual snapshot of the primary, which the nodes keep
			// running for (finishSnapshot).
			n := rg.primary()
			if rg.Status != "available" || n == nil || n.Status != "available" {
				return api.Errorf("InvalidReplicationGroupState", "Replication group %s is not in available state.", rg.ID)
			}
			if err := putNewSnapshot(tx, sc, newSnapshot(rg, n, final, now)); err != nil {
				return err
			}
			rg.FinalSnapshot = final
		}
		// The group's automatic snapshots go with it.
		list, err := store.ListAll[snapshot](tx, sc.account, sc.region, kindSnapshot)
		if err != nil {
			return err
		}
		for _, sn := range list {
			if sn.Automated && sn.Group == rg.ID {
				if err := s.dropSnapshot(tx, sc, sn); err != nil {
					return err
				}
			}
		}
		rg.Status, rg.DeleteAt = "deleting", now.Add(deleteTime)
		for _, n := range rg.Nodes {
			n.Status = "deleting"
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.DeleteReplicationGroupResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

// findCluster finds a cache cluster (a node) and its group.
func findCluster(tx *store.Tx, sc scope, id string) (*replicationGroup, *node, error) {
	rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
	if err != nil {
		return nil, nil, err
	}
	for _, rg := range rgs {
		for _, n := range rg.Nodes {
			if n.Cluster == strings.ToLower(id) {
				return rg, n, nil
			}
		}
	}
	return nil, nil, api.NewError(404, "CacheClusterNotFound", "CacheCluster not found: %s", id)
}

func (sc scope) clusterOut(rg *replicationGroup, n *node, nodeInfo bool) *ecapi.CacheCluster {
	pg := &ecapi.CacheParameterGroupStatus{CacheParameterGroupName: str(rg.ParamGroup), ParameterApplyStatus: str("in-sync"), CacheNodeIdsToReboot: []*string{}}
	out := &ecapi.CacheCluster{ARN: str(sc.arn("cluster", n.Cluster)), CacheClusterId: str(n.Cluster), ReplicationGroupId: str(rg.ID),
		CacheClusterStatus: str(n.Status), CacheNodeType: str(n.nodeType(rg)), Engine: str(rg.Engine), EngineVersion: str(engineFull(rg.EngineVersion)),
		NumCacheNodes: i64(1), PreferredAvailabilityZone: str(n.AZ), CacheClusterCreateTime: &n.Created,
		PreferredMaintenanceWindow: str("sun:06:00-sun:07:00"), CacheSubnetGroupName: str(rg.SubnetGroup),
		CacheParameterGroup: pg, AutoMinorVersionUpgrade: boolp(true), SnapshotRetentionLimit: i64(rg.RetentionLimit), SnapshotWindow: str(rg.snapshotWindow()),
		AuthTokenEnabled: boolp(rg.AuthToken != ""), TransitEncryptionEnabled: boolp(rg.TLS != nil), AtRestEncryptionEnabled: boolp(false),
		ClientDownloadLandingPage:          str("https://console.aws.amazon.com/elasticache/home#client-download:"),
		ReplicationGroupLogDeliveryEnabled: boolp(false), NetworkType: str("ipv4"), IpDiscovery: str("ipv4"),
		CacheSecurityGroups: []*ecapi.CacheSecurityGroupMembership{}, PendingModifiedValues: &ecapi.PendingModifiedValues{}}
	if t := rg.Target; t != nil && n.Type != t.NodeType && t.NodeType != rg.NodeType {
		out.PendingModifiedValues.CacheNodeType = str(t.NodeType)
	}
	for _, g := range rg.SecurityGroups {
		out.SecurityGroups = append(out.SecurityGroups, &ecapi.SecurityGroupMembership{SecurityGroupId: str(g), Status: str("active")})
	}
	if nodeInfo {
		cn := &ecapi.CacheNode{CacheNodeId: str("0001"), CacheNodeStatus: str(n.Status), CacheNodeCreateTime: &n.Created,
			ParameterGroupStatus: str("in-sync"), CustomerAvailabilityZone: str(n.AZ)}
		if n.Status != "creating" {
			cn.Endpoint = &ecapi.Endpoint{Address: str(sc.nodeName(rg.ID, n.Cluster)), Port: i64(rg.Port)}
		}
		out.CacheNodes = []*ecapi.CacheNode{cn}
	}
	return out
}

// engineFull is the engine version a cache cluster reports (7.1.0).
func engineFull(v string) string {
	if strings.Count(v, ".") == 1 {
		return v + ".0"
	}
	return v
}

func (s *Service) describeClusters(ctx context.Context, in *ecapi.DescribeCacheClustersMessage) (*ecapi.CacheClusterMessage, error) {
	sc := scopeOf(ctx)
	info := in.ShowCacheNodeInfo != nil && *in.ShowCacheNodeInfo
	var all []*ecapi.CacheCluster
	err := s.store.View(func(tx *store.Tx) error {
		if id := deref(in.CacheClusterId); id != "" {
			if c, ok, err := store.Get[cacheCluster](tx, sc.key(kindCacheCluster, strings.ToLower(id))); err != nil || ok {
				if ok {
					all = append(all, sc.memcachedOut(c, info))
				}
				return err
			}
			rg, n, err := findCluster(tx, sc, id)
			if err == nil {
				all = append(all, sc.clusterOut(rg, n, info))
			}
			return err
		}
		cs, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
		if err != nil {
			return err
		}
		for _, c := range cs {
			all = append(all, sc.memcachedOut(c, info))
		}
		if in.ShowCacheClustersNotInReplicationGroups != nil && *in.ShowCacheClustersNotInReplicationGroups {
			return nil
		}
		rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
		for _, rg := range rgs {
			for _, n := range rg.Nodes {
				all = append(all, sc.clusterOut(rg, n, info))
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.CacheClusterMessage{CacheClusters: out, Marker: next}, err
}
