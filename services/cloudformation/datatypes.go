package cloudformation

import (
	"fmt"
	"sort"
	"strconv"

	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
)

// RDS's and ElastiCache's resource types, made through their APIs.
func init() {
	register("AWS::RDS::DBSubnetGroup", &provider{Create: createDBSubnetGroup, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("rds", "DeleteDBSubnetGroup", &rdsapi.DeleteDBSubnetGroupMessage{DBSubnetGroupName: &s.Physical})
		return err
	}})
	register("AWS::RDS::DBParameterGroup", &provider{Create: createDBParameterGroup, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("rds", "DeleteDBParameterGroup", &rdsapi.DeleteDBParameterGroupMessage{DBParameterGroupName: &s.Physical})
		return err
	}})
	register("AWS::RDS::DBInstance", &provider{Create: createDBInstance, Delete: deleteDBInstance})
	register("AWS::ElastiCache::SubnetGroup", &provider{Create: createCacheSubnetGroup, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("elasticache", "DeleteCacheSubnetGroup", &ecapi.DeleteCacheSubnetGroupMessage{CacheSubnetGroupName: &s.Physical})
		return err
	}})
	register("AWS::ElastiCache::ReplicationGroup", &provider{Create: createReplicationGroup, Delete: deleteReplicationGroup})
}

func rdsTags(c *call, p props) []*rdsapi.Tag {
	var out []*rdsapi.Tag
	for _, t := range c.tags(p) {
		out = append(out, &rdsapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	return out
}

// A subnet group's Ref is its name (lower case, generated when the
// template gives none).
func createDBSubnetGroup(c *call, p props) (*state, error) {
	in := &rdsapi.CreateDBSubnetGroupMessage{}
	fill(in, p, map[string]string{"Tags": ""})
	if in.DBSubnetGroupName == nil {
		in.DBSubnetGroupName = str(c.physicalName(255, true))
	}
	in.Tags = rdsTags(c, p)
	if _, err := c.invoke("rds", "CreateDBSubnetGroup", in); err != nil {
		return nil, err
	}
	return &state{Physical: *in.DBSubnetGroupName}, nil
}

// A parameter group's Parameters are a map of names to values.
func createDBParameterGroup(c *call, p props) (*state, error) {
	in := &rdsapi.CreateDBParameterGroupMessage{DBParameterGroupFamily: p.strp("Family"), Description: p.strp("Description"),
		DBParameterGroupName: p.strp("DBParameterGroupName"), Tags: rdsTags(c, p)}
	if in.DBParameterGroupName == nil {
		in.DBParameterGroupName = str(c.physicalName(255, true))
	}
	if _, err := c.invoke("rds", "CreateDBParameterGroup", in); err != nil {
		return nil, err
	}
	st := &state{Physical: *in.DBParameterGroupName}
	params := p.sub("Parameters")
	if len(params) == 0 {
		return st, nil
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	mod := &rdsapi.ModifyDBParameterGroupMessage{DBParameterGroupName: in.DBParameterGroupName}
	for _, k := range names {
		mod.Parameters = append(mod.Parameters, &rdsapi.Parameter{ParameterName: str(k), ParameterValue: params.strp(k), ApplyMethod: str("pending-reboot")})
	}
	_, err := c.invoke("rds", "ModifyDBParameterGroup", mod)
	return st, err
}

// A DB instance's Ref is its identifier; it is complete once available.
func createDBInstance(c *call, p props) (*state, error) {
	renames := map[string]string{"Tags": "", "VpcSecurityGroupIds": "VPCSecurityGroups"}
	id := deref(p.strp("DBInstanceIdentifier"))
	if id == "" {
		id = c.physicalName(63, true)
	}
	// SourceDBInstanceIdentifier makes a read replica, DBSnapshotIdentifier
	// restores a snapshot; otherwise a new instance.
	var op string
	var in any
	switch {
	case p.strp("SourceDBInstanceIdentifier") != nil:
		r := &rdsapi.CreateDBInstanceReadReplicaMessage{}
		fill(r, p, renames)
		r.DBInstanceIdentifier, r.Tags, op, in = &id, rdsTags(c, p), "CreateDBInstanceReadReplica", r
	case p.strp("DBSnapshotIdentifier") != nil:
		r := &rdsapi.RestoreDBInstanceFromDBSnapshotMessage{}
		fill(r, p, renames)
		r.DBInstanceIdentifier, r.Tags, op, in = &id, rdsTags(c, p), "RestoreDBInstanceFromDBSnapshot", r
	default:
		r := &rdsapi.CreateDBInstanceMessage{}
		fill(r, p, renames)
		r.DBInstanceIdentifier, r.Tags, op, in = &id, rdsTags(c, p), "CreateDBInstance", r
	}
	if _, err := c.invoke("rds", op, in); err != nil {
		return nil, err
	}
	st := &state{Physical: id}
	var db *rdsapi.DBInstance
	err := c.wait("DB instance available", func() (bool, error) {
		out, err := c.invoke("rds", "DescribeDBInstances", &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: &id})
		if err != nil {
			return false, err
		}
		for _, d := range out.(*rdsapi.DBInstanceMessage).DBInstances {
			db = d
		}
		switch s := deref(db.DBInstanceStatus); s {
		case "available":
			return true, nil
		case "failed", "incompatible-parameters", "incompatible-network", "storage-full":
			return false, fmt.Errorf("DB instance %s is %s", id, s)
		}
		return false, nil
	})
	if err != nil {
		return st, err
	}
	st.Attrs = map[string]any{"DBInstanceArn": deref(db.DBInstanceArn), "DbiResourceId": deref(db.DbiResourceId)}
	if e := db.Endpoint; e != nil {
		st.Attrs["Endpoint.Address"] = deref(e.Address)
		st.Attrs["Endpoint.Port"] = strconv.FormatInt(derefInt(e.Port), 10)
		st.Attrs["Endpoint.HostedZoneId"] = deref(e.HostedZoneId)
	}
	return st, nil
}

// deleteDBInstance deletes the instance, with a final snapshot unless its
// DeletionPolicy is Delete (Snapshot is the type's default), and waits
// until it is gone.
func deleteDBInstance(c *call, s *state, _ props) error {
	in := &rdsapi.DeleteDBInstanceMessage{DBInstanceIdentifier: &s.Physical}
	if c.deletionPolicy == "Delete" {
		skip := true
		in.SkipFinalSnapshot = &skip
	} else {
		in.FinalDBSnapshotIdentifier = str(c.physicalName(255, true))
	}
	if _, err := c.invoke("rds", "DeleteDBInstance", in); err != nil {
		return err
	}
	return c.wait("DB instance deleted", func() (bool, error) {
		_, err := c.invoke("rds", "DescribeDBInstances", &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: &s.Physical})
		return gone(err), nilIfGone(err)
	})
}

func createCacheSubnetGroup(c *call, p props) (*state, error) {
	in := &ecapi.CreateCacheSubnetGroupMessage{CacheSubnetGroupName: p.strp("CacheSubnetGroupName"), CacheSubnetGroupDescription: p.strp("Description"),
		SubnetIds: p.strs("SubnetIds")}
	if in.CacheSubnetGroupName == nil {
		in.CacheSubnetGroupName = str(c.physicalName(255, true))
	}
	for _, t := range c.tags(p) {
		in.Tags = append(in.Tags, &ecapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	if _, err := c.invoke("elasticache", "CreateCacheSubnetGroup", in); err != nil {
		return nil, err
	}
	return &state{Physical: *in.CacheSubnetGroupName}, nil
}

// A replication group's Ref is its id; it is complete once available.
func createReplicationGroup(c *call, p props) (*state, error) {
	in := &ecapi.CreateReplicationGroupMessage{}
	fill(in, p, map[string]string{"Tags": ""})
	if in.ReplicationGroupId == nil {
		in.ReplicationGroupId = str(c.physicalName(40, true))
	}
	for _, t := range c.tags(p) {
		in.Tags = append(in.Tags, &ecapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	id := *in.ReplicationGroupId
	if _, err := c.invoke("elasticache", "CreateReplicationGroup", in); err != nil {
		return nil, err
	}
	st := &state{Physical: id}
	var rg *ecapi.ReplicationGroup
	err := c.wait("replication group available", func() (bool, error) {
		out, err := c.invoke("elasticache", "DescribeReplicationGroups", &ecapi.DescribeReplicationGroupsMessage{ReplicationGroupId: &id})
		if err != nil {
			return false, err
		}
		for _, g := range out.(*ecapi.ReplicationGroupMessage).ReplicationGroups {
			rg = g
		}
		switch s := deref(rg.Status); s {
		case "available":
			return true, nil
		case "create-failed":
			return false, fmt.Errorf("replication group %s failed to create", id)
		}
		return false, nil
	})
	if err != nil {
		return st, err
	}
	st.Attrs = map[string]any{}
	for _, ng := range rg.NodeGroups {
		if e := ng.PrimaryEndpoint; e != nil {
			st.Attrs["PrimaryEndPoint.Address"], st.Attrs["PrimaryEndPoint.Port"] = deref(e.Address), strconv.FormatInt(derefInt(e.Port), 10)
		}
		if e := ng.ReaderEndpoint; e != nil {
			st.Attrs["ReaderEndPoint.Address"], st.Attrs["ReaderEndPoint.Port"] = deref(e.Address), strconv.FormatInt(derefInt(e.Port), 10)
		}
	}
	if e := rg.ConfigurationEndpoint; e != nil {
		st.Attrs["ConfigurationEndPoint.Address"], st.Attrs["ConfigurationEndPoint.Port"] = deref(e.Address), strconv.FormatInt(derefInt(e.Port), 10)
	}
	return st, nil
}

func deleteReplicationGroup(c *call, s *state, _ props) error {
	in := &ecapi.DeleteReplicationGroupMessage{ReplicationGroupId: &s.Physical}
	if c.deletionPolicy == "Snapshot" {
		in.FinalSnapshotIdentifier = str(c.physicalName(255, true))
	}
	if _, err := c.invoke("elasticache", "DeleteReplicationGroup", in); err != nil {
		return err
	}
	return c.wait("replication group deleted", func() (bool, error) {
		_, err := c.invoke("elasticache", "DescribeReplicationGroups", &ecapi.DescribeReplicationGroupsMessage{ReplicationGroupId: &s.Physical})
		return gone(err), nilIfGone(err)
	})
}
