package rds

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Read replicas: an instance whose node starts as a copy of its source's
// primary and replicates it asynchronously (MariaDB's GTID replication,
// PostgreSQL's streaming replication as a hot standby), read only, in the
// source's region or another one. The node follows a name of its own
// (Follow) that the source's scope publishes in the replica's VPC at the
// source's primary address, so a failover of the source re-points it. Promotion points that name at the replica itself
// and restarts it: its node stops replicating and turns writable. Across
// regions the replica reaches its source along the VPCs' routes (a
// peering); replication is the service's own traffic, so it passes the
// security groups (the nodes share the source's Cluster).

// cluster is the name shared by the interfaces of the nodes that
// replicate each other.
func (r *instanceRecord) cluster() string {
	if r.Cluster != "" {
		return r.Cluster
	}
	return r.ID
}

// followName is the name the instance's nodes follow to their primary.
func (r *instanceRecord) followName() string {
	if r.Follow != "" {
		return r.Follow
	}
	return r.Endpoint
}

// sourceOf reads a replica request's SourceDBInstanceIdentifier: an
// identifier in the caller's region or an instance's ARN.
func sourceOf(sc scope, s string) (scope, string, error) {
	if !strings.HasPrefix(s, "arn:") {
		return sc, strings.ToLower(s), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 7 || parts[1] != "aws" || parts[2] != "rds" || parts[5] != "db" || parts[3] == "" || parts[6] == "" {
		return scope{}, "", invalidValue("The parameter SourceDBInstanceIdentifier is not a valid identifier: %s", s)
	}
	if parts[4] != sc.account {
		return scope{}, "", fault("DBInstanceNotFound", "DBInstance %s not found.", s)
	}
	return scope{account: parts[4], region: parts[3]}, strings.ToLower(parts[6]), nil
}

// refTo is how DescribeDBInstances names an instance seen from sc: its
// identifier in the same region, its ARN in another.
func refTo(sc scope, ref instanceRef) string {
	if ref.Region == sc.region && ref.Account == sc.account {
		return ref.ID
	}
	return scope{account: ref.Account, region: ref.Region}.arn("db", ref.ID)
}

func (s *Service) CreateDBInstanceReadReplica(ctx context.Context, in *rdsapi.CreateDBInstanceReadReplicaMessage) (*rdsapi.CreateDBInstanceReadReplicaResult, error) {
	sc := scopeOf(ctx)
	id := strings.ToLower(deref(in.DBInstanceIdentifier))
	if !validIdentifier(id, 63) {
		return nil, notAnIdentifier("DBInstanceIdentifier")
	}
	if deref(in.SourceDBInstanceIdentifier) == "" {
		return nil, invalidValue("The parameter SourceDBInstanceIdentifier must be provided and must not be blank.")
	}
	srcScope, srcID, err := sourceOf(sc, deref(in.SourceDBInstanceIdentifier))
	if err != nil {
		return nil, err
	}
	if deref(in.MultiAZ) {
		return nil, notImplemented("A Multi-AZ read replica")
	}
	cross := srcScope != sc
	if in.Port != nil && (*in.Port < 1150 || *in.Port > 65535) {
		return nil, invalidValue("Invalid port %d: the port must be between 1150 and 65535.", *in.Port)
	}
	now := s.now()
	r := &instanceRecord{ID: id, Public: deref(in.PubliclyAccessible), DeletionProtection: deref(in.DeletionProtection), Tags: toTags(in.Tags),
		ParamApply: "in-sync", Status: "creating", Created: now, StatusSince: now, ResourceID: "db-" + strings.ToUpper(randomLabel(26))}
	var class instanceClass
	err = s.store.Update(func(tx *store.Tx) error {
		src, err := loadInstance(tx, srcScope, srcID)
		if err != nil {
			return err
		}
		if src.Status != "available" {
			return notAvailable(src.ID)
		}
		if src.BackupRetention == 0 {
			return fault("InvalidDBInstanceState", "Automated backups are not enabled for this database instance. To enable automated backups, use ModifyDBInstance to set the backup retention period to a non-zero value.")
		}
		if ok, err := tx.Get(sc.key(kindInstance, id), &instanceRecord{}); err != nil {
			return err
		} else if ok {
			return fault("DBInstanceAlreadyExists", "DB instance already exists")
		}
		// The source's database, as RDS makes a replica: backups off, the
		// rest inherited unless asked otherwise.
		r.Engine, r.EngineVersion, r.Class, r.AllocatedStorage = src.Engine, src.EngineVersion, src.Class, src.AllocatedStorage
		r.MasterUsername, r.Password, r.DBName, r.Port, r.ReplPassword = src.MasterUsername, src.Password, src.DBName, src.Port, src.ReplPassword
		r.Cluster = src.cluster()
		if c := deref(in.DBInstanceClass); c != "" {
			r.Class = c
		}
		var ok bool
		if class, ok = findClass(r.Class); !ok {
			return invalidCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=general-public-license. For supported combinations of instance class and database engine version, see the documentation.", r.Class, r.Engine, r.EngineVersion)
		}
		if in.Port != nil {
			r.Port = int(*in.Port)
		}
		groupName := deref(in.DBSubnetGroupName)
		if groupName == "" && !cross {
			groupName = src.SubnetGroup
		}
		g, err := subnetGroupFor(tx, sc, groupName)
		if err != nil {
			return err
		}
		r.SubnetGroup, r.VPC = g.Name, g.VPC
		v, _ := findVersion(r.Engine, r.EngineVersion)
		r.ParameterGroup = "default." + v.Family
		if !cross {
			r.ParameterGroup = src.ParameterGroup
		}
		if n := deref(in.DBParameterGroupName); n != "" {
			pg, err := loadParamGroup(tx, sc, n)
			if err != nil {
				return err
			}
			if pg.Family != v.Family {
				return invalidCombination("The parameter group %s with DBParameterGroupFamily %s cannot be used for this instance. Please use a Parameter Group with DBParameterGroupFamily %s", pg.Name, pg.Family, v.Family)
			}
			r.ParameterGroup = pg.Name
		}
		if err := r.placeIn(tx, sc, g, deref(in.AvailabilityZone)); err != nil {
			return err
		}
		groups := in.VpcSecurityGroupIds
		if len(groups) == 0 && !cross && g.VPC == src.VPC {
			groups = ptrs(src.SecurityGroups)
		}
		if r.SecurityGroups, err = checkGroups(tx, sc, r.VPC, groups); err != nil {
			return err
		}
		label, err := endpointLabel(tx, sc)
		if err != nil {
			return err
		}
		r.Endpoint = r.ID + "." + label + "." + sc.region + ".rds.amazonaws.com"
		r.Follow = "source." + r.Endpoint
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: r.Subnet, Groups: r.SecurityGroups,
			Description: "RDSNetworkInterface", InterfaceType: "interface", Public: r.Public, Owner: "rds", Cluster: r.Cluster})
		if err != nil {
			return err
		}
		r.ENI, r.PrivateIP, r.PublicIP = eni.ID, eni.PrivateIP, eni.PublicIP
		r.Source = &instanceRef{Account: srcScope.account, Region: srcScope.region, ID: src.ID}
		src.Replicas = append(src.Replicas, instanceRef{Account: sc.account, Region: sc.region, ID: r.ID, VPC: r.VPC, Follow: r.Follow, Addr: r.PrivateIP})
		if err := tx.Put(srcScope.key(kindInstance, src.ID), src); err != nil {
			return err
		}
		return tx.Put(sc.key(kindInstance, r.ID), r)
	})
	if err != nil {
		return nil, err
	}
	if r.Engine == "postgres" {
		go s.admitReplica(srcScope, srcID, r.PrivateIP)
	}
	s.log.Info("rds: creating a read replica", "account", sc.account, "region", sc.region, "id", r.ID, "source", deref(in.SourceDBInstanceIdentifier),
		"class", r.Class, "vcpus", class.VCPUs, "memory_mib", class.MemoryMiB, "ip", r.PrivateIP)
	var out *rdsapi.DBInstance
	err = s.store.View(func(tx *store.Tx) (err error) {
		out, err = describe(tx, sc, r)
		return err
	})
	return &rdsapi.CreateDBInstanceReadReplicaResult{DBInstance: out}, err
}

func (s *Service) PromoteReadReplica(ctx context.Context, in *rdsapi.PromoteReadReplicaMessage) (*rdsapi.PromoteReadReplicaResult, error) {
	if in.BackupRetentionPeriod != nil && (*in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35) {
		return nil, invalidValue("Invalid backup retention period %d: it must be between 0 and 35 days.", *in.BackupRetentionPeriod)
	}
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.Source == nil {
			return fault("InvalidDBInstanceState", "DB Instance is not a read replica.")
		}
		if r.Status != "available" {
			return notAvailable(r.ID)
		}
		if err := forgetReplica(tx, *r.Source, r.ID); err != nil {
			return err
		}
		r.Source = nil
		r.BackupRetention = 1
		if in.BackupRetentionPeriod != nil {
			r.BackupRetention = int(*in.BackupRetentionPeriod)
		}
		r.Promoting = true
		r.setStatus("modifying", s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.PromoteReadReplicaResult{DBInstance: out}, nil
}

// orphanReplicas is what a deleted source's replicas become: those in its
// region are promoted to standalone instances, as RDS does; those in
// other regions stay replicas whose replication has ended, until promoted.
func (s *Service) orphanReplicas(tx *store.Tx, sc scope, src *instanceRecord, now time.Time) error {
	for _, ref := range src.Replicas {
		if ref.Account != sc.account || ref.Region != sc.region {
			continue
		}
		r, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, ref.ID))
		if err != nil {
			return err
		}
		if !ok || r.Status != "available" {
			continue
		}
		r.Source, r.Promoting, r.BackupRetention = nil, true, 1
		s.log.Info("rds: promoting a replica whose source was deleted", "id", r.ID, "source", src.ID)
		if err := s.move(tx, sc, r, "modifying", now); err != nil {
			return err
		}
	}
	return nil
}

// forgetReplica drops a replica from its source's list (a source already
// deleted has none).
func forgetReplica(tx *store.Tx, src instanceRef, id string) error {
	ss := scope{account: src.Account, region: src.Region}
	r, ok, err := store.Get[instanceRecord](tx, ss.key(kindInstance, src.ID))
	if err != nil || !ok {
		return err
	}
	r.Replicas = slices.DeleteFunc(r.Replicas, func(ref instanceRef) bool { return ref.ID == id && ref.Region == src.Region })
	return tx.Put(ss.key(kindInstance, r.ID), r)
}

// describeReplication adds an instance's replication to its description.
func describeReplication(tx *store.Tx, sc scope, r *instanceRecord, out *rdsapi.DBInstance) error {
	for _, ref := range r.Replicas {
		out.ReadReplicaDBInstanceIdentifiers = append(out.ReadReplicaDBInstanceIdentifiers, ptr(refTo(sc, ref)))
	}
	if r.Source == nil {
		return nil
	}
	out.ReadReplicaSourceDBInstanceIdentifier = ptr(refTo(sc, *r.Source))
	ss := scope{account: r.Source.Account, region: r.Source.Region}
	ok, err := tx.Get(ss.key(kindInstance, r.Source.ID), &instanceRecord{})
	if err != nil {
		return err
	}
	info := &rdsapi.DBInstanceStatusInfo{StatusType: ptr("read replication"), Status: ptr("replicating"), Normal: ptr(true)}
	if !ok {
		info.Status, info.Normal = ptr("terminated"), ptr(false)
	}
	out.StatusInfos = []*rdsapi.DBInstanceStatusInfo{info}
	return nil
}

// replicaNames are the names a source publishes for its replicas' nodes
// to follow: each in its replica's VPC, at the source's primary.
func replicaNames(r *instanceRecord) []*desired.Name {
	var out []*desired.Name
	for _, ref := range r.Replicas {
		out = append(out, &desired.Name{Name: ref.Follow, VPCs: []string{ref.VPC}, Addrs: []netip.Addr{r.PrivateIP}})
	}
	return out
}

// admitReplica lets a postgres replica's node replicate its source: each
// of the source's running nodes gets a pg_hba.conf line for the replica's
// address and reloads it (nodes made later have it from their first boot,
// replNets). A node that cannot be reached yet is tried again, for as long
// as the replica could still be waiting to copy its source.
func (s *Service) admitReplica(sc scope, srcID string, addr netip.Addr) {
	line := "host replication rdsrepladmin " + netip.PrefixFrom(addr, addr.BitLen()).String() + " scram-sha-256"
	argv := []string{"sh", "-c", `f=/etc/postgresql/15/main/pg_hba.conf; grep -qxF "$1" "$f" || echo "$1" >> "$f"; ` +
		`! pg_ctlcluster 15 main status >/dev/null || pg_ctlcluster 15 main reload`, "sh", line}
	done := map[string]bool{}
	for try := 0; try < 120; try++ {
		if try > 0 {
			time.Sleep(5 * time.Second)
		}
		var slots []string
		err := s.store.View(func(tx *store.Tx) error {
			src, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, srcID))
			if err != nil || !ok {
				return err
			}
			slots = append(slots, primarySlot(src))
			if src.Standby != nil {
				slots = append(slots, src.Standby.Slot)
			}
			return nil
		})
		if err != nil {
			s.log.Warn("rds: admitting a replica", "source", srcID, "error", err)
			continue
		}
		pending := 0
		for _, sl := range slots {
			if done[sl] {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
			code, err := s.snaps.execer().ExecSlot(ctx, sl, argv, nil, nil)
			cancel()
			if errors.Is(err, desired.ErrNoDataPlane) {
				return // without a data plane no node runs
			}
			if err == nil && code == 0 {
				done[sl] = true
				continue
			}
			pending++
		}
		if pending == 0 {
			return
		}
	}
	s.log.Warn("rds: a source's node never admitted its replica", "source", srcID, "replica", addr)
}
