package ec2

import (
	"context"
	"regexp"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// A VPC peering connection is seen from both sides: the record lives in
// the requester's scope (account and region) and a mirror with the same
// pcx id in the accepter's, kept in step by every change. Each copy has
// its own tags, as each account tags its own view.

// peeringLifetime is how long a request waits for acceptance before it
// expires.
const peeringLifetime = 7 * 24 * time.Hour

// peeringFailedMessage is AWS's status message for a request that cannot
// be made: the peer VPC does not exist or the CIDR blocks overlap.
const peeringFailedMessage = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// peeringStatus returns the connection's status code now: a request left
// pending past its expiration time has expired.
func peeringStatus(p *peeringRecord, now time.Time) string {
	code := ""
	if p.Status != nil {
		code = deref(p.Status.Code)
	}
	if code == "pending-acceptance" && p.ExpirationTime != nil && now.After(*p.ExpirationTime) {
		return "expired"
	}
	return code
}

// peeringLive reports whether a connection still ties its VPCs.
func peeringLive(p *peeringRecord, now time.Time) bool {
	st := peeringStatus(p, now)
	return st == "pending-acceptance" || st == "active"
}

// peeringSide returns the side of p that is VPC vpcID of scope sc, or nil.
func peeringSide(p *peeringRecord, sc scope, vpcID string) *ec2api.VpcPeeringConnectionVpcInfo {
	for _, side := range []*ec2api.VpcPeeringConnectionVpcInfo{p.RequesterVpcInfo, p.AccepterVpcInfo} {
		if side != nil && deref(side.VpcId) == vpcID && infoScope(side) == sc {
			return side
		}
	}
	return nil
}

func infoScope(i *ec2api.VpcPeeringConnectionVpcInfo) scope {
	return scope{account: deref(i.OwnerId), region: deref(i.Region)}
}

// peeringVPCInfo describes one side of a connection.
func peeringVPCInfo(v *vpcRecord, region string, active bool) *ec2api.VpcPeeringConnectionVpcInfo {
	i := &ec2api.VpcPeeringConnectionVpcInfo{VpcId: v.VpcId, OwnerId: v.OwnerId, Region: str(region), CidrBlock: v.CidrBlock}
	for _, p := range vpcCIDRs(v) {
		i.CidrBlockSet = append(i.CidrBlockSet, &ec2api.CidrBlock{CidrBlock: str(p.String())})
	}
	if active {
		i.PeeringOptions = &ec2api.VpcPeeringConnectionOptionsDescription{
			AllowDnsResolutionFromRemoteVpc:            boolp(false),
			AllowEgressFromLocalClassicLinkToRemoteVpc: boolp(false),
			AllowEgressFromLocalVpcToRemoteClassicLink: boolp(false),
		}
	}
	return i
}

// putPeering writes the connection to every scope that holds a copy,
// each keeping its own tags.
func putPeering(tx *store.Tx, p *peeringRecord) error {
	scopes := []scope{infoScope(p.RequesterVpcInfo)}
	if acc := infoScope(p.AccepterVpcInfo); acc != scopes[0] {
		scopes = append(scopes, acc)
	}
	for _, sc := range scopes {
		cp := *p
		cp.Tags = []*ec2api.Tag{}
		cur, ok, err := store.Get[peeringRecord](tx, sc.key(kindPeering, *p.VpcPeeringConnectionId))
		if err != nil {
			return err
		}
		if ok {
			cp.Tags = cur.Tags
		}
		if err := save(tx, sc, kindPeering, *p.VpcPeeringConnectionId, &cp); err != nil {
			return err
		}
	}
	return nil
}

func vpcsOverlap(a, b *vpcRecord) bool {
	for _, p := range vpcCIDRs(a) {
		for _, q := range vpcCIDRs(b) {
			if p.Overlaps(q) {
				return true
			}
		}
	}
	return false
}

func peeringState(code, message string) *ec2api.VpcPeeringConnectionStateReason {
	return &ec2api.VpcPeeringConnectionStateReason{Code: str(code), Message: str(message)}
}

func (s *Service) CreateVpcPeeringConnection(ctx context.Context, in *ec2api.CreateVpcPeeringConnectionRequest) (*ec2api.CreateVpcPeeringConnectionResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, kindPeering.resourceType)
	if err != nil {
		return nil, err
	}
	if in.PeerVpcId == nil {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter peerVpcId")
	}
	peer := sc
	if in.PeerOwnerId != nil {
		if !accountRE.MatchString(*in.PeerOwnerId) {
			return nil, invalidParameter("Value (%s) for parameter peerOwnerId is invalid. It must be a 12-digit AWS account ID.", *in.PeerOwnerId)
		}
		peer.account = *in.PeerOwnerId
	}
	if in.PeerRegion != nil {
		if !regionRE.MatchString(*in.PeerRegion) {
			return nil, invalidParameter("Value (%s) for parameter peerRegion is invalid.", *in.PeerRegion)
		}
		peer.region = *in.PeerRegion
	}
	peerVPC := *in.PeerVpcId
	if err := kindVPC.checkID(peerVPC); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	out := &ec2api.CreateVpcPeeringConnectionResult{}
	err = s.store.Update(func(tx *store.Tx) error {
		req, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		if peer == sc && peerVPC == *req.VpcId {
			return invalidParameter("The requester VPC and the accepter VPC must be different: %s.", peerVPC)
		}
		// A peer VPC of the same account and region is checked at once; one
		// elsewhere is checked as the request travels, failing it.
		acc, found, err := store.Get[vpcRecord](tx, peer.key(kindVPC, peerVPC))
		if err != nil {
			return err
		}
		if !found && peer == sc {
			return kindVPC.notFoundError(peerVPC)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		p := &peeringRecord{VpcPeeringConnection: ec2api.VpcPeeringConnection{
			VpcPeeringConnectionId: str(kindPeering.newID()),
			RequesterVpcInfo:       peeringVPCInfo(req, sc.region, false),
			AccepterVpcInfo:        &ec2api.VpcPeeringConnectionVpcInfo{OwnerId: str(peer.account), Region: str(peer.region), VpcId: str(peerVPC)},
			Tags:                   nonNilTags(tags),
		}}
		if !found || vpcsOverlap(req, acc) {
			p.Status = peeringState("failed", peeringFailedMessage)
		} else {
			p.Status = peeringState("pending-acceptance", "Pending Acceptance by "+peer.account)
			expires := now.Add(peeringLifetime)
			p.ExpirationTime = &expires
		}
		// The requester's copy carries the tags; the accepter's, made by
		// putPeering, starts untagged, unless the request failed: the
		// accepter never hears of it.
		if err := save(tx, sc, kindPeering, *p.VpcPeeringConnectionId, p); err != nil {
			return err
		}
		if deref(p.Status.Code) != "failed" {
			if err := putPeering(tx, p); err != nil {
				return err
			}
		}
		answer := p.VpcPeeringConnection
		answer.Status = peeringState("initiating-request", "Initiating Request to "+peer.account)
		out.VpcPeeringConnection = &answer
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadAccepting loads a connection that the caller, as its accepter, is
// to accept or reject (verb).
func (s *Service) loadAccepting(tx *store.Tx, sc scope, id, verb string) (*peeringRecord, error) {
	p, err := load[peeringRecord](tx, sc, kindPeering, id)
	if err != nil {
		return nil, err
	}
	acc := infoScope(p.AccepterVpcInfo)
	if acc.account != sc.account {
		return nil, api.Errorf("OperationNotPermitted", "User (%s) cannot %s peering %s", sc.account, verb, id)
	}
	if acc.region != sc.region {
		return nil, api.Errorf("OperationNotPermitted", "Incorrect region (%s) specified for this request. VPC peering connection %s must be accepted or rejected in region %s", sc.region, id, acc.region)
	}
	if st := peeringStatus(p, s.now()); st != "pending-acceptance" {
		target := "active"
		if verb == "reject" {
			target = "rejected"
		}
		return nil, api.Errorf("InvalidStateTransition", "Invalid state transition for %s, attempted to transition from %s to %s", id, st, target)
	}
	return p, nil
}

func (s *Service) AcceptVpcPeeringConnection(ctx context.Context, in *ec2api.AcceptVpcPeeringConnectionRequest) (*ec2api.AcceptVpcPeeringConnectionResult, error) {
	sc := scopeOf(ctx)
	out := &ec2api.AcceptVpcPeeringConnectionResult{}
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := s.loadAccepting(tx, sc, deref(in.VpcPeeringConnectionId), "accept")
		if err != nil {
			return err
		}
		reqSc := infoScope(p.RequesterVpcInfo)
		req, err := load[vpcRecord](tx, reqSc, kindVPC, deref(p.RequesterVpcInfo.VpcId))
		if err != nil {
			return err
		}
		acc, err := load[vpcRecord](tx, sc, kindVPC, deref(p.AccepterVpcInfo.VpcId))
		if err != nil {
			return err
		}
		if vpcsOverlap(req, acc) {
			return invalidParameter("The CIDR blocks of %s and %s overlap.", *req.VpcId, *acc.VpcId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		p.RequesterVpcInfo = peeringVPCInfo(req, reqSc.region, true)
		p.AccepterVpcInfo = peeringVPCInfo(acc, sc.region, true)
		p.Status = peeringState("active", "Active")
		p.ExpirationTime = nil
		if err := putPeering(tx, p); err != nil {
			return err
		}
		// AWS answers while the connection is being provisioned; it is
		// active by the next describe.
		answer := p.VpcPeeringConnection
		answer.Status = peeringState("provisioning", "Provisioning")
		out.VpcPeeringConnection = &answer
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) RejectVpcPeeringConnection(ctx context.Context, in *ec2api.RejectVpcPeeringConnectionRequest) (*ec2api.RejectVpcPeeringConnectionResult, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := s.loadAccepting(tx, sc, deref(in.VpcPeeringConnectionId), "reject")
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		p.Status = peeringState("rejected", "Rejected by "+sc.account)
		return putPeering(tx, p)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RejectVpcPeeringConnectionResult{Return: boolp(true)}, nil
}

func (s *Service) DeleteVpcPeeringConnection(ctx context.Context, in *ec2api.DeleteVpcPeeringConnectionRequest) (*ec2api.DeleteVpcPeeringConnectionResult, error) {
	sc := scopeOf(ctx)
	id := deref(in.VpcPeeringConnectionId)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := load[peeringRecord](tx, sc, kindPeering, id)
		if err != nil {
			return err
		}
		// Either side may delete an active connection; a pending request
		// only its requester (the accepter rejects it).
		switch st := peeringStatus(p, s.now()); st {
		case "active":
		case "pending-acceptance":
			if infoScope(p.RequesterVpcInfo) != sc {
				return api.Errorf("OperationNotPermitted", "User (%s) cannot delete peering %s", sc.account, id)
			}
		default:
			return api.Errorf("InvalidStateTransition", "Invalid state transition for %s, attempted to transition from %s to deleted", id, st)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		p.Status = peeringState("deleted", "Deleted by "+sc.account)
		p.ExpirationTime = nil
		return putPeering(tx, p)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteVpcPeeringConnectionResult{Return: boolp(true)}, nil
}

func peeringFilters(now time.Time) fields[peeringRecord] {
	cidrs := func(side func(*peeringRecord) *ec2api.VpcPeeringConnectionVpcInfo) func(*peeringRecord) []string {
		return func(p *peeringRecord) []string {
			i := side(p)
			if i == nil {
				return nil
			}
			out := one(i.CidrBlock)
			for _, c := range i.CidrBlockSet {
				if deref(c.CidrBlock) != deref(i.CidrBlock) {
					out = append(out, deref(c.CidrBlock))
				}
			}
			return out
		}
	}
	member := func(side func(*peeringRecord) *ec2api.VpcPeeringConnectionVpcInfo, get func(*ec2api.VpcPeeringConnectionVpcInfo) *string) func(*peeringRecord) []string {
		return func(p *peeringRecord) []string {
			if i := side(p); i != nil {
				return one(get(i))
			}
			return nil
		}
	}
	req := func(p *peeringRecord) *ec2api.VpcPeeringConnectionVpcInfo { return p.RequesterVpcInfo }
	acc := func(p *peeringRecord) *ec2api.VpcPeeringConnectionVpcInfo { return p.AccepterVpcInfo }
	vpcID := func(i *ec2api.VpcPeeringConnectionVpcInfo) *string { return i.VpcId }
	owner := func(i *ec2api.VpcPeeringConnectionVpcInfo) *string { return i.OwnerId }
	region := func(i *ec2api.VpcPeeringConnectionVpcInfo) *string { return i.Region }
	return fields[peeringRecord]{
		"vpc-peering-connection-id":     func(p *peeringRecord) []string { return one(p.VpcPeeringConnectionId) },
		"status-code":                   func(p *peeringRecord) []string { return []string{peeringStatus(p, now)} },
		"status-message":                func(p *peeringRecord) []string { return one(p.Status.Message) },
		"requester-vpc-info.vpc-id":     member(req, vpcID),
		"requester-vpc-info.owner-id":   member(req, owner),
		"requester-vpc-info.region":     member(req, region),
		"requester-vpc-info.cidr-block": cidrs(req),
		"accepter-vpc-info.vpc-id":      member(acc, vpcID),
		"accepter-vpc-info.owner-id":    member(acc, owner),
		"accepter-vpc-info.region":      member(acc, region),
		"accepter-vpc-info.cidr-block":  cidrs(acc),
		"expiration-time": func(p *peeringRecord) []string {
			if p.ExpirationTime == nil {
				return nil
			}
			return []string{p.ExpirationTime.UTC().Format(time.RFC3339)}
		},
	}
}

func (s *Service) DescribeVpcPeeringConnections(ctx context.Context, in *ec2api.DescribeVpcPeeringConnectionsRequest) (*ec2api.DescribeVpcPeeringConnectionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	now := s.now()
	out := &ec2api.DescribeVpcPeeringConnectionsResult{VpcPeeringConnections: []*ec2api.VpcPeeringConnection{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindPeering, query{ids: in.VpcPeeringConnectionIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(p *peeringRecord) string { return *p.VpcPeeringConnectionId }, func(p *peeringRecord) []*ec2api.Tag { return p.Tags }, peeringFilters(now))
		for _, p := range page {
			if st := peeringStatus(p, now); st == "expired" {
				p.Status = peeringState(st, "Expired")
			}
			out.VpcPeeringConnections = append(out.VpcPeeringConnections, &p.VpcPeeringConnection)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
