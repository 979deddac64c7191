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

// ModifyReplicationGroup: the description, the snapshot window and the
// security groups change at once (the nodes' interfaces get the groups,
// which the data plane enforces); automatic failover, Multi-AZ and a new
// primary (PrimaryClusterId) put the group in modifying for modifyTime,
// shown in PendingModifiedValues, and then apply: a new primary is a
// failover to the named node, its name moving and the nodes following it.
// These apply whatever ApplyImmediately says, as on AWS, where it only
// defers node changes (node type, engine version), which are not done.

// modifyTime is how long (virtual) a role or failover-setting change keeps
// a group modifying.
const modifyTime = 10 * time.Second

// rgPending is a modification under way, applied at ApplyAt.
type rgPending struct {
	AutoFailover *bool  `json:",omitempty"`
	MultiAZ      *bool  `json:",omitempty"`
	Primary      string `json:",omitempty"`
	ApplyAt      time.Time
}

// unsupportedRGChange names the first parameter of a modification that is
// not implemented, "" when there is none.
func unsupportedRGChange(in *ecapi.ModifyReplicationGroupMessage, rg *replicationGroup) string {
	switch {
	case in.EngineVersion != nil && strings.TrimSuffix(*in.EngineVersion, ".0") != rg.EngineVersion:
		return "EngineVersion (an engine upgrade)"
	case in.AuthToken != nil || in.AuthTokenUpdateStrategy != nil:
		return "AuthToken (rotating the AUTH token)"
	case in.TransitEncryptionEnabled != nil || in.TransitEncryptionMode != nil:
		return "TransitEncryptionEnabled (turning in-transit encryption on or off)"
	case in.ClusterMode != nil && *in.ClusterMode != *onOff(rg.ClusterMode):
		return "ClusterMode"
	case len(in.UserGroupIdsToAdd) > 0 || len(in.UserGroupIdsToRemove) > 0 || in.RemoveUserGroups != nil:
		return "user groups (RBAC)"
	case len(in.LogDeliveryConfigurations) > 0:
		return "LogDeliveryConfigurations"
	case in.NotificationTopicArn != nil || in.NotificationTopicStatus != nil:
		return "notifications to SNS"
	case in.SnapshottingClusterId != nil:
		return "SnapshottingClusterId"
	case in.PreferredMaintenanceWindow != nil:
		return "PreferredMaintenanceWindow"
	case in.AutoMinorVersionUpgrade != nil && !*in.AutoMinorVersionUpgrade:
		return "AutoMinorVersionUpgrade false"
	case in.IpDiscovery != nil && *in.IpDiscovery != "ipv4":
		return "IpDiscovery ipv6"
	case len(in.CacheSecurityGroupNames) > 0:
		return "CacheSecurityGroupNames (EC2-Classic)"
	case rg.ClusterMode:
		return unsupportedClusterModeChange(in)
	}
	return ""
}

func (s *Service) modifyRG(ctx context.Context, in *ecapi.ModifyReplicationGroupMessage) (*ecapi.ModifyReplicationGroupResult, error) {
	sc := scopeOf(ctx)
	var window string
	if in.SnapshotWindow != nil {
		var err error
		if window, err = checkSnapshotWindow(*in.SnapshotWindow); err != nil {
			return nil, err
		}
	}
	if in.SnapshotRetentionLimit != nil && *in.SnapshotRetentionLimit < 0 {
		return nil, invalidValue("Invalid value for SnapshotRetentionLimit: %d. It must be 0 or greater.", *in.SnapshotRetentionLimit)
	}
	var rg *replicationGroup
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if rg, err = modifiable(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if what := unsupportedRGChange(in, rg); what != "" {
			return api.NotImplemented("ElastiCache", "ModifyReplicationGroup of "+what)
		}
		now := s.now()
		pending, err := checkFailoverSettings(in, rg)
		if err != nil {
			return err
		}
		if id := strings.ToLower(deref(in.PrimaryClusterId)); id != "" {
			i := slices.IndexFunc(rg.Nodes, func(n *node) bool { return n.Cluster == id })
			if i < 0 {
				return api.NewError(404, "CacheClusterNotFound", "CacheCluster not found: %s", deref(in.PrimaryClusterId))
			}
			af := rg.AutoFailover
			if pending.AutoFailover != nil {
				af = *pending.AutoFailover
			}
			if af {
				return api.Errorf("InvalidReplicationGroupState", "Cannot manually promote a new master cache cluster while autofailover is enabled")
			}
			if rg.Nodes[i].Role != "primary" {
				pending.Primary = id
			}
		}
		if len(in.SecurityGroupIds) > 0 {
			groups, err := securityGroups(tx, sc, rg.VPC, in.SecurityGroupIds)
			if err != nil {
				return err
			}
			for _, n := range rg.Nodes {
				if err := ec2.SetServiceENIGroups(tx, sc.account, sc.region, n.ENI, groups); err != nil {
					return err
				}
			}
			rg.SecurityGroups = groups
		}
		if in.ReplicationGroupDescription != nil {
			rg.Description = *in.ReplicationGroupDescription
		}
		if window != "" {
			rg.SnapshotWindow = window
		}
		if in.SnapshotRetentionLimit != nil {
			if rg.RetentionLimit == 0 {
				// Turned on: the first is due at the next window.
				rg.AutoFrom = now
			}
			rg.RetentionLimit = *in.SnapshotRetentionLimit
		}
		if err := s.targetChange(tx, sc, rg, in, now); err != nil {
			return err
		}
		if pending.AutoFailover != nil || pending.MultiAZ != nil || pending.Primary != "" {
			pending.ApplyAt = now.Add(modifyTime)
			rg.Pending, rg.Status = &pending, "modifying"
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: replication group modified", "id", rg.ID, "status", rg.Status)
	return &ecapi.ModifyReplicationGroupResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

// targetChange takes a node type or parameter group change: the nodes
// are replaced now with ApplyImmediately (which also starts a change left
// for the maintenance window), else at the window's next start.
func (s *Service) targetChange(tx *store.Tx, sc scope, rg *replicationGroup, in *ecapi.ModifyReplicationGroupMessage, now time.Time) error {
	t := rgTarget{NodeType: rg.NodeType, ParamGroup: rg.ParamGroup, ApplyAt: nextMaintenance(now)}
	if rg.Target != nil {
		t = *rg.Target
	}
	if nt := deref(in.CacheNodeType); nt != "" {
		if _, ok := nodeTypes[nt]; !ok {
			return invalidValue("Invalid CacheNodeType: %s", nt)
		}
		t.NodeType = nt
	}
	if name := deref(in.CacheParameterGroupName); name != "" {
		pg, err := loadParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		family := familyOf(rg.EngineVersion)
		if pg.Family != family {
			return invalidCombination("The parameter group family %s of %s does not match the engine family %s.", pg.Family, pg.Name, family)
		}
		if pg.clusterEnabled() != rg.ClusterMode {
			return invalidCombination("The parameter cluster-enabled has a different value in the requested parameter group than the current parameter group. This parameter value cannot be changed for a cache cluster")
		}
		t.ParamGroup = pg.Name
	}
	if t.NodeType != rg.NodeType || t.ParamGroup != rg.ParamGroup {
		rg.Target = &t
	}
	if rg.Target != nil && in.ApplyImmediately != nil && *in.ApplyImmediately {
		rg.Target.ApplyAt = now
		return startReplacements(tx, sc, rg, now)
	}
	return nil
}

// checkFailoverSettings checks a change of automatic failover and Multi-AZ
// against the group (the values it will have) and returns what changes.
func checkFailoverSettings(in *ecapi.ModifyReplicationGroupMessage, rg *replicationGroup) (rgPending, error) {
	var p rgPending
	af, maz := rg.AutoFailover, rg.MultiAZ
	if in.AutomaticFailoverEnabled != nil {
		af = *in.AutomaticFailoverEnabled
	}
	if in.MultiAZEnabled != nil {
		maz = *in.MultiAZEnabled
	}
	if af && !rg.AutoFailover && len(rg.replicas()) == 0 {
		return p, api.Errorf("InvalidReplicationGroupState", "Replication group must have at least one read replica to enable autofailover.")
	}
	if maz && !af {
		return p, invalidCombination("Multi-AZ is only supported with automatic failover enabled.")
	}
	if af != rg.AutoFailover {
		p.AutoFailover = boolp(af)
	}
	if maz != rg.MultiAZ {
		p.MultiAZ = boolp(maz)
	}
	return p, nil
}

// checkSnapshotWindow checks a daily window, hh24:mi-hh24:mi in UTC of at
// least 60 minutes (it may wrap past midnight), and returns it.
func checkSnapshotWindow(w string) (string, error) {
	bad := invalidValue("Invalid snapshot window: %s. Specify the window as hh24:mi-hh24:mi in UTC, at least 60 minutes long.", w)
	from, to, ok := strings.Cut(w, "-")
	if !ok {
		return "", bad
	}
	a, okA := minuteOfDay(from)
	b, okB := minuteOfDay(to)
	if !okA || !okB {
		return "", bad
	}
	if (b-a+24*60)%(24*60) < 60 {
		return "", bad
	}
	return w, nil
}

// minuteOfDay reads hh:mi (two digits each) as minutes after midnight.
func minuteOfDay(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	var h, m int
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, false
	}
	for _, c := range s[:2] + s[3:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// applyPending applies a group's pending modification once it is due.
func applyPending(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	p := rg.Pending
	if p.AutoFailover != nil {
		rg.AutoFailover = *p.AutoFailover
	}
	if p.MultiAZ != nil {
		rg.MultiAZ = *p.MultiAZ
	}
	if p.Primary != "" {
		i := slices.IndexFunc(rg.Nodes, func(n *node) bool { return n.Cluster == p.Primary })
		if old := rg.primary(); i >= 0 && old != nil && rg.Nodes[i] != old {
			if err := promote(tx, sc, rg, old, rg.Nodes[i], now); err != nil {
				return err
			}
		}
	}
	rg.Pending = nil
	return settle(tx, sc, rg, now)
}

func (rg *replicationGroup) pendingOut() *ecapi.ReplicationGroupPendingModifiedValues {
	out := &ecapi.ReplicationGroupPendingModifiedValues{}
	if p := rg.Pending; p != nil {
		if p.AutoFailover != nil {
			out.AutomaticFailoverStatus = map[bool]*string{true: str("enabled"), false: str("disabled")}[*p.AutoFailover]
		}
		if p.Primary != "" {
			out.PrimaryClusterId = str(p.Primary)
		}
	}
	return out
}
