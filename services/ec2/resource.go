package ec2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

// kind describes one EC2 resource type: its id prefix, where it is stored,
// and the errors AWS gives for an id that is unknown or malformed.
type kind struct {
	prefix        string // "vpc" for vpc-0a1b...
	store         string // store kind
	resourceType  string // TagSpecification ResourceType
	noun          string // as AWS's not-found message names it
	notFound      string // error code
	malformed     string // error code
	notFoundQuote bool   // message quotes the id: 'vpc-1'
	bracketID     bool   // ... and brackets it: '[ami-1]'
}

var (
	kindVPC       = &kind{prefix: "vpc", store: "ec2:vpc", resourceType: "vpc", noun: "vpc ID", notFound: "InvalidVpcID.NotFound", malformed: "InvalidVpcID.Malformed", notFoundQuote: true}
	kindSubnet    = &kind{prefix: "subnet", store: "ec2:subnet", resourceType: "subnet", noun: "subnet ID", notFound: "InvalidSubnetID.NotFound", malformed: "InvalidSubnetID.Malformed", notFoundQuote: true}
	kindIGW       = &kind{prefix: "igw", store: "ec2:igw", resourceType: "internet-gateway", noun: "internetGateway ID", notFound: "InvalidInternetGatewayID.NotFound", malformed: "InvalidInternetGatewayId.Malformed", notFoundQuote: true}
	kindRouteTbl  = &kind{prefix: "rtb", store: "ec2:route-table", resourceType: "route-table", noun: "routeTable ID", notFound: "InvalidRouteTableID.NotFound", malformed: "InvalidRouteTableId.Malformed", notFoundQuote: true}
	kindNACL      = &kind{prefix: "acl", store: "ec2:network-acl", resourceType: "network-acl", noun: "networkAcl ID", notFound: "InvalidNetworkAclID.NotFound", malformed: "InvalidNetworkAclId.Malformed", notFoundQuote: true}
	kindSG        = &kind{prefix: "sg", store: "ec2:security-group", resourceType: "security-group", noun: "security group", notFound: "InvalidGroup.NotFound", malformed: "InvalidGroupId.Malformed", notFoundQuote: true}
	kindENI       = &kind{prefix: "eni", store: "ec2:network-interface", resourceType: "network-interface", noun: "networkInterface ID", notFound: "InvalidNetworkInterfaceID.NotFound", malformed: "InvalidNetworkInterfaceID.Malformed", notFoundQuote: true}
	kindAddress   = &kind{prefix: "eipalloc", store: "ec2:address", resourceType: "elastic-ip", noun: "allocation ID", notFound: "InvalidAllocationID.NotFound", malformed: "InvalidAllocationID.Malformed", notFoundQuote: true}
	kindNAT       = &kind{prefix: "nat", store: "ec2:nat-gateway", resourceType: "natgateway", noun: "Nat Gateway", notFound: "NatGatewayNotFound", malformed: "InvalidNatGatewayID.Malformed"}
	kindKeyPair   = &kind{prefix: "key", store: "ec2:key-pair", resourceType: "key-pair", noun: "key pair", notFound: "InvalidKeyPair.NotFound", malformed: "InvalidKeyPair.Malformed", notFoundQuote: true}
	kindInstance  = &kind{prefix: "i", store: "ec2:instance", resourceType: "instance", noun: "instance ID", notFound: "InvalidInstanceID.NotFound", malformed: "InvalidInstanceID.Malformed", notFoundQuote: true}
	kindImage     = &kind{prefix: "ami", store: "ec2:image", resourceType: "image", noun: "image id", notFound: "InvalidAMIID.NotFound", malformed: "InvalidAMIID.Malformed", notFoundQuote: true, bracketID: true}
	kindLaunchTpl = &kind{prefix: "lt", store: "ec2:launch-template", resourceType: "launch-template", noun: "launch template ID", notFound: "InvalidLaunchTemplateId.NotFound", malformed: "InvalidLaunchTemplateId.Malformed", notFoundQuote: true}
	kindPeering   = &kind{prefix: "pcx", store: "ec2:vpc-peering-connection", resourceType: "vpc-peering-connection", noun: "vpcPeeringConnection ID", notFound: "InvalidVpcPeeringConnectionID.NotFound", malformed: "InvalidVpcPeeringConnectionId.Malformed", notFoundQuote: true}
	kindDHCP      = &kind{prefix: "dopt", store: "ec2:dhcp-options", resourceType: "dhcp-options", noun: "dhcpOption ID", notFound: "InvalidDhcpOptionID.NotFound", malformed: "InvalidDhcpOptionsId.Malformed", notFoundQuote: true}
	kindVolume    = &kind{prefix: "vol", store: "ec2:volume", resourceType: "volume", noun: "volume", notFound: "InvalidVolume.NotFound", malformed: "InvalidVolumeID.Malformed", notFoundQuote: true}
	kindSnapshot  = &kind{prefix: "snap", store: "ec2:snapshot", resourceType: "snapshot", noun: "snapshot", notFound: "InvalidSnapshot.NotFound", malformed: "InvalidSnapshotID.Malformed", notFoundQuote: true}
)

// kinds lists every taggable kind, for CreateTags and DescribeTags, which
// take ids of any type.
var kinds = []*kind{kindVPC, kindSubnet, kindIGW, kindRouteTbl, kindNACL, kindSG, kindENI, kindAddress, kindNAT, kindKeyPair, kindInstance, kindImage, kindLaunchTpl, kindPeering, kindDHCP, kindVolume, kindSnapshot}

// kindOfID returns the kind an id belongs to by its prefix.
func kindOfID(id string) *kind {
	p, _, ok := strings.Cut(id, "-")
	if !ok {
		return nil
	}
	for _, k := range kinds {
		if k.prefix == p {
			return k
		}
	}
	return nil
}

// newID returns a fresh id of the kind: prefix, dash, 17 hex digits, the
// form AWS has used since 2016.
func (k *kind) newID() string {
	var b [9]byte
	rand.Read(b[:])
	return k.prefix + "-" + hex.EncodeToString(b[:])[:17]
}

var idRE = regexp.MustCompile(`^[a-z]+-[0-9a-f]{8}([0-9a-f]{9})?$`)

// checkID returns the Malformed error for an id that cannot be of this kind.
func (k *kind) checkID(id string) error {
	if !strings.HasPrefix(id, k.prefix+"-") || !idRE.MatchString(id) {
		return api.Errorf(k.malformed, "Invalid id: \"%s\"", id)
	}
	return nil
}

func (k *kind) notFoundError(id string) error {
	if k.bracketID {
		id = "[" + id + "]"
	}
	if k.notFoundQuote {
		return api.Errorf(k.notFound, "The %s '%s' does not exist", k.noun, id)
	}
	return api.Errorf(k.notFound, "The %s %s was not found", k.noun, id)
}

// scope is the account and region of a request.
type scope struct {
	account, region string
}

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

func (sc scope) key(k *kind, id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: k.store, ID: id}
}

// load reads the record id of kind k, or returns k's not-found error (or
// its malformed error, for an id that cannot be one).
func load[T any](tx *store.Tx, sc scope, k *kind, id string) (*T, error) {
	v, ok, err := store.Get[T](tx, sc.key(k, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := k.checkID(id); err != nil {
			return nil, err
		}
		return nil, k.notFoundError(id)
	}
	return v, nil
}

func save(tx *store.Tx, sc scope, k *kind, id string, v any) error {
	return tx.Put(sc.key(k, id), v)
}

func remove(tx *store.Tx, sc scope, k *kind, id string) error {
	_, err := tx.Delete(sc.key(k, id))
	return err
}

func listAll[T any](tx *store.Tx, sc scope, k *kind) ([]*T, error) {
	return store.ListAll[T](tx, sc.account, sc.region, k.store)
}

// dryRun answers a request whose DryRun flag is set, after its checks
// passed, as AWS does.
func dryRun(flag *bool) error {
	if flag != nil && *flag {
		return api.NewError(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// dependencyViolation is AWS's error for deleting something still in use.
func dependencyViolation(format string, args ...any) error {
	return api.Errorf("DependencyViolation", format, args...)
}

func invalidParameter(format string, args ...any) error {
	return api.Errorf("InvalidParameterValue", format, args...)
}

// str, i64 and boolp make the pointer fields of API shapes.
func str(s string) *string { return &s }
func i64(n int64) *int64   { return &n }
func boolp(b bool) *bool   { return &b }
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
