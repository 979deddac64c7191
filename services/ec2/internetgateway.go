package ec2

import (
	"context"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// igwAttachedTo returns the VPC an internet gateway is attached to, or "".
func igwAttachedTo(g *internetGatewayRecord) string {
	for _, a := range g.Attachments {
		if deref(a.VpcId) != "" {
			return *a.VpcId
		}
	}
	return ""
}

func (s *Service) CreateInternetGateway(ctx context.Context, in *ec2api.CreateInternetGatewayRequest) (*ec2api.CreateInternetGatewayResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, kindIGW.resourceType)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var g *internetGatewayRecord
	err = s.store.Update(func(tx *store.Tx) error {
		var err error
		g, err = createInternetGateway(tx, sc, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateInternetGatewayResult{InternetGateway: &g.InternetGateway}, nil
}

func (s *Service) DeleteInternetGateway(ctx context.Context, in *ec2api.DeleteInternetGatewayRequest) (*ec2api.DeleteInternetGatewayOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.InternetGatewayId)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := load[internetGatewayRecord](tx, sc, kindIGW, id)
		if err != nil {
			return err
		}
		if igwAttachedTo(g) != "" {
			return dependencyViolation("The internetGateway '%s' has dependencies and cannot be deleted.", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindIGW, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteInternetGatewayOutput{}, nil
}

var igwFilters = fields[internetGatewayRecord]{
	"internet-gateway-id": func(g *internetGatewayRecord) []string { return one(g.InternetGatewayId) },
	"owner-id":            func(g *internetGatewayRecord) []string { return one(g.OwnerId) },
	"attachment.vpc-id": func(g *internetGatewayRecord) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, deref(a.VpcId))
		}
		return out
	},
	"attachment.state": func(g *internetGatewayRecord) []string {
		var out []string
		for _, a := range g.Attachments {
			out = append(out, deref(a.State))
		}
		return out
	},
}

func (s *Service) DescribeInternetGateways(ctx context.Context, in *ec2api.DescribeInternetGatewaysRequest) (*ec2api.DescribeInternetGatewaysResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeInternetGatewaysResult{InternetGateways: []*ec2api.InternetGateway{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindIGW, query{ids: in.InternetGatewayIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(g *internetGatewayRecord) string { return *g.InternetGatewayId }, func(g *internetGatewayRecord) []*ec2api.Tag { return g.Tags }, igwFilters)
		for _, g := range page {
			out.InternetGateways = append(out.InternetGateways, &g.InternetGateway)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) AttachInternetGateway(ctx context.Context, in *ec2api.AttachInternetGatewayRequest) (*ec2api.AttachInternetGatewayOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := load[internetGatewayRecord](tx, sc, kindIGW, deref(in.InternetGatewayId))
		if err != nil {
			return err
		}
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		if at := igwAttachedTo(g); at != "" {
			return api.Errorf("Resource.AlreadyAssociated", "resource %s is already attached to network %s", *g.InternetGatewayId, at)
		}
		igws, err := listAll[internetGatewayRecord](tx, sc, kindIGW)
		if err != nil {
			return err
		}
		for _, o := range igws {
			if igwAttachedTo(o) == *v.VpcId {
				return invalidParameter("Network %s already has an internet gateway attached", *v.VpcId)
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		g.Attachments = []*ec2api.InternetGatewayAttachment{{VpcId: v.VpcId, State: str("available")}}
		return save(tx, sc, kindIGW, *g.InternetGatewayId, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AttachInternetGatewayOutput{}, nil
}

func (s *Service) DetachInternetGateway(ctx context.Context, in *ec2api.DetachInternetGatewayRequest) (*ec2api.DetachInternetGatewayOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := load[internetGatewayRecord](tx, sc, kindIGW, deref(in.InternetGatewayId))
		if err != nil {
			return err
		}
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		if igwAttachedTo(g) != *v.VpcId {
			return api.Errorf("Gateway.NotAttached", "resource %s is not attached to network %s", *g.InternetGatewayId, *v.VpcId)
		}
		// Public addresses in the VPC are reached through the gateway.
		enis, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
		if err != nil {
			return err
		}
		for _, e := range enis {
			if deref(e.VpcId) == *v.VpcId && e.Association != nil && deref(e.Association.PublicIp) != "" {
				return dependencyViolation("Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", *v.VpcId)
			}
		}
		rts, err := vpcRouteTables(tx, sc, *v.VpcId)
		if err != nil {
			return err
		}
		for _, rt := range rts {
			for _, as := range rt.Associations {
				if deref(as.GatewayId) == *g.InternetGatewayId {
					return dependencyViolation("The internetGateway '%s' has dependencies (route table %s) and cannot be detached.", *g.InternetGatewayId, *rt.RouteTableId)
				}
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		g.Attachments = []*ec2api.InternetGatewayAttachment{}
		return save(tx, sc, kindIGW, *g.InternetGatewayId, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DetachInternetGatewayOutput{}, nil
}
