package rds

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

func loadInstance(tx *store.Tx, sc scope, id string) (*instanceRecord, error) {
	r, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, strings.ToLower(id)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	return r, nil
}

// notImplemented refuses an option cloudbox does not run yet, naming it.
func notImplemented(what string) error {
	return api.NewError(http.StatusNotImplemented, "NotImplemented", "%s is not implemented by cloudbox", what)
}

func (s *Service) CreateDBInstance(ctx context.Context, in *rdsapi.CreateDBInstanceMessage) (*rdsapi.CreateDBInstanceResult, error) {
	sc := scopeOf(ctx)
	r := &instanceRecord{
		ID: strings.ToLower(deref(in.DBInstanceIdentifier)), Engine: deref(in.Engine), Class: deref(in.DBInstanceClass),
		MasterUsername: deref(in.MasterUsername), Password: deref(in.MasterUserPassword), DBName: deref(in.DBName),
		Port: 3306, AllocatedStorage: int(deref(in.AllocatedStorage)), BackupRetention: 1,
		DeletionProtection: deref(in.DeletionProtection), Public: deref(in.PubliclyAccessible), Tags: toTags(in.Tags),
		ParamApply: "in-sync", Status: "creating",
	}
	if spec := restoreOf(ctx); spec != nil {
		r.Restore, r.RestoreFile = spec.snapshot, spec.file
		r.RestoreSource, r.RestoreTo, r.Replay, r.ReplayStop = spec.source, spec.to, spec.replay, spec.stop
	}
	if !validIdentifier(r.ID, 63) {
		return nil, notAnIdentifier("DBInstanceIdentifier")
	}
	if engineDescriptions[r.Engine] == "" {
		return nil, invalidValue("Invalid DB engine")
	}
	v, ok := findVersion(r.Engine, deref(in.EngineVersion))
	if !ok {
		return nil, invalidCombination("Cannot find version %s for %s", deref(in.EngineVersion), r.Engine)
	}
	r.EngineVersion = v.Version
	class, ok := findClass(r.Class)
	if !ok {
		return nil, invalidCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=general-public-license. For supported combinations of instance class and database engine version, see the documentation.", r.Class, r.Engine, r.EngineVersion)
	}
	checkUser, checkDB, maxPassword := checkMasterUsername, checkDBName, 41
	if r.Engine == "postgres" {
		checkUser, checkDB, maxPassword, r.Port = checkPgMasterUsername, checkPgDBName, 128, 5432
	}
	if err := checkUser(r.MasterUsername); err != nil {
		return nil, err
	}
	if deref(in.ManageMasterUserPassword) {
		return nil, notImplemented("ManageMasterUserPassword (a password kept in Secrets Manager)")
	}
	if err := checkPasswordOf(r.Password, maxPassword); err != nil {
		return nil, err
	}
	if r.DBName != "" {
		if err := checkDB(r.DBName); err != nil {
			return nil, err
		}
	}
	if in.AllocatedStorage == nil {
		return nil, invalidValue("The parameter AllocatedStorage must be provided and must not be blank.")
	}
	if r.AllocatedStorage < 20 || r.AllocatedStorage > 6144 {
		return nil, invalidValue("Invalid storage size for engine name %s and storage type gp2: %d", r.Engine, r.AllocatedStorage)
	}
	if in.Port != nil {
		if *in.Port < 1150 || *in.Port > 65535 {
			return nil, invalidValue("Invalid port %d: the port must be between 1150 and 65535.", *in.Port)
		}
		r.Port = int(*in.Port)
	}
	if in.BackupRetentionPeriod != nil {
		if *in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35 {
			return nil, invalidValue("Invalid backup retention period %d: it must be between 0 and 35 days.", *in.BackupRetentionPeriod)
		}
		r.BackupRetention = int(*in.BackupRetentionPeriod)
	}
	multiAZ := deref(in.MultiAZ)
	if multiAZ && deref(in.AvailabilityZone) != "" {
		return nil, invalidCombination("Requesting a specific availability zone is not valid for Multi-AZ instances.")
	}
	now := s.now()
	r.Created, r.StatusSince = now, now
	r.ResourceID = "db-" + strings.ToUpper(randomLabel(26))
	r.ReplPassword = randomLabel(32)
	err := s.store.Update(func(tx *store.Tx) error {
		if ok, err := tx.Get(sc.key(kindInstance, r.ID), &instanceRecord{}); err != nil {
			return err
		} else if ok {
			return fault("DBInstanceAlreadyExists", "DB instance already exists")
		}
		g, err := subnetGroupFor(tx, sc, deref(in.DBSubnetGroupName))
		if err != nil {
			return err
		}
		r.SubnetGroup, r.VPC = g.Name, g.VPC
		if in.PubliclyAccessible == nil {
			if r.Public, err = ec2.HasInternetGateway(tx, sc.account, sc.region, g.VPC); err != nil {
				return err
			}
		}
		pg, err := loadParamGroup(tx, sc, "default."+v.Family)
		if n := deref(in.DBParameterGroupName); n != "" {
			pg, err = loadParamGroup(tx, sc, n)
		}
		if err != nil {
			return err
		}
		if pg.Family != v.Family {
			return invalidCombination("The parameter group %s with DBParameterGroupFamily %s cannot be used for this instance. Please use a Parameter Group with DBParameterGroupFamily %s", pg.Name, pg.Family, v.Family)
		}
		r.ParameterGroup = pg.Name
		if r.OptionGroup, err = optionGroupFor(tx, sc, deref(in.OptionGroupName), r.Engine, r.EngineVersion); err != nil {
			return err
		}
		if err := r.placeIn(tx, sc, g, deref(in.AvailabilityZone)); err != nil {
			return err
		}
		if r.SecurityGroups, err = checkGroups(tx, sc, r.VPC, in.VpcSecurityGroupIds); err != nil {
			return err
		}
		label, err := endpointLabel(tx, sc)
		if err != nil {
			return err
		}
		r.Endpoint = r.ID + "." + label + "." + sc.region + ".rds.amazonaws.com"
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: r.Subnet, Groups: r.SecurityGroups,
			Description: "RDSNetworkInterface", InterfaceType: "interface", Public: r.Public, Owner: "rds", Cluster: r.cluster()})
		if err != nil {
			return err
		}
		r.ENI, r.PrivateIP, r.PublicIP = eni.ID, eni.PrivateIP, eni.PublicIP
		if multiAZ {
			if err := r.addStandby(tx, sc, g); err != nil {
				return err
			}
		}
		return tx.Put(sc.key(kindInstance, r.ID), r)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("rds: creating a DB instance", "account", sc.account, "region", sc.region, "id", r.ID, "class", r.Class,
		"vcpus", class.VCPUs, "memory_mib", class.MemoryMiB, "ip", r.PrivateIP)
	var out *rdsapi.DBInstance
	err = s.store.View(func(tx *store.Tx) (err error) {
		out, err = describe(tx, sc, r)
		return err
	})
	return &rdsapi.CreateDBInstanceResult{DBInstance: out}, err
}

// placeIn chooses the node's subnet: the group's subnet in the zone asked
// for, or the first of the group's.
func (r *instanceRecord) placeIn(tx *store.Tx, sc scope, g *subnetGroupRecord, az string) error {
	for _, sn := range g.Subnets {
		if az == "" || sn.AZ == az {
			r.Subnet, r.AZ = sn.ID, sn.AZ
			return nil
		}
	}
	return invalidCombination("No subnets found for the DB subnet group %s in availability zone %s.", g.Name, az)
}

// checkGroups returns the VPC security groups named (each in the VPC),
// or the VPC's default group when none is.
func checkGroups(tx *store.Tx, sc scope, vpc string, ids []*string) ([]string, error) {
	if len(ids) == 0 {
		def, err := ec2.DefaultSecurityGroup(tx, sc.account, sc.region, vpc)
		return []string{def}, err
	}
	var out []string
	for _, p := range ids {
		id := deref(p)
		gv, ok, err := ec2.SecurityGroupVPC(tx, sc.account, sc.region, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalidValue("Invalid security group , groupId= %s, groupName=.", id)
		}
		if gv != vpc {
			return nil, invalidCombination("The DB instance and EC2 security group are in different VPCs. The DB instance is in %s and the EC2 security group is in %s", vpc, gv)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// describe is a DB instance as DescribeDBInstances shows it.
func describe(tx *store.Tx, sc scope, r *instanceRecord) (*rdsapi.DBInstance, error) {
	out := &rdsapi.DBInstance{
		DBInstanceIdentifier: ptr(r.ID), DBInstanceArn: ptr(sc.arn("db", r.ID)), DbiResourceId: ptr(r.ResourceID),
		DBInstanceClass: ptr(r.Class), Engine: ptr(r.Engine), EngineVersion: ptr(r.EngineVersion), DBInstanceStatus: ptr(r.Status),
		MasterUsername: ptr(r.MasterUsername), AllocatedStorage: ptr(int64(r.AllocatedStorage)), InstanceCreateTime: ptr(r.Created),
		AvailabilityZone: ptr(r.AZ), BackupRetentionPeriod: ptr(int64(r.BackupRetention)), DeletionProtection: ptr(r.DeletionProtection),
		PubliclyAccessible: ptr(r.Public), MultiAZ: ptr(r.Standby != nil), StorageType: ptr("gp2"), StorageEncrypted: ptr(false),
		LicenseModel: ptr("general-public-license"), AutoMinorVersionUpgrade: ptr(true), CopyTagsToSnapshot: ptr(false),
		PreferredBackupWindow: ptr("17:00-17:30"), PreferredMaintenanceWindow: ptr("sun:18:00-sun:18:30"),
		DbInstancePort: ptr(int64(0)), CACertificateIdentifier: ptr("rds-ca-rsa2048-g1"), NetworkType: ptr("IPV4"),
		IAMDatabaseAuthenticationEnabled: ptr(false), PerformanceInsightsEnabled: ptr(false), MonitoringInterval: ptr(int64(0)),
		DBParameterGroups:      []*rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(r.ParameterGroup), ParameterApplyStatus: ptr(r.ParamApply)}},
		OptionGroupMemberships: []*rdsapi.OptionGroupMembership{{OptionGroupName: ptr(cmp.Or(r.OptionGroup, "default:"+r.Engine+"-"+majorOf(r))), Status: ptr("in-sync")}},
		DBSecurityGroups:       []*rdsapi.DBSecurityGroupMembership{}, ReadReplicaDBInstanceIdentifiers: []*string{},
		PendingModifiedValues: &rdsapi.PendingModifiedValues{}, TagList: apiTags(r.Tags),
	}
	if r.DBName != "" {
		out.DBName = ptr(r.DBName)
	}
	if r.Standby != nil {
		out.SecondaryAvailabilityZone = ptr(r.Standby.AZ)
	}
	if err := describeReplication(tx, sc, r, out); err != nil {
		return nil, err
	}
	if r.PendingClass != "" && r.Status != "modifying" {
		out.PendingModifiedValues.DBInstanceClass = ptr(r.PendingClass)
	}
	// The endpoint is given once the node has an address, as on AWS.
	if r.Status != "creating" {
		out.Endpoint = &rdsapi.Endpoint{Address: ptr(r.Endpoint), Port: ptr(int64(r.Port)), HostedZoneId: ptr(hostedZoneID(sc.region))}
	}
	for _, g := range r.SecurityGroups {
		out.VpcSecurityGroups = append(out.VpcSecurityGroups, &rdsapi.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(g), Status: ptr("active")})
	}
	if g, ok, err := store.Get[subnetGroupRecord](tx, sc.key(kindSubnetGroup, r.SubnetGroup)); err != nil {
		return nil, err
	} else if ok {
		out.DBSubnetGroup = g.api(sc)
		out.DBSubnetGroup.DBSubnetGroupArn = nil // AWS leaves it out here
	}
	if r.BackupRetention > 0 && r.Status != "creating" {
		latest, ok, err := latestRestorable(tx, sc, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out.LatestRestorableTime = ptr(latest)
		}
	}
	return out, nil
}

func majorOf(r *instanceRecord) string {
	v, _ := findVersion(r.Engine, r.EngineVersion)
	return strings.ReplaceAll(strings.TrimPrefix(v.Family, r.Engine), ".", "-")
}

// hostedZoneID is the Route 53 zone of RDS's endpoints in a region (AWS's
// ids where known).
func hostedZoneID(region string) string {
	if id, ok := map[string]string{"us-east-1": "Z2R2ITUGPM61AM", "ap-northeast-2": "Z1J2SV9GWFRFX4", "eu-west-1": "Z29XKXDKYMONMX",
		"us-west-2": "Z1PVIF0B656C1W"}[region]; ok {
		return id
	}
	return "Z2R2ITUGPM61AM"
}

func (s *Service) DescribeDBInstances(ctx context.Context, in *rdsapi.DescribeDBInstancesMessage) (*rdsapi.DBInstanceMessage, error) {
	sc := scopeOf(ctx)
	out := &rdsapi.DBInstanceMessage{DBInstances: []*rdsapi.DBInstance{}}
	err := s.store.View(func(tx *store.Tx) error {
		var list []*instanceRecord
		if id := deref(in.DBInstanceIdentifier); id != "" {
			r, err := loadInstance(tx, sc, id)
			if err != nil {
				return err
			}
			list = []*instanceRecord{r}
		} else {
			var err error
			if list, err = store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance); err != nil {
				return err
			}
		}
		list = slices.DeleteFunc(list, func(r *instanceRecord) bool { return !matches(sc, r, in.Filters) })
		list, next, err := page(list, func(r *instanceRecord) string { return r.ID }, in.Marker, in.MaxRecords)
		if err != nil {
			return err
		}
		out.Marker = next
		for _, r := range list {
			d, err := describe(tx, sc, r)
			if err != nil {
				return err
			}
			out.DBInstances = append(out.DBInstances, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// matches applies DescribeDBInstances' filters (db-instance-id takes
// identifiers or ARNs).
func matches(sc scope, r *instanceRecord, filters []*rdsapi.Filter) bool {
	for _, f := range filters {
		var have []string
		switch deref(f.Name) {
		case "db-instance-id":
			have = []string{r.ID, sc.arn("db", r.ID)}
		case "dbi-resource-id":
			have = []string{r.ResourceID}
		case "engine":
			have = []string{r.Engine}
		case "db-subnet-group-name":
			have = []string{r.SubnetGroup}
		default:
			continue
		}
		if !slices.ContainsFunc(f.Values, func(v *string) bool { return slices.Contains(have, deref(v)) }) {
			return false
		}
	}
	return true
}

// transition changes an instance in one transaction: check may refuse it.
func (s *Service) transition(ctx context.Context, id string, change func(tx *store.Tx, sc scope, r *instanceRecord) error) (*rdsapi.DBInstance, error) {
	sc := scopeOf(ctx)
	var out *rdsapi.DBInstance
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadInstance(tx, sc, id)
		if err != nil {
			return err
		}
		if err := change(tx, sc, r); err != nil {
			return err
		}
		if err := tx.Put(sc.key(kindInstance, r.ID), r); err != nil {
			return err
		}
		out, err = describe(tx, sc, r)
		return err
	})
	return out, err
}

func (r *instanceRecord) setStatus(status string, at time.Time) {
	r.Status, r.StatusSince, r.Down = status, at, false
}

func notAvailable(id string) error {
	return fault("InvalidDBInstanceState", "Instance %s is not in available state.", id)
}

func (s *Service) DeleteDBInstance(ctx context.Context, in *rdsapi.DeleteDBInstanceMessage) (*rdsapi.DeleteDBInstanceResult, error) {
	skip, final := deref(in.SkipFinalSnapshot), deref(in.FinalDBSnapshotIdentifier)
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.DeletionProtection {
			return invalidCombination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
		}
		switch {
		case !skip && final == "":
			return invalidCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		case skip && final != "":
			return invalidCombination("Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.")
		case final != "":
			if err := s.finalSnapshot(tx, sc, r, final); err != nil {
				return err
			}
		}
		if r.Status == "deleting" {
			return fault("InvalidDBInstanceState", "Instance %s is already being deleted.", r.ID)
		}
		if r.Source != nil {
			if err := forgetReplica(tx, *r.Source, r.ID); err != nil {
				return err
			}
		}
		if in.DeleteAutomatedBackups == nil || *in.DeleteAutomatedBackups {
			if err := s.dropAutomated(tx, sc, r); err != nil {
				return err
			}
		}
		r.setStatus("deleting", s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBInstanceResult{DBInstance: out}, nil
}

func (s *Service) StopDBInstance(ctx context.Context, in *rdsapi.StopDBInstanceMessage) (*rdsapi.StopDBInstanceResult, error) {
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.Status != "available" {
			return notAvailable(r.ID)
		}
		if id := deref(in.DBSnapshotIdentifier); id != "" {
			if err := s.finalSnapshot(tx, sc, r, id); err != nil {
				return err
			}
		}
		r.setStatus("stopping", s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StopDBInstanceResult{DBInstance: out}, nil
}

func (s *Service) StartDBInstance(ctx context.Context, in *rdsapi.StartDBInstanceMessage) (*rdsapi.StartDBInstanceResult, error) {
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.Status != "stopped" {
			return fault("InvalidDBInstanceState", "Instance %s is not stopped, it cannot be started.", r.ID)
		}
		r.setStatus("starting", s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StartDBInstanceResult{DBInstance: out}, nil
}

func (s *Service) RebootDBInstance(ctx context.Context, in *rdsapi.RebootDBInstanceMessage) (*rdsapi.RebootDBInstanceResult, error) {
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.Status != "available" {
			return notAvailable(r.ID)
		}
		now := s.now()
		r.setStatus("rebooting", now)
		if deref(in.ForceFailover) {
			if r.Standby == nil {
				return invalidCombination("Cannot force a failover for a DB instance that is not Multi-AZ.")
			}
			r.Failover = true
			return event(tx, sc, r.ID, now, msgFailoverStarted)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.RebootDBInstanceResult{DBInstance: out}, nil
}

func (s *Service) ModifyDBInstance(ctx context.Context, in *rdsapi.ModifyDBInstanceMessage) (*rdsapi.ModifyDBInstanceResult, error) {
	switch {
	case in.MasterUserPassword != nil:
		return nil, notImplemented("Changing MasterUserPassword")
	case in.DBParameterGroupName != nil:
		return nil, notImplemented("Changing DBParameterGroupName")
	case in.PubliclyAccessible != nil:
		return nil, notImplemented("Changing PubliclyAccessible")
	case in.AllocatedStorage != nil, in.EngineVersion != nil, in.DBPortNumber != nil, in.NewDBInstanceIdentifier != nil, in.DBSubnetGroupName != nil:
		return nil, notImplemented("Changing the storage, engine version, port, identifier or subnet group")
	}
	if in.BackupRetentionPeriod != nil && (*in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35) {
		return nil, invalidValue("Invalid backup retention period %d: it must be between 0 and 35 days.", *in.BackupRetentionPeriod)
	}
	class := deref(in.DBInstanceClass)
	out, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) error {
		if r.Status != "available" {
			return fault("InvalidDBInstanceState", "Database instance is not in available state.")
		}
		now := s.now()
		if in.MultiAZ != nil && *in.MultiAZ != (r.Standby != nil) {
			if !deref(in.ApplyImmediately) {
				return notImplemented("Changing Multi-AZ in the maintenance window (use --apply-immediately)")
			}
			if err := s.setMultiAZ(tx, sc, r, *in.MultiAZ, now); err != nil {
				return err
			}
		}
		if class != "" && class != r.Class {
			if _, ok := findClass(class); !ok {
				return invalidCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=general-public-license. For supported combinations of instance class and database engine version, see the documentation.", class, r.Engine, r.EngineVersion)
			}
			r.PendingClass = class
			if deref(in.ApplyImmediately) {
				r.setStatus("modifying", now)
				if err := event(tx, sc, r.ID, now, msgClassApplying); err != nil {
					return err
				}
			}
		}
		if in.VpcSecurityGroupIds != nil {
			groups, err := checkGroups(tx, sc, r.VPC, in.VpcSecurityGroupIds)
			if err != nil {
				return err
			}
			if err := ec2.SetServiceENIGroups(tx, sc.account, sc.region, r.ENI, groups); err != nil {
				return err
			}
			if r.Standby != nil {
				if err := ec2.SetServiceENIGroups(tx, sc.account, sc.region, r.Standby.ENI, groups); err != nil {
					return err
				}
			}
			r.SecurityGroups = groups
			if err := event(tx, sc, r.ID, now, msgSecurityGroups); err != nil {
				return err
			}
		}
		if in.DeletionProtection != nil {
			r.DeletionProtection = *in.DeletionProtection
		}
		if in.BackupRetentionPeriod != nil {
			r.BackupRetention = int(*in.BackupRetentionPeriod)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyDBInstanceResult{DBInstance: out}, nil
}
