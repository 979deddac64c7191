package rds

import (
	"context"
	"regexp"
	"slices"
	"strings"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// A DB subnet group's name: up to 255 letters, digits, periods,
// underscores, spaces and hyphens; RDS keeps it in lower case.
var subnetGroupNameRE = regexp.MustCompile(`^[a-zA-Z0-9._ -]{1,255}$`)

func (s *Service) CreateDBSubnetGroup(ctx context.Context, in *rdsapi.CreateDBSubnetGroupMessage) (*rdsapi.CreateDBSubnetGroupResult, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.DBSubnetGroupName))
	if !subnetGroupNameRE.MatchString(name) || name == "default" {
		return nil, invalidValue("The parameter DBSubnetGroupName is not a valid identifier. Identifiers must contain only ASCII letters, digits, periods, underscores, spaces, or hyphens, and must not be default.")
	}
	var out *rdsapi.DBSubnetGroup
	err := s.store.Update(func(tx *store.Tx) error {
		if ok, err := tx.Get(sc.key(kindSubnetGroup, name), &subnetGroupRecord{}); err != nil {
			return err
		} else if ok {
			return fault("DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
		}
		g := &subnetGroupRecord{Name: name, Description: deref(in.DBSubnetGroupDescription), Tags: toTags(in.Tags)}
		if err := g.setSubnets(tx, sc, in.SubnetIds); err != nil {
			return err
		}
		out = g.api(sc)
		return tx.Put(sc.key(kindSubnetGroup, name), g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBSubnetGroupResult{DBSubnetGroup: out}, nil
}

// setSubnets checks the subnets (existing, in one VPC, covering two zones
// at least) and makes them the group's.
func (g *subnetGroupRecord) setSubnets(tx *store.Tx, sc scope, ids []*string) error {
	if len(ids) == 0 {
		return fault("InvalidSubnet", "Subnet IDs are required.")
	}
	var subnets []groupSubnet
	var missing []string
	vpc := ""
	for _, p := range ids {
		id := deref(p)
		sn, ok, err := ec2.LookupSubnet(tx, sc.account, sc.region, id)
		if err != nil {
			return err
		}
		if !ok {
			missing = append(missing, id)
			continue
		}
		if vpc != "" && sn.VPC != vpc {
			return fault("InvalidSubnet", "The subnets must all be in the same VPC: %s is in %s, not %s.", id, sn.VPC, vpc)
		}
		vpc = sn.VPC
		if !slices.ContainsFunc(subnets, func(g groupSubnet) bool { return g.ID == id }) {
			subnets = append(subnets, groupSubnet{ID: id, AZ: sn.AZ})
		}
	}
	if len(missing) > 0 {
		return fault("InvalidSubnet", "Some input subnets in :[%s] are invalid.", strings.Join(missing, ", "))
	}
	var zones []string
	for _, sn := range subnets {
		if !slices.Contains(zones, sn.AZ) {
			zones = append(zones, sn.AZ)
		}
	}
	if len(zones) < 2 {
		return fault("DBSubnetGroupDoesNotCoverEnoughAZs", "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(zones, ", "))
	}
	g.Subnets, g.VPC = subnets, vpc
	return nil
}

func (g *subnetGroupRecord) api(sc scope) *rdsapi.DBSubnetGroup {
	out := &rdsapi.DBSubnetGroup{
		DBSubnetGroupArn: ptr(sc.arn("subgrp", g.Name)), DBSubnetGroupName: ptr(g.Name),
		DBSubnetGroupDescription: ptr(g.Description), SubnetGroupStatus: ptr("Complete"), VpcId: ptr(g.VPC),
		SupportedNetworkTypes: []*string{ptr("IPV4")},
	}
	for _, sn := range g.Subnets {
		out.Subnets = append(out.Subnets, &rdsapi.Subnet{SubnetIdentifier: ptr(sn.ID), SubnetAvailabilityZone: &rdsapi.AvailabilityZone{Name: ptr(sn.AZ)}, SubnetStatus: ptr("Active")})
	}
	return out
}

func loadSubnetGroup(tx *store.Tx, sc scope, name string) (*subnetGroupRecord, error) {
	g, ok, err := store.Get[subnetGroupRecord](tx, sc.key(kindSubnetGroup, strings.ToLower(name)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault("DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", name)
	}
	return g, nil
}

func (s *Service) DescribeDBSubnetGroups(ctx context.Context, in *rdsapi.DescribeDBSubnetGroupsMessage) (*rdsapi.DBSubnetGroupMessage, error) {
	sc := scopeOf(ctx)
	var groups []*subnetGroupRecord
	err := s.store.View(func(tx *store.Tx) error {
		if n := deref(in.DBSubnetGroupName); n != "" {
			g, err := loadSubnetGroup(tx, sc, n)
			groups = []*subnetGroupRecord{g}
			return err
		}
		var err error
		groups, err = store.ListAll[subnetGroupRecord](tx, sc.account, sc.region, kindSubnetGroup)
		return err
	})
	if err != nil {
		return nil, err
	}
	groups, next, err := page(groups, func(g *subnetGroupRecord) string { return g.Name }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBSubnetGroupMessage{Marker: next, DBSubnetGroups: []*rdsapi.DBSubnetGroup{}}
	for _, g := range groups {
		out.DBSubnetGroups = append(out.DBSubnetGroups, g.api(sc))
	}
	return out, nil
}

func (s *Service) ModifyDBSubnetGroup(ctx context.Context, in *rdsapi.ModifyDBSubnetGroupMessage) (*rdsapi.ModifyDBSubnetGroupResult, error) {
	sc := scopeOf(ctx)
	var out *rdsapi.DBSubnetGroup
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadSubnetGroup(tx, sc, deref(in.DBSubnetGroupName))
		if err != nil {
			return err
		}
		oldVPC := g.VPC
		if err := g.setSubnets(tx, sc, in.SubnetIds); err != nil {
			return err
		}
		// A subnet an instance's node lives in stays in the group, and the
		// group stays in its VPC while instances use it.
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, in := range insts {
			if in.SubnetGroup != g.Name {
				continue
			}
			if g.VPC != oldVPC {
				return fault("InvalidDBSubnetGroupStateFault", "The DB subnet group '%s' is in use by DB instance %s and cannot move to another VPC.", g.Name, in.ID)
			}
			if !slices.ContainsFunc(g.Subnets, func(sn groupSubnet) bool { return sn.ID == in.Subnet }) {
				return fault("SubnetAlreadyInUse", "The DB subnet group '%s' cannot drop subnet %s: DB instance %s uses it.", g.Name, in.Subnet, in.ID)
			}
		}
		if in.DBSubnetGroupDescription != nil {
			g.Description = *in.DBSubnetGroupDescription
		}
		out = g.api(sc)
		return tx.Put(sc.key(kindSubnetGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyDBSubnetGroupResult{DBSubnetGroup: out}, nil
}

func (s *Service) DeleteDBSubnetGroup(ctx context.Context, in *rdsapi.DeleteDBSubnetGroupMessage) (*rdsapi.DeleteDBSubnetGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadSubnetGroup(tx, sc, deref(in.DBSubnetGroupName))
		if err != nil {
			return err
		}
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, in := range insts {
			if in.SubnetGroup == g.Name {
				return fault("InvalidDBSubnetGroupStateFault", "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", g.Name, in.ID)
			}
		}
		_, err = tx.Delete(sc.key(kindSubnetGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBSubnetGroupOutput{}, nil
}

// subnetGroupFor is the subnet group named, or without a name the
// region's "default" group over the default VPC's default subnets, made
// the first time it is needed, as RDS makes it.
func subnetGroupFor(tx *store.Tx, sc scope, name string) (*subnetGroupRecord, error) {
	if name != "" {
		return loadSubnetGroup(tx, sc, name)
	}
	if g, ok, err := store.Get[subnetGroupRecord](tx, sc.key(kindSubnetGroup, "default")); err != nil || ok {
		return g, err
	}
	vpc, subnets, ok, err := ec2.DefaultVPCSubnets(tx, sc.account, sc.region)
	if err != nil {
		return nil, err
	}
	if !ok || len(subnets) < 2 {
		return nil, fault("InvalidVPCNetworkStateFault", "No default subnet detected in VPC. Please contact AWS Support to recreate default Subnets.")
	}
	g := &subnetGroupRecord{Name: "default", Description: "default", VPC: vpc}
	for _, sn := range subnets {
		g.Subnets = append(g.Subnets, groupSubnet{ID: sn.ID, AZ: sn.AZ})
	}
	return g, tx.Put(sc.key(kindSubnetGroup, g.Name), g)
}
