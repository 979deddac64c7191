package ec2

import (
	"context"
	"sort"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// NAT gateways. AWS takes a minute or two to make one available, and as
// long to delete one; cloudbox takes natTransition. A record keeps the
// state last written and the create and delete times: readers see the
// state those times imply (natState), and every NAT gateway write first
// writes back the transitions that are due (settleNATs).

const (
	// natTransition is how long a NAT gateway stays pending, or deleting.
	natTransition = time.Second
	// natRetention is how long a deleted or failed NAT gateway stays
	// visible, as in AWS.
	natRetention = time.Hour
)

// natState is the state of g at now.
func natState(g *natGatewayRecord, now time.Time) string {
	st := deref(g.State)
	switch {
	case st == "pending" && g.CreateTime != nil && !now.Before(g.CreateTime.Add(natTransition)):
		if g.FailureCode != nil {
			return "failed"
		}
		return "available"
	case st == "deleting" && g.DeleteTime != nil && !now.Before(g.DeleteTime.Add(natTransition)):
		return "deleted"
	}
	return st
}

// natGone reports whether g, deleted or failed, is past the time AWS keeps
// it visible.
func natGone(g *natGatewayRecord, now time.Time) bool {
	switch natState(g, now) {
	case "deleted":
		return g.DeleteTime != nil && now.After(g.DeleteTime.Add(natTransition+natRetention))
	case "failed":
		return g.CreateTime != nil && now.After(g.CreateTime.Add(natTransition+natRetention))
	}
	return false
}

// natAddressStatus is the status of a gateway's addresses in each state,
// for public and private gateways.
var natAddressStatus = map[string][2]string{
	"pending":   {"associating", "assigning"},
	"available": {"succeeded", "succeeded"},
	"failed":    {"failed", "failed"},
	"deleting":  {"disassociating", "unassigning"},
	"deleted":   {"succeeded", "succeeded"},
}

// natView is g as DescribeNatGateways shows it at now.
func natView(g *natGatewayRecord, now time.Time) *ec2api.NatGateway {
	out := g.NatGateway
	st := natState(g, now)
	out.State = str(st)
	if st == "pending" {
		out.FailureCode, out.FailureMessage = nil, nil
	}
	status := natAddressStatus[st][0]
	if deref(g.ConnectivityType) == "private" {
		status = natAddressStatus[st][1]
	}
	out.NatGatewayAddresses = []*ec2api.NatGatewayAddress{}
	for _, a := range g.NatGatewayAddresses {
		c := *a
		c.Status = str(status)
		out.NatGatewayAddresses = append(out.NatGatewayAddresses, &c)
	}
	return &out
}

// settleNATs writes back the state transitions of the scope's NAT
// gateways that are due, and removes those no longer visible.
func settleNATs(tx *store.Tx, sc scope, now time.Time) error {
	all, err := listAll[natGatewayRecord](tx, sc, kindNAT)
	if err != nil {
		return err
	}
	for _, g := range all {
		if natGone(g, now) {
			if err := remove(tx, sc, kindNAT, *g.NatGatewayId); err != nil {
				return err
			}
			continue
		}
		if st := natState(g, now); st != deref(g.State) {
			g.State = str(st)
			if err := save(tx, sc, kindNAT, *g.NatGatewayId, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadNAT loads a NAT gateway that is still visible.
func loadNAT(tx *store.Tx, sc scope, id string, now time.Time) (*natGatewayRecord, error) {
	g, err := load[natGatewayRecord](tx, sc, kindNAT, id)
	if err != nil {
		return nil, err
	}
	if natGone(g, now) {
		return nil, kindNAT.notFoundError(id)
	}
	return g, nil
}

func (s *Service) CreateNatGateway(ctx context.Context, in *ec2api.CreateNatGatewayRequest) (*ec2api.CreateNatGatewayResult, error) {
	sc := scopeOf(ctx)
	ct := deref(in.ConnectivityType)
	if ct == "" {
		ct = "public"
	}
	if ct != "public" && ct != "private" {
		return nil, invalidParameter("Value (%s) for parameter connectivityType is invalid. Valid values: public, private.", ct)
	}
	if len(in.SecondaryAllocationIds) > 0 || in.SecondaryPrivateIpAddressCount != nil || len(in.SecondaryPrivateIpAddresses) > 0 {
		return nil, api.Errorf("UnsupportedOperation", "Secondary addresses on NAT gateways are not supported by cloudbox.")
	}
	allocID := deref(in.AllocationId)
	if ct == "public" && allocID == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter AllocationId for a public NAT gateway")
	}
	if ct == "private" && allocID != "" {
		return nil, api.Errorf("InvalidParameterCombination", "An AllocationId may not be specified for a private NAT gateway")
	}
	tags, err := tagsFor(in.TagSpecifications, "natgateway")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	req := *in
	req.ClientToken, req.DryRun = nil, nil
	now := s.now().UTC()
	g, err := create(s, sc, creation[natGatewayRecord]{
		op: "CreateNatGateway", token: in.ClientToken, req: req,
		first: func(tx *store.Tx) error { return settleNATs(tx, sc, now) },
		made:  stored[natGatewayRecord](sc, kindNAT),
		make: func(tx *store.Tx) (*natGatewayRecord, string, error) {
			sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(in.SubnetId))
			if err != nil {
				return nil, "", err
			}
			var a *addressRecord
			igw := true
			if ct == "public" {
				if a, err = load[addressRecord](tx, sc, kindAddress, allocID); err != nil {
					return nil, "", err
				}
				inUse, err := natUsesAddress(tx, sc, allocID, now)
				if err != nil {
					return nil, "", err
				}
				if a.AssociationId != nil || inUse {
					return nil, "", api.Errorf("Resource.AlreadyAssociated", "Elastic IP address [%s] is already associated", allocID)
				}
				if igw, err = vpcHasInternetGateway(tx, sc, deref(sn.VpcId)); err != nil {
					return nil, "", err
				}
			}
			if err := dryRun(in.DryRun); err != nil {
				return nil, "", err
			}
			id := kindNAT.newID()
			g := &natGatewayRecord{NatGateway: ec2api.NatGateway{
				NatGatewayId: str(id), ConnectivityType: str(ct), CreateTime: &now, State: str("pending"),
				SubnetId: sn.SubnetId, VpcId: sn.VpcId, Tags: tags,
			}}
			if !igw {
				// AWS accepts the request, then the gateway fails.
				g.FailureCode = str("Gateway.NotAttached")
				g.FailureMessage = str("Network " + deref(sn.VpcId) + " has no Internet gateway attached")
				g.NatGatewayAddresses = []*ec2api.NatGatewayAddress{{AllocationId: a.AllocationId, IsPrimary: boolp(true)}}
			} else if err := natInterface(tx, sc, g, sn, a, deref(in.PrivateIpAddress), now); err != nil {
				return nil, "", err
			}
			return g, id, save(tx, sc, kindNAT, id, g)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNatGatewayResult{ClientToken: in.ClientToken, NatGateway: natView(g, s.now().UTC())}, nil
}

// natUsesAddress reports whether a NAT gateway that is not deleted holds
// the Elastic IP (one failing holds it without an association).
func natUsesAddress(tx *store.Tx, sc scope, allocID string, now time.Time) (bool, error) {
	all, err := listAll[natGatewayRecord](tx, sc, kindNAT)
	if err != nil {
		return false, err
	}
	for _, g := range all {
		if st := natState(g, now); st == "deleted" || st == "failed" {
			continue
		}
		for _, a := range g.NatGatewayAddresses {
			if deref(a.AllocationId) == allocID {
				return true, nil
			}
		}
	}
	return false, nil
}

// natInterface gives gateway g its requester-managed interface in subnet
// sn and, for a public gateway, binds the Elastic IP a to it.
func natInterface(tx *store.Tx, sc scope, g *natGatewayRecord, sn *subnetRecord, a *addressRecord, privateIP string, now time.Time) error {
	e, err := createENI(tx, sc, eniSpec{
		subnet: sn, privateIP: privateIP, description: "Interface for NAT Gateway " + *g.NatGatewayId,
		interfaceType: "nat_gateway", requesterManaged: true,
	})
	if err != nil {
		return err
	}
	e.Status = str("in-use")
	e.SourceDestCheck = boolp(false)
	e.Attachment = &ec2api.NetworkInterfaceAttachment{
		AttachTime: &now, AttachmentId: str(newAssocID("ela-attach")), DeleteOnTermination: boolp(false),
		DeviceIndex: i64(1), InstanceOwnerId: str("amazon-aws"), Status: str("attached"),
	}
	if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
		return err
	}
	addr := &ec2api.NatGatewayAddress{NetworkInterfaceId: e.NetworkInterfaceId, PrivateIp: e.PrivateIpAddress, IsPrimary: boolp(true)}
	if a != nil {
		assocID, err := associateAddress(tx, sc, a, e, *e.PrivateIpAddress)
		if err != nil {
			return err
		}
		addr.AllocationId, addr.PublicIp, addr.AssociationId = a.AllocationId, a.PublicIp, str(assocID)
	}
	g.ENI = *e.NetworkInterfaceId
	g.NatGatewayAddresses = []*ec2api.NatGatewayAddress{addr}
	return nil
}

func (s *Service) DeleteNatGateway(ctx context.Context, in *ec2api.DeleteNatGatewayRequest) (*ec2api.DeleteNatGatewayResult, error) {
	sc := scopeOf(ctx)
	now := s.now().UTC()
	err := s.store.Update(func(tx *store.Tx) error {
		if err := settleNATs(tx, sc, now); err != nil {
			return err
		}
		g, err := loadNAT(tx, sc, deref(in.NatGatewayId), now)
		if err != nil {
			return err
		}
		if st := deref(g.State); st == "deleting" || st == "deleted" {
			return dryRun(in.DryRun)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		g.State, g.DeleteTime = str("deleting"), &now
		if g.ENI != "" {
			// The Elastic IP is disassociated, not released; the
			// interface goes.
			for _, na := range g.NatGatewayAddresses {
				a, ok, err := store.Get[addressRecord](tx, sc.key(kindAddress, deref(na.AllocationId)))
				if err != nil {
					return err
				}
				if ok && deref(a.NetworkInterfaceId) == g.ENI {
					if err := disassociateAddress(tx, sc, a); err != nil {
						return err
					}
				}
			}
			e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, g.ENI))
			if err != nil {
				return err
			}
			if ok {
				if err := deleteENI(tx, sc, e); err != nil {
					return err
				}
			}
		}
		return save(tx, sc, kindNAT, *g.NatGatewayId, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNatGatewayResult{NatGatewayId: in.NatGatewayId}, nil
}

func (s *Service) DescribeNatGateways(ctx context.Context, in *ec2api.DescribeNatGatewaysRequest) (*ec2api.DescribeNatGatewaysResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	now := s.now().UTC()
	type rec = natGatewayRecord
	fs := fields[rec]{
		"nat-gateway-id": func(g *rec) []string { return one(g.NatGatewayId) },
		"subnet-id":      func(g *rec) []string { return one(g.SubnetId) },
		"vpc-id":         func(g *rec) []string { return one(g.VpcId) },
		"state":          func(g *rec) []string { return []string{natState(g, now)} },
	}
	if err := checkFilterNames(in.Filter, fs); err != nil {
		return nil, err
	}
	var all []*natGatewayRecord
	err := s.store.View(func(tx *store.Tx) error {
		if len(in.NatGatewayIds) == 0 {
			var err error
			all, err = listAll[natGatewayRecord](tx, sc, kindNAT)
			return err
		}
		seen := map[string]bool{}
		for _, id := range derefAll(in.NatGatewayIds) {
			g, err := loadNAT(tx, sc, id, now)
			if err != nil {
				return err
			}
			if !seen[id] {
				seen[id] = true
				all = append(all, g)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var matched []*rec
	for _, g := range all {
		if natGone(g, now) {
			continue
		}
		ok, err := matchFilters(in.Filter, g, func(g *rec) []*ec2api.Tag { return g.Tags }, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, g)
		}
	}
	idOf := func(g *rec) string { return *g.NatGatewayId }
	sort.Slice(matched, func(i, j int) bool { return idOf(matched[i]) < idOf(matched[j]) })
	page, next, err := paginate(matched, idOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNatGatewaysResult{NatGateways: []*ec2api.NatGateway{}, NextToken: next}
	for _, g := range page {
		out.NatGateways = append(out.NatGateways, natView(g, now))
	}
	return out, nil
}
