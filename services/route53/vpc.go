package route53

import (
	"context"
	"slices"
	"strconv"
	"strings"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// vpcOf reads the VPC of a request: both its id and its region are
// needed.
func vpcOf(v *r53api.VPC) (vpcRef, error) {
	if v == nil || deref(v.VPCId) == "" || deref(v.VPCRegion) == "" {
		return vpcRef{}, invalidInput("Both VPCId and VPCRegion must be specified.")
	}
	return vpcRef{Region: *v.VPCRegion, ID: *v.VPCId}, nil
}

// checkVPC refuses a VPC that does not exist in its account and region.
func (s *Service) checkVPC(tx *store.Tx, v vpcRef) error {
	ok, err := s.vpcExists(tx, v.Account, v.Region, v.ID)
	if err != nil {
		return err
	}
	if !ok {
		return errorf("InvalidVPCId", "The VPC ID '%s' that you specified either isn't a valid ID or the current account is not authorized to access this VPC.", v.ID)
	}
	return nil
}

// eachZone calls fn with every account's zones.
func eachZone(tx *store.Tx, fn func(owner string, z *zoneRecord) error) error {
	scopes, err := tx.Scopes(kindZone)
	if err != nil {
		return err
	}
	for _, sc := range scopes {
		if sc[1] != "" {
			continue
		}
		all, err := zones(tx, sc[0])
		if err != nil {
			return err
		}
		for _, z := range all {
			if err := fn(sc[0], z); err != nil {
				return err
			}
		}
	}
	return nil
}

// conflictingZone refuses a private zone of name in VPC v when another
// zone of that name (other than except) is associated with v already.
func conflictingZone(tx *store.Tx, zone, except string, v vpcRef) error {
	return eachZone(tx, func(_ string, z *zoneRecord) error {
		if z.ID != except && z.Name == zone && z.hasVPC(v) {
			return errorf("ConflictingDomainExists", "The VPC %s in %s is already associated with another hosted zone (%s) with the same name: %s", v.ID, v.Region, z.ID, zone)
		}
		return nil
	})
}

// zoneForVPC finds the zone a VPC association request names: the
// caller's own, or another account's the caller may act on for its VPC.
func zoneForVPC(tx *store.Tx, acct, id string) (owner string, z *zoneRecord, err error) {
	z, ok, err := store.Get[zoneRecord](tx, key(acct, kindZone, id))
	if err != nil || ok {
		return acct, z, err
	}
	owner, z, err = findZone(tx, id)
	if err == nil && z == nil {
		err = noSuchZone(id)
	}
	return owner, z, err
}

func (s *Service) associateVPC(ctx context.Context, in *r53api.AssociateVPCWithHostedZoneRequest) (*r53api.AssociateVPCWithHostedZoneResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	v, err := vpcOf(in.VPC)
	if err != nil {
		return nil, err
	}
	v.Account = acct
	out := &r53api.AssociateVPCWithHostedZoneResponse{}
	err = s.store.Update(func(tx *store.Tx) error {
		owner, z, err := zoneForVPC(tx, acct, id)
		if err != nil {
			return err
		}
		if owner != acct && !slices.ContainsFunc(z.Authorizations, v.same) {
			return errorf("NotAuthorizedException", "The VPC %s in %s is not authorized to be associated with the hosted zone %s.", v.ID, v.Region, id)
		}
		if !z.Private {
			return errorf("PublicZoneVPCAssociation", "Attempting to associate public zone: %s with vpc: %s", id, v.ID)
		}
		if err := s.checkVPC(tx, v); err != nil {
			return err
		}
		if z.hasVPC(v) {
			return errorf("ConflictingDomainExists", "The VPC %s in %s is already associated with the hosted zone %s with the same domain name.", v.ID, v.Region, id)
		}
		if err := conflictingZone(tx, z.Name, z.ID, v); err != nil {
			return err
		}
		if len(z.VPCs) >= maxVPCs {
			return errorf("LimitsExceeded", "A private hosted zone can be associated with at most %d VPCs.", maxVPCs)
		}
		z.VPCs = append(z.VPCs, v)
		if err := saveZone(tx, owner, z); err != nil {
			return err
		}
		ch, err := s.newChange(tx, acct, deref(in.Comment))
		out.ChangeInfo = s.changeInfo(ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) disassociateVPC(ctx context.Context, in *r53api.DisassociateVPCFromHostedZoneRequest) (*r53api.DisassociateVPCFromHostedZoneResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	v, err := vpcOf(in.VPC)
	if err != nil {
		return nil, err
	}
	out := &r53api.DisassociateVPCFromHostedZoneResponse{}
	err = s.store.Update(func(tx *store.Tx) error {
		owner, z, err := zoneForVPC(tx, acct, id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(z.VPCs, v.same)
		// Another account may only take its own VPC away.
		if i < 0 || owner != acct && z.VPCs[i].Account != acct {
			if owner != acct {
				return noSuchZone(id)
			}
			return errorf("VPCAssociationNotFound", "The specified VPC and hosted zone are not currently associated.")
		}
		if len(z.VPCs) == 1 {
			return errorf("LastVPCAssociation", "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.")
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		if err := saveZone(tx, owner, z); err != nil {
			return err
		}
		ch, err := s.newChange(tx, acct, deref(in.Comment))
		out.ChangeInfo = s.changeInfo(ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listHostedZonesByVPC(ctx context.Context, in *r53api.ListHostedZonesByVPCRequest) (*r53api.ListHostedZonesByVPCResponse, error) {
	acct := account(ctx)
	v := vpcRef{Region: deref(in.VPCRegion), ID: deref(in.VPCId)}
	limit, shown, err := maxItems(in.MaxItems, defaultMaxZones)
	if err != nil {
		return nil, err
	}
	type found struct {
		owner string
		z     *zoneRecord
	}
	var all []found
	err = s.store.View(func(tx *store.Tx) error {
		return eachZone(tx, func(owner string, z *zoneRecord) error {
			i := slices.IndexFunc(z.VPCs, v.same)
			if i >= 0 && (owner == acct || z.VPCs[i].Account == acct) {
				all = append(all, found{owner, z})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b found) int {
		if c := strings.Compare(sortKeyOf(a.z.Name), sortKeyOf(b.z.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.z.ID, b.z.ID)
	})
	start, err := pageToken(in.NextToken, len(all))
	if err != nil {
		return nil, err
	}
	out := &r53api.ListHostedZonesByVPCResponse{HostedZoneSummaries: []*r53api.HostedZoneSummary{}, MaxItems: str(shown)}
	for i := start; i < len(all); i++ {
		if len(out.HostedZoneSummaries) == limit {
			out.NextToken = str(strconv.Itoa(i))
			break
		}
		f := all[i]
		out.HostedZoneSummaries = append(out.HostedZoneSummaries, &r53api.HostedZoneSummary{
			HostedZoneId: str(f.z.ID), Name: str(f.z.Name), Owner: &r53api.HostedZoneOwner{OwningAccount: str(f.owner)},
		})
	}
	return out, nil
}

// pageToken reads a NextToken this package gave: the index to go on from.
func pageToken(p *string, n int) (int, error) {
	if p == nil {
		return 0, nil
	}
	i, err := strconv.Atoi(*p)
	if err != nil || i < 0 || i > n {
		return 0, errorf("InvalidPaginationToken", "The value that you specified for NextToken is not valid: %s", *p)
	}
	return i, nil
}

func (s *Service) createVPCAuthorization(ctx context.Context, in *r53api.CreateVPCAssociationAuthorizationRequest) (*r53api.CreateVPCAssociationAuthorizationResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	v, err := vpcOf(in.VPC)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, id)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(z.Authorizations, v.same) {
			return nil
		}
		if len(z.Authorizations) >= maxVPCs {
			return errorf("TooManyVPCAssociationAuthorizations", "You've created the maximum number of authorizations that can be created for the specified hosted zone.")
		}
		z.Authorizations = append(z.Authorizations, v)
		return saveZone(tx, acct, z)
	})
	if err != nil {
		return nil, err
	}
	return &r53api.CreateVPCAssociationAuthorizationResponse{HostedZoneId: str(id), VPC: v.api()}, nil
}

func (s *Service) listVPCAuthorizations(ctx context.Context, in *r53api.ListVPCAssociationAuthorizationsRequest) (*r53api.ListVPCAssociationAuthorizationsResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	limit, _, err := maxItems(in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &r53api.ListVPCAssociationAuthorizationsResponse{HostedZoneId: str(id), VPCs: []*r53api.VPC{}}
	err = s.store.View(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, id)
		if err != nil {
			return err
		}
		start, err := pageToken(in.NextToken, len(z.Authorizations))
		if err != nil {
			return err
		}
		for i := start; i < len(z.Authorizations); i++ {
			if len(out.VPCs) == limit {
				out.NextToken = str(strconv.Itoa(i))
				break
			}
			out.VPCs = append(out.VPCs, z.Authorizations[i].api())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) deleteVPCAuthorization(ctx context.Context, in *r53api.DeleteVPCAssociationAuthorizationRequest) (*r53api.DeleteVPCAssociationAuthorizationResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	v, err := vpcOf(in.VPC)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(z.Authorizations, v.same)
		if i < 0 {
			return errorf("VPCAssociationAuthorizationNotFound", "The VPC %s in %s is not authorized to be associated with the hosted zone %s.", v.ID, v.Region, id)
		}
		z.Authorizations = slices.Delete(z.Authorizations, i, i+1)
		return saveZone(tx, acct, z)
	})
	if err != nil {
		return nil, err
	}
	return &r53api.DeleteVPCAssociationAuthorizationResponse{}, nil
}
