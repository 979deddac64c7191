package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// UseProfiles makes EC2 take instance profiles from IAM: RunInstances and
// the associations refuse a profile IAM does not have, as AWS does, and
// show IAM's ARN and id; ValidSession checks the profile still holds the
// role of the credentials. The daemon calls it when IAM is built.
func (s *Service) UseProfiles(p desired.Profiles) { s.profiles = p }

func badProfileARN(v string) error {
	return invalidParameter("Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", v)
}

func badProfileName(v string) error {
	return invalidParameter("Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", v)
}

// resolveProfile is instanceProfile checked against IAM when IAM is wired.
// It reads IAM's records, so it runs outside EC2's transactions.
func (s *Service) resolveProfile(sc scope, spec *ec2api.IamInstanceProfileSpecification) (*ec2api.IamInstanceProfile, error) {
	p, err := instanceProfile(sc, spec)
	if err != nil || p == nil || s.profiles == nil {
		return p, err
	}
	ip, ok, err := s.profiles.InstanceProfile(sc.account, profileName(*p.Arn))
	if err != nil {
		return nil, err
	}
	switch {
	case spec.Arn != nil && (!ok || ip.ARN != *spec.Arn):
		return nil, badProfileARN(*spec.Arn)
	case !ok:
		return nil, badProfileName(*spec.Name)
	}
	return &ec2api.IamInstanceProfile{Arn: str(ip.ARN), Id: str(ip.ID)}, nil
}

// profileName is the name in an instance profile's ARN (after its path).
func profileName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// launchProfile resolves the profile RunInstances names, given or from
// its launch template, before the launch's transaction; nil without IAM
// (planLaunch then takes any well-formed one) or without a profile.
func (s *Service) launchProfile(sc scope, in *ec2api.RunInstancesRequest) (*ec2api.IamInstanceProfile, error) {
	if s.profiles == nil {
		return nil, nil
	}
	spec := in.IamInstanceProfile
	if in.LaunchTemplate != nil {
		err := s.store.View(func(tx *store.Tx) error {
			req, _, err := applyLaunchTemplate(tx, sc, in)
			if err == nil {
				spec = req.IamInstanceProfile
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return s.resolveProfile(sc, spec)
}

// association is an instance's profile association as EC2 shows it.
func association(r *instanceRecord, state string) *ec2api.IamInstanceProfileAssociation {
	a := &ec2api.IamInstanceProfileAssociation{AssociationId: str(associationID(r)), InstanceId: r.InstanceId,
		IamInstanceProfile: r.IamInstanceProfile, State: str(state)}
	if !r.ProfileAssociated.IsZero() {
		t := r.ProfileAssociated
		a.Timestamp = &t
	}
	return a
}

// associationID is the instance's association id; instances launched
// before associations were kept get one derived from their id.
func associationID(r *instanceRecord) string {
	if r.ProfileAssociation != "" {
		return r.ProfileAssociation
	}
	h := sha256.Sum256([]byte(deref(r.InstanceId)))
	return "iip-assoc-" + hex.EncodeToString(h[:])[:17]
}

// gone reports whether an instance is terminated or on its way there: it
// takes no profile, and its credentials stop working.
func gone(state string) bool { return state == stateShuttingDown || state == stateTerminated }

func (s *Service) AssociateIamInstanceProfile(ctx context.Context, in *ec2api.AssociateIamInstanceProfileRequest) (*ec2api.AssociateIamInstanceProfileResult, error) {
	sc := scopeOf(ctx)
	id := deref(in.InstanceId)
	if err := kindInstance.checkID(id); err != nil {
		return nil, err
	}
	prof, err := s.associationProfile(sc, in.IamInstanceProfile)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var out *ec2api.IamInstanceProfileAssociation
	err = s.store.Update(func(tx *store.Tx) error {
		r, err := loadInstance(tx, sc, id, now)
		if err != nil {
			return err
		}
		if gone(instanceStateName(r)) {
			return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
		}
		if r.IamInstanceProfile != nil {
			return api.Errorf("IncorrectState", "There is an existing association for instance %s", id)
		}
		r.IamInstanceProfile, r.ProfileAssociation, r.ProfileAssociated = prof, newAssocID("iip-assoc"), now
		out = association(r, "associating")
		return save(tx, sc, kindInstance, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateIamInstanceProfileResult{IamInstanceProfileAssociation: out}, nil
}

func (s *Service) ReplaceIamInstanceProfileAssociation(ctx context.Context, in *ec2api.ReplaceIamInstanceProfileAssociationRequest) (*ec2api.ReplaceIamInstanceProfileAssociationResult, error) {
	sc := scopeOf(ctx)
	prof, err := s.associationProfile(sc, in.IamInstanceProfile)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var out *ec2api.IamInstanceProfileAssociation
	err = s.store.Update(func(tx *store.Tx) error {
		r, err := findAssociation(tx, sc, deref(in.AssociationId), now)
		if err != nil {
			return err
		}
		r.IamInstanceProfile, r.ProfileAssociation, r.ProfileAssociated = prof, newAssocID("iip-assoc"), now
		out = association(r, "associating")
		return save(tx, sc, kindInstance, *r.InstanceId, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceIamInstanceProfileAssociationResult{IamInstanceProfileAssociation: out}, nil
}

func (s *Service) DisassociateIamInstanceProfile(ctx context.Context, in *ec2api.DisassociateIamInstanceProfileRequest) (*ec2api.DisassociateIamInstanceProfileResult, error) {
	sc := scopeOf(ctx)
	now := s.now().UTC()
	var out *ec2api.IamInstanceProfileAssociation
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := findAssociation(tx, sc, deref(in.AssociationId), now)
		if err != nil {
			return err
		}
		out = association(r, "disassociating")
		out.Timestamp = nil // AWS's answer has none
		r.IamInstanceProfile, r.ProfileAssociation, r.ProfileAssociated = nil, "", now
		return save(tx, sc, kindInstance, *r.InstanceId, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateIamInstanceProfileResult{IamInstanceProfileAssociation: out}, nil
}

// associationProfile is the profile Associate and Replace name, required.
func (s *Service) associationProfile(sc scope, spec *ec2api.IamInstanceProfileSpecification) (*ec2api.IamInstanceProfile, error) {
	prof, err := s.resolveProfile(sc, spec)
	if err == nil && prof == nil {
		err = api.Errorf("MissingParameter", "The request must contain the parameter IamInstanceProfile")
	}
	return prof, err
}

// findAssociation returns the live instance an association id is of.
func findAssociation(tx *store.Tx, sc scope, id string, now time.Time) (*instanceRecord, error) {
	if !strings.HasPrefix(id, "iip-assoc-") {
		return nil, invalidParameter("Invalid value for associationId.")
	}
	all, err := listAll[instanceRecord](tx, sc, kindInstance)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.IamInstanceProfile != nil && associationID(r) == id && !expired(r, now) && !gone(instanceStateName(r)) {
			return r, nil
		}
	}
	return nil, api.Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
}

func (s *Service) DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2api.DescribeIamInstanceProfileAssociationsRequest) (*ec2api.DescribeIamInstanceProfileAssociationsResult, error) {
	sc := scopeOf(ctx)
	type rec = ec2api.IamInstanceProfileAssociation
	fs := fields[rec]{
		"instance-id": func(a *rec) []string { return one(a.InstanceId) },
		"state":       func(a *rec) []string { return one(a.State) },
	}
	if err := checkFilterNames(in.Filters, fs); err != nil {
		return nil, err
	}
	if len(in.AssociationIds) > 0 && in.MaxResults != nil {
		return nil, api.Errorf("InvalidParameterCombination", "The parameter AssociationId cannot be used with the parameter maxResults")
	}
	now := s.now().UTC()
	var all []*rec
	err := s.store.View(func(tx *store.Tx) error {
		recs, err := listAll[instanceRecord](tx, sc, kindInstance)
		for _, r := range recs {
			if r.IamInstanceProfile != nil && !expired(r, now) && !gone(instanceStateName(r)) {
				all = append(all, association(r, "associated"))
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].AssociationId < *all[j].AssociationId })
	if len(in.AssociationIds) > 0 {
		byID := map[string]*rec{}
		for _, a := range all {
			byID[*a.AssociationId] = a
		}
		all = nil
		for _, id := range derefAll(in.AssociationIds) {
			a, ok := byID[id]
			if !ok {
				return nil, api.Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
			}
			all = append(all, a)
		}
	}
	var matched []*rec
	for _, a := range all {
		ok, err := matchFilters(in.Filters, a, func(*rec) []*ec2api.Tag { return nil }, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, a)
		}
	}
	page, next, err := paginate(matched, func(a *rec) string { return *a.AssociationId }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*rec{}
	}
	return &ec2api.DescribeIamInstanceProfileAssociationsResult{IamInstanceProfileAssociations: page, NextToken: next}, nil
}

// ValidSession reports whether temporary credentials may still sign
// requests (identity.Resolver.CheckSessions): those IMDS issued for an
// instance's profile only while the instance is not terminated, still has
// that profile, and the profile still holds the credentials' role. It
// runs on every request signed with temporary credentials: it reads two
// records by key, and IAM's profile.
func (s *Service) ValidSession(p api.Principal) bool {
	ss := p.Session
	if ss == nil || ss.Instance == "" {
		return true
	}
	info, ok, err := s.sessionInstance(p.Account, ss.Instance)
	if err != nil {
		s.log.Warn("ec2: checking instance credentials", "instance", ss.Instance, "error", err)
		return false
	}
	if !ok || gone(info.state) || info.profile != ss.Profile {
		return false
	}
	if s.profiles == nil {
		return true
	}
	ip, ok, err := s.profiles.InstanceProfile(p.Account, profileName(ss.Profile))
	if err != nil || !ok || ip.ARN != ss.Profile || ip.Role == "" {
		return false
	}
	// The principal is arn:aws:sts::<account>:assumed-role/<role>/<instance>.
	f := strings.Split(p.ARN, "/")
	return len(f) == 3 && f[1] == ip.Role
}

// sessionInfo is what ValidSession needs of an instance.
type sessionInfo struct{ state, profile string }

// sessionInfos decodes instances for ValidSession, once per change.
var sessionInfos = store.NewMemo(100_000, func(k store.Key, raw []byte) (sessionInfo, error) {
	var r instanceRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return sessionInfo{}, fmt.Errorf("ec2: decode %s: %w", k.ID, err)
	}
	in := sessionInfo{state: instanceStateName(&r)}
	if r.IamInstanceProfile != nil {
		in.profile = deref(r.IamInstanceProfile.Arn)
	}
	return in, nil
})

// sessionInstance reads an instance of account, wherever its region: the
// region is found once (an instance never moves) among the account's.
func (s *Service) sessionInstance(account, id string) (info sessionInfo, ok bool, err error) {
	err = s.store.View(func(tx *store.Tx) error {
		if region, known := s.regions.Load(id); known {
			info, ok, err = sessionInfos.Get(tx, scope{account: account, region: region.(string)}.key(kindInstance, id))
			return err
		}
		pairs, err := tx.Scopes(kindInstance.store)
		if err != nil {
			return err
		}
		for _, pr := range pairs {
			if pr[0] != account {
				continue
			}
			if info, ok, err = sessionInfos.Get(tx, scope{account: account, region: pr[1]}.key(kindInstance, id)); err != nil || ok {
				if ok {
					s.regions.Store(id, pr[1])
				}
				return err
			}
		}
		return nil
	})
	return info, ok, err
}
