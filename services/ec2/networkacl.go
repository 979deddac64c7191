package ec2

import (
	"context"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// maxACLRules is AWS's default quota of rules per direction of a network
// ACL, the final deny not counted.
const maxACLRules = 20

// defaultACLRule is the rule number of the deny-all rule every ACL ends
// with; it cannot be changed.
const defaultACLRule = 32767

func vpcNetworkACLs(tx *store.Tx, sc scope, vpcID string) ([]*networkACLRecord, error) {
	all, err := listAll[networkACLRecord](tx, sc, kindNACL)
	if err != nil {
		return nil, err
	}
	var out []*networkACLRecord
	for _, a := range all {
		if deref(a.VpcId) == vpcID {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *Service) CreateNetworkAcl(ctx context.Context, in *ec2api.CreateNetworkAclRequest) (*ec2api.CreateNetworkAclResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, kindNACL.resourceType)
	if err != nil {
		return nil, err
	}
	c := &inVPC{VpcId: deref(in.VpcId), Tags: tags}
	a, err := create(s, sc, creation[ec2api.NetworkAcl]{
		op: "CreateNetworkAcl", token: in.ClientToken, req: c, first: c.load(sc, in.DryRun),
		make: func(tx *store.Tx) (*ec2api.NetworkAcl, string, error) {
			a := newNetworkACL(sc, *c.vpc.VpcId, false)
			a.Tags = nonNilTags(tags)
			return &a.NetworkAcl, *a.NetworkAclId, save(tx, sc, kindNACL, *a.NetworkAclId, a)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkAclResult{ClientToken: in.ClientToken, NetworkAcl: a}, nil
}

func (s *Service) DeleteNetworkAcl(ctx context.Context, in *ec2api.DeleteNetworkAclRequest) (*ec2api.DeleteNetworkAclOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.NetworkAclId)
	err := s.store.Update(func(tx *store.Tx) error {
		a, err := load[networkACLRecord](tx, sc, kindNACL, id)
		if err != nil {
			return err
		}
		if optTrue(a.IsDefault) {
			return invalidParameter("cannot delete default network ACL %s", id)
		}
		if len(a.Associations) > 0 {
			return dependencyViolation("The networkAcl '%s' has dependencies and cannot be deleted.", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindNACL, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclOutput{}, nil
}

var networkACLFilters = func() fields[networkACLRecord] {
	assoc := func(get func(*ec2api.NetworkAclAssociation) *string) func(*networkACLRecord) []string {
		return func(a *networkACLRecord) []string {
			var out []string
			for _, as := range a.Associations {
				out = append(out, one(get(as))...)
			}
			return out
		}
	}
	entry := func(get func(*ec2api.NetworkAclEntry) []string) func(*networkACLRecord) []string {
		return func(a *networkACLRecord) []string {
			var out []string
			for _, e := range a.Entries {
				out = append(out, get(e)...)
			}
			return out
		}
	}
	return fields[networkACLRecord]{
		"network-acl-id":             func(a *networkACLRecord) []string { return one(a.NetworkAclId) },
		"vpc-id":                     func(a *networkACLRecord) []string { return one(a.VpcId) },
		"default":                    func(a *networkACLRecord) []string { return boolField(a.IsDefault) },
		"owner-id":                   func(a *networkACLRecord) []string { return one(a.OwnerId) },
		"association.association-id": assoc(func(as *ec2api.NetworkAclAssociation) *string { return as.NetworkAclAssociationId }),
		"association.network-acl-id": assoc(func(as *ec2api.NetworkAclAssociation) *string { return as.NetworkAclId }),
		"association.subnet-id":      assoc(func(as *ec2api.NetworkAclAssociation) *string { return as.SubnetId }),
		"entry.cidr":                 entry(func(e *ec2api.NetworkAclEntry) []string { return one(e.CidrBlock) }),
		"entry.ipv6-cidr":            entry(func(e *ec2api.NetworkAclEntry) []string { return one(e.Ipv6CidrBlock) }),
		"entry.egress":               entry(func(e *ec2api.NetworkAclEntry) []string { return boolField(e.Egress) }),
		"entry.protocol":             entry(func(e *ec2api.NetworkAclEntry) []string { return one(e.Protocol) }),
		"entry.rule-action":          entry(func(e *ec2api.NetworkAclEntry) []string { return one(e.RuleAction) }),
		"entry.rule-number":          entry(func(e *ec2api.NetworkAclEntry) []string { return int64Field(e.RuleNumber) }),
		"entry.icmp.code": entry(func(e *ec2api.NetworkAclEntry) []string {
			if e.IcmpTypeCode == nil {
				return nil
			}
			return int64Field(e.IcmpTypeCode.Code)
		}),
		"entry.icmp.type": entry(func(e *ec2api.NetworkAclEntry) []string {
			if e.IcmpTypeCode == nil {
				return nil
			}
			return int64Field(e.IcmpTypeCode.Type)
		}),
		"entry.port-range.from": entry(func(e *ec2api.NetworkAclEntry) []string {
			if e.PortRange == nil {
				return nil
			}
			return int64Field(e.PortRange.From)
		}),
		"entry.port-range.to": entry(func(e *ec2api.NetworkAclEntry) []string {
			if e.PortRange == nil {
				return nil
			}
			return int64Field(e.PortRange.To)
		}),
	}
}()

func (s *Service) DescribeNetworkAcls(ctx context.Context, in *ec2api.DescribeNetworkAclsRequest) (*ec2api.DescribeNetworkAclsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeNetworkAclsResult{NetworkAcls: []*ec2api.NetworkAcl{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindNACL, query{ids: in.NetworkAclIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(a *networkACLRecord) string { return *a.NetworkAclId }, func(a *networkACLRecord) []*ec2api.Tag { return a.Tags }, networkACLFilters)
		for _, a := range page {
			out.NetworkAcls = append(out.NetworkAcls, &a.NetworkAcl)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// aclProtocols are the protocol names EC2 accepts for an ACL entry, with
// the numbers it stores.
var aclProtocols = map[string]string{"-1": "-1", "all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}

// aclEntry is the input of CreateNetworkAclEntry and ReplaceNetworkAclEntry.
type aclEntry struct {
	ruleNumber       int64
	egress           bool
	protocol, action string
	cidr, ipv6       *string
	ports            *ec2api.PortRange
	icmp             *ec2api.IcmpTypeCode
}

func checkRuleNumber(n int64) error {
	if n < 1 || n >= defaultACLRule {
		return invalidParameter("Value (%d) for parameter ruleNumber is invalid. The rule number must be between 1 and 32766.", n)
	}
	return nil
}

// build validates an entry and returns it as EC2 stores it: the protocol as
// a number, ports only for TCP and UDP, type and code only for ICMP.
func (in aclEntry) build() (*ec2api.NetworkAclEntry, error) {
	if err := checkRuleNumber(in.ruleNumber); err != nil {
		return nil, err
	}
	if in.action != "allow" && in.action != "deny" {
		return nil, invalidParameter("Value (%s) for parameter ruleAction is invalid. Valid values are allow and deny.", in.action)
	}
	proto, ok := aclProtocols[strings.ToLower(in.protocol)]
	if !ok {
		n, err := strconv.Atoi(in.protocol)
		if err != nil || n < 0 || n > 255 {
			return nil, invalidParameter("Invalid value for parameter protocol: %s", in.protocol)
		}
		proto = strconv.Itoa(n)
	}
	e := &ec2api.NetworkAclEntry{RuleNumber: i64(in.ruleNumber), Egress: boolp(in.egress), Protocol: str(proto), RuleAction: str(in.action)}
	switch {
	case in.cidr != nil && in.ipv6 != nil:
		return nil, api.Errorf("InvalidParameterCombination", "The parameter cidrBlock cannot be used with the parameter ipv6CidrBlock")
	case in.cidr != nil:
		p, err := parseCIDR(*in.cidr)
		if err != nil {
			return nil, err
		}
		e.CidrBlock = str(p.String())
	case in.ipv6 != nil:
		p, err := netip.ParsePrefix(*in.ipv6)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Masked() != p {
			return nil, invalidParameter("Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid CIDR block.", *in.ipv6)
		}
		e.Ipv6CidrBlock = str(p.String())
	default:
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter cidrBlock or ipv6CidrBlock")
	}
	switch proto {
	case "6", "17":
		if in.ports == nil || in.ports.From == nil || in.ports.To == nil {
			return nil, invalidParameter("TCP and UDP rules need a port range (portRange.from and portRange.to)")
		}
		from, to := *in.ports.From, *in.ports.To
		if from < 0 || to > 65535 || from > to {
			return nil, invalidParameter("Invalid port range %d-%d: ports must be between 0 and 65535, from not above to.", from, to)
		}
		e.PortRange = &ec2api.PortRange{From: i64(from), To: i64(to)}
	case "1", "58":
		if in.icmp == nil || in.icmp.Type == nil || in.icmp.Code == nil {
			return nil, invalidParameter("ICMP rules need a type and a code (icmpTypeCode.type and icmpTypeCode.code; -1 for all)")
		}
		t, c := *in.icmp.Type, *in.icmp.Code
		if t < -1 || t > 255 || c < -1 || c > 255 {
			return nil, invalidParameter("Invalid ICMP type %d or code %d: each must be between -1 and 255.", t, c)
		}
		e.IcmpTypeCode = &ec2api.IcmpTypeCode{Type: i64(t), Code: i64(c)}
	}
	return e, nil
}

// findACLEntry returns the index of the entry with that number and
// direction, or -1.
func findACLEntry(a *networkACLRecord, n int64, egress bool) int {
	for i, e := range a.Entries {
		if optInt(e.RuleNumber) == n && optTrue(e.Egress) == egress {
			return i
		}
	}
	return -1
}

func optInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// sortACLEntries keeps entries as EC2 lists them: egress first, each
// direction by rule number.
func sortACLEntries(a *networkACLRecord) {
	sort.SliceStable(a.Entries, func(i, j int) bool {
		ei, ej := optTrue(a.Entries[i].Egress), optTrue(a.Entries[j].Egress)
		if ei != ej {
			return ei
		}
		return optInt(a.Entries[i].RuleNumber) < optInt(a.Entries[j].RuleNumber)
	})
}

func (s *Service) CreateNetworkAclEntry(ctx context.Context, in *ec2api.CreateNetworkAclEntryRequest) (*ec2api.CreateNetworkAclEntryOutput, error) {
	sc := scopeOf(ctx)
	e, err := aclEntry{ruleNumber: optInt(in.RuleNumber), egress: optTrue(in.Egress), protocol: deref(in.Protocol), action: deref(in.RuleAction),
		cidr: in.CidrBlock, ipv6: in.Ipv6CidrBlock, ports: in.PortRange, icmp: in.IcmpTypeCode}.build()
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		a, err := load[networkACLRecord](tx, sc, kindNACL, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		if findACLEntry(a, *e.RuleNumber, *e.Egress) >= 0 {
			return api.Errorf("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", *e.RuleNumber)
		}
		n := 0
		for _, o := range a.Entries {
			if optTrue(o.Egress) == *e.Egress && optInt(o.RuleNumber) != defaultACLRule {
				n++
			}
		}
		if n >= maxACLRules {
			return api.Errorf("NetworkAclEntryLimitExceeded", "The maximum number of network acl entries has been reached.")
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		a.Entries = append(a.Entries, e)
		sortACLEntries(a)
		return save(tx, sc, kindNACL, *a.NetworkAclId, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkAclEntryOutput{}, nil
}

func (s *Service) ReplaceNetworkAclEntry(ctx context.Context, in *ec2api.ReplaceNetworkAclEntryRequest) (*ec2api.ReplaceNetworkAclEntryOutput, error) {
	sc := scopeOf(ctx)
	e, err := aclEntry{ruleNumber: optInt(in.RuleNumber), egress: optTrue(in.Egress), protocol: deref(in.Protocol), action: deref(in.RuleAction),
		cidr: in.CidrBlock, ipv6: in.Ipv6CidrBlock, ports: in.PortRange, icmp: in.IcmpTypeCode}.build()
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		a, err := load[networkACLRecord](tx, sc, kindNACL, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		i := findACLEntry(a, *e.RuleNumber, *e.Egress)
		if i < 0 {
			return api.Errorf("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", *e.RuleNumber)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		a.Entries[i] = e
		return save(tx, sc, kindNACL, *a.NetworkAclId, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclEntryOutput{}, nil
}

func (s *Service) DeleteNetworkAclEntry(ctx context.Context, in *ec2api.DeleteNetworkAclEntryRequest) (*ec2api.DeleteNetworkAclEntryOutput, error) {
	sc := scopeOf(ctx)
	n, egress := optInt(in.RuleNumber), optTrue(in.Egress)
	if err := checkRuleNumber(n); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		a, err := load[networkACLRecord](tx, sc, kindNACL, deref(in.NetworkAclId))
		if err != nil {
			return err
		}
		i := findACLEntry(a, n, egress)
		if i < 0 {
			return api.Errorf("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", n)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		a.Entries = append(a.Entries[:i], a.Entries[i+1:]...)
		return save(tx, sc, kindNACL, *a.NetworkAclId, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclEntryOutput{}, nil
}

func (s *Service) ReplaceNetworkAclAssociation(ctx context.Context, in *ec2api.ReplaceNetworkAclAssociationRequest) (*ec2api.ReplaceNetworkAclAssociationResult, error) {
	sc := scopeOf(ctx)
	id := deref(in.AssociationId)
	out := &ec2api.ReplaceNetworkAclAssociationResult{}
	err := s.store.Update(func(tx *store.Tx) error {
		all, err := listAll[networkACLRecord](tx, sc, kindNACL)
		if err != nil {
			return err
		}
		var from *networkACLRecord
		at := -1
		for _, a := range all {
			for i, as := range a.Associations {
				if deref(as.NetworkAclAssociationId) == id {
					from, at = a, i
				}
			}
		}
		if from == nil {
			return api.Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
		}
		to := from
		if deref(in.NetworkAclId) != *from.NetworkAclId {
			if to, err = load[networkACLRecord](tx, sc, kindNACL, deref(in.NetworkAclId)); err != nil {
				return err
			}
		}
		subnet := from.Associations[at].SubnetId
		if deref(to.VpcId) != deref(from.VpcId) {
			return invalidParameter("Network ACL %s and subnet %s belong to different networks", *to.NetworkAclId, deref(subnet))
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		// A subnet is always associated with exactly one ACL: the
		// association moves, under a new id.
		from.Associations = append(from.Associations[:at], from.Associations[at+1:]...)
		na := &ec2api.NetworkAclAssociation{NetworkAclAssociationId: str(newAssocID("aclassoc")), NetworkAclId: to.NetworkAclId, SubnetId: subnet}
		to.Associations = append(to.Associations, na)
		if to != from {
			if err := save(tx, sc, kindNACL, *from.NetworkAclId, from); err != nil {
				return err
			}
		}
		out.NewAssociationId = na.NetworkAclAssociationId
		return save(tx, sc, kindNACL, *to.NetworkAclId, to)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
