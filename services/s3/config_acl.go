package s3

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketAcl = s.getBucketAcl
		h.PutBucketAcl = s.putBucketAcl
		h.GetObjectAcl = s.getObjectAcl
		h.PutObjectAcl = s.putObjectAcl
	})
}

// The predefined groups a grant may name.
const (
	allUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	logDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// grant is one grant of an ACL given grant by grant.
type grant struct {
	// Type is CanonicalUser or Group.
	Type       string
	ID         string `json:",omitempty"` // a canonical user id
	URI        string `json:",omitempty"` // a group
	Permission string
}

// cannedACLs are the canned ACLs S3 accepts, for buckets and objects (a
// bucket takes the bucket-owner ones as private).
var cannedACLs = []string{"private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
	"bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"}

// cannedGrants are the grants a canned ACL stands for, on a resource
// owned by account in a bucket owned by bucketOwner.
func cannedGrants(acl, account, bucketOwner string) []grant {
	user := func(acct, perm string) grant {
		return grant{Type: "CanonicalUser", ID: canonicalID(acct), Permission: perm}
	}
	group := func(uri, perm string) grant { return grant{Type: "Group", URI: uri, Permission: perm} }
	gs := []grant{user(account, "FULL_CONTROL")}
	switch acl {
	case "public-read":
		gs = append(gs, group(allUsers, "READ"))
	case "public-read-write":
		gs = append(gs, group(allUsers, "READ"), group(allUsers, "WRITE"))
	case "authenticated-read":
		gs = append(gs, group(authenticatedUsers, "READ"))
	case "log-delivery-write":
		gs = append(gs, group(logDelivery, "WRITE"), group(logDelivery, "READ_ACP"))
	case "bucket-owner-read":
		if bucketOwner != account {
			gs = append(gs, user(bucketOwner, "READ"))
		}
	case "bucket-owner-full-control":
		if bucketOwner != account {
			gs = append(gs, user(bucketOwner, "FULL_CONTROL"))
		}
	}
	return gs
}

// publicGrant says whether g opens its resource to everyone (or to every
// AWS account): what Block Public Access refuses.
func publicGrant(g grant) bool {
	return g.Type == "Group" && (g.URI == allUsers || g.URI == authenticatedUsers)
}

// grantsOfObject is the prefix of a version's ACL field when it holds
// grants rather than a canned ACL's name: a version has one string for
// its ACL (object.go).
const grantsOfObject = "grants:"

// objectGrants are the grants of v in b.
func objectGrants(b *bucketRecord, v *version) []grant {
	owner := objectOwner(b, v)
	if enc, ok := strings.CutPrefix(v.ACL, grantsOfObject); ok {
		var gs []grant
		if json.Unmarshal([]byte(enc), &gs) == nil {
			return gs
		}
	}
	return cannedGrants(v.ACL, owner, b.Owner)
}

// objectACL is what a version's ACL field keeps for grants: a canned
// ACL's name when it has one, else the grants themselves.
func objectACL(canned string, gs []grant) string {
	if canned != "" {
		return canned
	}
	enc, _ := json.Marshal(gs)
	return grantsOfObject + string(enc)
}

// objectOwner is the account that owns v: with ACLs disabled, or when the
// bucket owner is preferred, the bucket owner owns every object.
func objectOwner(b *bucketRecord, v *version) string {
	if v.Owner == "" || b.Config.Ownership == "BucketOwnerEnforced" {
		return b.Owner
	}
	return v.Owner
}

// bucketGrants are the grants of b's ACL.
func bucketGrants(b *bucketRecord) []grant {
	if b.Config.ACL == "" && len(b.Config.Grants) > 0 {
		return b.Config.Grants
	}
	return cannedGrants(b.Config.ACL, b.Owner, b.Owner)
}

// apiGrants writes grants as S3 shows them; a grantee that is one of
// accounts is shown with its display name, as Owner elements are.
func apiGrants(gs []grant, accounts ...string) []*s3api.Grant {
	out := []*s3api.Grant{}
	for _, g := range gs {
		grantee := &s3api.Grantee{Type: str(g.Type)}
		if g.Type == "Group" {
			grantee.URI = str(g.URI)
		} else {
			grantee.ID = str(g.ID)
			for _, acct := range accounts {
				if o := owner(acct); *o.ID == g.ID {
					grantee.DisplayName = o.DisplayName
				}
			}
		}
		out = append(out, &s3api.Grant{Grantee: grantee, Permission: str(g.Permission)})
	}
	return out
}

// aclInput is an ACL as a Put*Acl request gives it: a canned ACL, grant
// headers, or an AccessControlPolicy document; exactly one.
type aclInput struct {
	canned  *string
	headers map[string]*string // permission -> x-amz-grant-* value
	policy  *s3api.AccessControlPolicy
}

// grants resolves an ACL request into a canned ACL's name or explicit
// grants; bucketACL says it is a bucket's.
func (in aclInput) grants(bucketACL bool) (canned string, gs []grant, err error) {
	var sent []string
	for _, v := range in.headers {
		if v != nil {
			sent = append(sent, *v)
		}
	}
	switch {
	case in.canned != nil && len(sent) > 0:
		return "", nil, invalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
	case (in.canned != nil || len(sent) > 0) && in.policy != nil:
		return "", nil, errorf(http.StatusBadRequest, "UnexpectedContent", "This request does not support content")
	case in.canned != nil:
		acl := *in.canned
		if !slices.Contains(cannedACLs, acl) {
			return "", nil, invalidArgument("x-amz-acl", acl, "")
		}
		if bucketACL && (acl == "bucket-owner-read" || acl == "bucket-owner-full-control") {
			acl = "private"
		}
		return acl, nil, nil
	case len(sent) > 0:
		gs, err := headerGrants(in.headers)
		return "", gs, err
	case in.policy != nil:
		gs, err := policyGrants(in.policy)
		return "", gs, err
	}
	return "", nil, errorf(http.StatusBadRequest, "MissingSecurityHeader", "Your request was missing a required header").With("MissingHeaderName", "x-amz-acl")
}

// headerGrants reads x-amz-grant-* headers: comma-separated id="...",
// uri="..." or emailAddress="..." grantees.
func headerGrants(headers map[string]*string) ([]grant, error) {
	var gs []grant
	for _, perm := range []string{"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"} {
		v := headers[perm]
		if v == nil {
			continue
		}
		name := "x-amz-grant-" + strings.ReplaceAll(strings.ToLower(perm), "_", "-")
		for _, item := range strings.Split(*v, ",") {
			kind, value, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok {
				return nil, invalidArgument(name, item, "Argument format not recognized")
			}
			g := grant{Permission: perm}
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch strings.TrimSpace(kind) {
			case "id":
				g.Type, g.ID = "CanonicalUser", value
			case "uri":
				g.Type, g.URI = "Group", value
			case "emailAddress":
				return nil, unresolvableEmail(value)
			default:
				return nil, invalidArgument(name, item, "Argument format not recognized")
			}
			if err := checkGrantee(g); err != nil {
				return nil, err
			}
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// policyGrants reads an AccessControlPolicy document.
func policyGrants(p *s3api.AccessControlPolicy) ([]grant, error) {
	malformedACL := errorf(http.StatusBadRequest, "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema")
	if p.Owner == nil || p.Owner.ID == nil {
		return nil, malformedACL
	}
	var gs []grant
	for _, x := range p.Grants {
		if x == nil || x.Grantee == nil || !slices.Contains([]string{"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"}, deref(x.Permission)) {
			return nil, malformedACL
		}
		g := grant{Type: deref(x.Grantee.Type), Permission: *x.Permission}
		switch g.Type {
		case "CanonicalUser":
			g.ID = deref(x.Grantee.ID)
		case "Group":
			g.URI = deref(x.Grantee.URI)
		case "AmazonCustomerByEmail":
			return nil, unresolvableEmail(deref(x.Grantee.EmailAddress))
		default:
			return nil, malformedACL
		}
		if err := checkGrantee(g); err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// checkGrantee applies S3's rules for a grantee: a canonical id of 64 hex
// digits, or one of the predefined groups.
func checkGrantee(g grant) error {
	if g.Type == "Group" {
		if !slices.Contains([]string{allUsers, authenticatedUsers, logDelivery}, g.URI) {
			return invalidArgument("uri", g.URI, "Invalid group uri")
		}
		return nil
	}
	if _, err := hex.DecodeString(g.ID); err != nil || len(g.ID) != 64 {
		return invalidArgument("id", g.ID, "Invalid id")
	}
	return nil
}

// unresolvableEmail is S3's answer to a grantee by e-mail: cloudbox has no
// e-mail addresses for accounts (and S3 no longer takes them in most
// regions).
func unresolvableEmail(email string) error {
	return errorf(http.StatusBadRequest, "UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match any account on record.").With("EmailAddressProvided", email)
}

// aclsDisabled is S3's answer to an ACL a bucket whose ownership is
// BucketOwnerEnforced does not take.
func aclsDisabled() error {
	return errorf(http.StatusBadRequest, "AccessControlListNotSupported", "The bucket does not allow ACLs")
}

// ownerOnly says whether an ACL gives nothing to anyone but the owner:
// the only ACLs a bucket with ACLs disabled takes.
func ownerOnly(canned string, gs []grant, account string) bool {
	switch canned {
	case "private", "bucket-owner-full-control":
		return true
	case "":
		return len(gs) == 1 && gs[0].Type == "CanonicalUser" && gs[0].ID == canonicalID(account) && gs[0].Permission == "FULL_CONTROL"
	}
	return false
}

// checkACL applies the bucket's ownership and Block Public Access
// settings to an ACL being set by a request of operation op.
func checkACL(ctx context.Context, b *bucketRecord, op, resource, canned string, gs []grant) error {
	if b.Config.Ownership == "BucketOwnerEnforced" && !ownerOnly(canned, gs, b.Owner) {
		return aclsDisabled()
	}
	if canned != "" {
		gs = cannedGrants(canned, b.Owner, b.Owner)
	}
	if pab := b.Config.PublicAccessBlock; pab != nil && pab.BlockPublicAcls != nil && *pab.BlockPublicAcls && slices.ContainsFunc(gs, publicGrant) {
		return notAuthorized(ctx, op, resource, "public access control lists (ACLs) are blocked by the BlockPublicAcls block public access setting.")
	}
	return nil
}

// notAuthorized is S3's AccessDenied that names the reason, as it has
// since 2023.
func notAuthorized(ctx context.Context, op, resource, because string) error {
	return errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: s3:%s on resource: \"arn:aws:s3:::%s\" because %s",
		api.RequestFrom(ctx).Caller.ARN, op, resource, because)
}

func grantHeaders(full, read, readACP, write, writeACP *string) map[string]*string {
	return map[string]*string{"FULL_CONTROL": full, "READ": read, "READ_ACP": readACP, "WRITE": write, "WRITE_ACP": writeACP}
}

func (s *Service) getBucketAcl(ctx context.Context, in *s3api.GetBucketAclRequest) (*s3api.GetBucketAclOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	return &s3api.GetBucketAclOutput{Owner: owner(b.Owner), Grants: apiGrants(bucketGrants(b), b.Owner)}, nil
}

func (s *Service) putBucketAcl(ctx context.Context, in *s3api.PutBucketAclRequest) (*s3api.PutBucketAclOutput, error) {
	acl := aclInput{canned: in.ACL, headers: grantHeaders(in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWrite, in.GrantWriteACP), policy: in.AccessControlPolicy}
	err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		canned, gs, err := acl.grants(true)
		if err != nil {
			return err
		}
		if err := checkACL(ctx, b, "PutBucketAcl", b.Name, canned, gs); err != nil {
			return err
		}
		b.Config.ACL, b.Config.Grants = canned, gs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketAclOutput{}, nil
}

func (s *Service) getObjectAcl(ctx context.Context, in *s3api.GetObjectAclRequest) (*s3api.GetObjectAclOutput, error) {
	var b *bucketRecord
	var v *version
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, deref(in.Bucket)); err != nil {
			return err
		}
		o, err := getObjectRecord(tx, b, deref(in.Key))
		if err != nil {
			return err
		}
		v, err = objectVersion(o, deref(in.Key), deref(in.VersionId))
		return err
	})
	if err != nil {
		return nil, err
	}
	acct := objectOwner(b, v)
	return &s3api.GetObjectAclOutput{Owner: owner(acct), Grants: apiGrants(objectGrants(b, v), acct, b.Owner)}, nil
}

func (s *Service) putObjectAcl(ctx context.Context, in *s3api.PutObjectAclRequest) (*s3api.PutObjectAclOutput, error) {
	acl := aclInput{canned: in.ACL, headers: grantHeaders(in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWrite, in.GrantWriteACP), policy: in.AccessControlPolicy}
	key := deref(in.Key)
	_, _, err := s.updateObject(ctx, deref(in.Bucket), key, deref(in.VersionId), func(b *bucketRecord, v *version) error {
		canned, gs, err := acl.grants(false)
		if err != nil {
			return err
		}
		if err := checkACL(ctx, b, "PutObjectAcl", b.Name+"/"+key, canned, gs); err != nil {
			return err
		}
		v.ACL = objectACL(canned, gs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectAclOutput{}, nil
}
