package ec2

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Security group rules. A group keeps one SecurityGroupRule per rule (one
// protocol, one port range, one peer), each with its sgr- id; the
// IpPermission lists of the API are read into rules on the way in and
// built from them on the way out.

// maxRulesPerDirection is AWS's default quota of inbound rules, and of
// outbound rules, per security group.
const maxRulesPerDirection = 60

// groupTextRE is what AWS allows in the name, description and rule
// descriptions of a VPC security group.
var groupTextRE = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$`)

// checkGroupText checks a name or description of a security group or rule.
func checkGroupText(param, v string) error {
	if len(v) > 255 {
		return invalidParameter("Value (%s) for parameter %s is invalid. Length exceeds maximum of 255 characters.", v, param)
	}
	if !groupTextRE.MatchString(v) {
		return invalidParameter("Value (%s) for parameter %s is invalid. Character sets beyond ASCII are not supported.", v, param)
	}
	return nil
}

// normProtocol returns the protocol as AWS stores it: tcp, udp, icmp,
// icmpv6 by name (given by name or number), -1 for all, any other
// protocol by number.
func normProtocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "":
		return "", api.Errorf("MissingParameter", "The request must contain the parameter ipProtocol")
	case "tcp", "6":
		return "tcp", nil
	case "udp", "17":
		return "udp", nil
	case "icmp", "1":
		return "icmp", nil
	case "icmpv6", "58":
		return "icmpv6", nil
	case "-1":
		return "-1", nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return strconv.Itoa(n), nil
	}
	return "", invalidParameter("Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

// protocolNumber is the number of a protocol AWS stores by name.
var protocolNumber = map[string]string{"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}

// normPorts checks the port range (or ICMP type and code) of a rule. Only
// TCP, UDP and ICMP have ports; other protocols cover every port, whatever
// the request says, so their range is stored as -1.
func normPorts(proto string, from, to *int64) (int64, int64, error) {
	switch proto {
	case "tcp", "udp":
		if from == nil || to == nil {
			return 0, 0, invalidParameter("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
		}
		f, t := *from, *to
		if f == -1 && t == -1 {
			return 0, 65535, nil // the CLI's --port all
		}
		if f < 0 || f > 65535 || t < 0 || t > 65535 {
			return 0, 0, invalidParameter("Invalid value '%d-%d' for portRange. Ports must be between 0 and 65535.", f, t)
		}
		if f > t {
			return 0, 0, invalidParameter("Invalid TCP/UDP port range: the from port (%d) is greater than the to port (%d).", f, t)
		}
		return f, t, nil
	case "icmp", "icmpv6":
		typ, code := int64(-1), int64(-1)
		if from != nil {
			typ = *from
		}
		if to != nil {
			code = *to
		}
		if typ < -1 || typ > 255 {
			return 0, 0, invalidParameter("Invalid value '%d' for ICMP type.", typ)
		}
		if code < -1 || code > 255 || (typ == -1 && code != -1) {
			return 0, 0, invalidParameter("Invalid value '%d' for ICMP code.", code)
		}
		return typ, code, nil
	}
	return -1, -1, nil
}

// normCIDR checks a rule's CIDR of the wanted family. AWS accepts an
// address with host bits set and keeps its network.
func normCIDR(s string, v6 bool) (string, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4() == v6 || p.Addr().Zone() != "" {
		return "", invalidParameter("CIDR block %s is malformed", s)
	}
	return p.Masked().String(), nil
}

var prefixListRE = regexp.MustCompile(`^pl-[0-9a-f]{8}([0-9a-f]{9})?$`)

// ruleDescription checks a rule's description; an empty one is none.
func ruleDescription(d *string) (*string, error) {
	if d == nil || *d == "" {
		return nil, nil
	}
	if err := checkGroupText("description", *d); err != nil {
		return nil, err
	}
	return d, nil
}

// permissionRules reads IpPermissions into rules of group g. strict
// checks each referenced group as Authorize does (it exists, in g's VPC or
// a peered one); otherwise the rules only serve to match existing ones.
func permissionRules(tx *store.Tx, sc scope, g *securityGroupRecord, perms []*ec2api.IpPermission, egress, strict bool) ([]*ec2api.SecurityGroupRule, error) {
	var out []*ec2api.SecurityGroupRule
	for _, p := range perms {
		if p == nil {
			continue
		}
		proto, err := normProtocol(deref(p.IpProtocol))
		if err != nil {
			return nil, err
		}
		from, to, err := normPorts(proto, p.FromPort, p.ToPort)
		if err != nil {
			return nil, err
		}
		rule := func(desc *string) (*ec2api.SecurityGroupRule, error) {
			d, err := ruleDescription(desc)
			if err != nil {
				return nil, err
			}
			r := &ec2api.SecurityGroupRule{
				GroupId: g.GroupId, GroupOwnerId: g.OwnerId, IsEgress: boolp(egress),
				IpProtocol: str(proto), FromPort: i64(from), ToPort: i64(to), Description: d, Tags: []*ec2api.Tag{},
			}
			out = append(out, r)
			return r, nil
		}
		if len(p.IpRanges)+len(p.Ipv6Ranges)+len(p.PrefixListIds)+len(p.UserIdGroupPairs) == 0 {
			return nil, api.Errorf("MissingParameter", "Either ipRanges, ipv6Ranges, prefixListIds or groups must be specified for ipProtocol %s", deref(p.IpProtocol))
		}
		for _, ir := range p.IpRanges {
			c, err := normCIDR(deref(ir.CidrIp), false)
			if err != nil {
				return nil, err
			}
			r, err := rule(ir.Description)
			if err != nil {
				return nil, err
			}
			r.CidrIpv4 = str(c)
		}
		for _, ir := range p.Ipv6Ranges {
			c, err := normCIDR(deref(ir.CidrIpv6), true)
			if err != nil {
				return nil, err
			}
			r, err := rule(ir.Description)
			if err != nil {
				return nil, err
			}
			r.CidrIpv6 = str(c)
		}
		for _, pl := range p.PrefixListIds {
			id := deref(pl.PrefixListId)
			if !prefixListRE.MatchString(id) {
				return nil, api.Errorf("InvalidPrefixListId.Malformed", "Invalid id: \"%s\"", id)
			}
			r, err := rule(pl.Description)
			if err != nil {
				return nil, err
			}
			r.PrefixListId = str(id)
		}
		for _, pair := range p.UserIdGroupPairs {
			ref, err := resolvePair(tx, sc, g, pair, strict)
			if err != nil {
				return nil, err
			}
			r, err := rule(pair.Description)
			if err != nil {
				return nil, err
			}
			r.ReferencedGroupInfo = ref
		}
	}
	return out, nil
}

// resolvePair finds the group a rule references. strict checks that it
// exists and that g may reference it: the same VPC, or a VPC joined to g's
// by an active peering connection (in any account, or region when the pair
// names the connection).
func resolvePair(tx *store.Tx, sc scope, g *securityGroupRecord, p *ec2api.UserIdGroupPair, strict bool) (*ec2api.ReferencedSecurityGroup, error) {
	id, user := deref(p.GroupId), deref(p.UserId)
	if user == "" {
		user = sc.account
	}
	if id == "" {
		name := deref(p.GroupName)
		if name == "" {
			return nil, api.Errorf("MissingParameter", "The request must contain the parameter groupId or groupName")
		}
		ref, err := groupByName(tx, sc, deref(g.VpcId), name)
		if err != nil {
			return nil, err
		}
		if ref == nil || user != sc.account {
			return nil, api.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", name, deref(g.VpcId))
		}
		id = *ref.GroupId
	}
	out := &ec2api.ReferencedSecurityGroup{GroupId: str(id), UserId: str(user)}
	if !strict {
		return out, nil
	}
	other := scope{account: user, region: sc.region}
	var pcx *peeringRecord
	if pid := deref(p.VpcPeeringConnectionId); pid != "" {
		var err error
		if pcx, err = load[peeringRecord](tx, sc, kindPeering, pid); err != nil {
			return nil, err
		}
		if side := peerSide(pcx, deref(g.VpcId)); side != nil && deref(side.Region) != "" {
			other.region = *side.Region
		}
	}
	ref, err := load[securityGroupRecord](tx, other, kindSG, id)
	if err != nil {
		return nil, err
	}
	if deref(ref.VpcId) == deref(g.VpcId) {
		return out, nil
	}
	if pcx == nil {
		if pcx, err = findPeering(tx, sc, deref(g.VpcId), deref(ref.VpcId)); err != nil {
			return nil, err
		}
	}
	if side := peerSide(pcx, deref(g.VpcId)); side == nil || deref(side.VpcId) != deref(ref.VpcId) || !peeringActive(pcx) {
		return nil, api.Errorf("InvalidGroup.NotFound", "You have specified two resources that belong to different networks.")
	}
	out.VpcId = ref.VpcId
	out.VpcPeeringConnectionId = pcx.VpcPeeringConnectionId
	out.PeeringStatus = str("active")
	return out, nil
}

// peerSide returns the side of a peering connection that is not vpcID, or
// nil when vpcID is on neither side.
func peerSide(pcx *peeringRecord, vpcID string) *ec2api.VpcPeeringConnectionVpcInfo {
	if pcx == nil || pcx.RequesterVpcInfo == nil || pcx.AccepterVpcInfo == nil {
		return nil
	}
	switch vpcID {
	case deref(pcx.RequesterVpcInfo.VpcId):
		return pcx.AccepterVpcInfo
	case deref(pcx.AccepterVpcInfo.VpcId):
		return pcx.RequesterVpcInfo
	}
	return nil
}

func peeringActive(pcx *peeringRecord) bool {
	return pcx.Status != nil && deref(pcx.Status.Code) == "active"
}

// findPeering returns an active peering connection between two VPCs, or nil.
func findPeering(tx *store.Tx, sc scope, a, b string) (*peeringRecord, error) {
	all, err := listAll[peeringRecord](tx, sc, kindPeering)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if side := peerSide(p, a); side != nil && deref(side.VpcId) == b && peeringActive(p) {
			return p, nil
		}
	}
	return nil, nil
}

// ruleKey identifies a rule for duplicates and matching: direction,
// protocol, ports and peer; not the description.
func ruleKey(r *ec2api.SecurityGroupRule) string {
	peer := deref(r.CidrIpv4) + "|" + deref(r.CidrIpv6) + "|" + deref(r.PrefixListId) + "|"
	if r.ReferencedGroupInfo != nil {
		peer += deref(r.ReferencedGroupInfo.GroupId)
	}
	return fmt.Sprintf("%t|%s|%d|%d|%s", r.IsEgress != nil && *r.IsEgress, deref(r.IpProtocol), port(r.FromPort), port(r.ToPort), peer)
}

func port(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// ruleText describes a rule as AWS's InvalidPermission.Duplicate does.
func ruleText(r *ec2api.SecurityGroupRule) string {
	peer := deref(r.CidrIpv4) + deref(r.CidrIpv6) + deref(r.PrefixListId)
	if r.ReferencedGroupInfo != nil {
		peer = deref(r.ReferencedGroupInfo.GroupId)
	}
	proto := strings.ToUpper(deref(r.IpProtocol))
	switch proto {
	case "-1":
		return fmt.Sprintf("peer: %s, ALL, ALLOW", peer)
	case "TCP", "UDP":
		return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, proto, port(r.FromPort), port(r.ToPort))
	case "ICMP", "ICMPV6":
		return fmt.Sprintf("peer: %s, %s, type: %d, code: %d, ALLOW", peer, proto, port(r.FromPort), port(r.ToPort))
	}
	return fmt.Sprintf("peer: %s, %s, ALLOW", peer, proto)
}

// addRules adds new rules to g, giving them ids: none may repeat another
// of the request or one g has, and each direction keeps to its quota.
func addRules(g *securityGroupRecord, rules []*ec2api.SecurityGroupRule) error {
	have := map[string]bool{}
	count := map[bool]int{}
	for _, r := range g.Rules {
		have[ruleKey(r)] = true
		count[*r.IsEgress]++
	}
	seen := map[string]bool{}
	for _, r := range rules {
		k := ruleKey(r)
		if seen[k] {
			return invalidParameter("The same permission must not appear multiple times")
		}
		seen[k] = true
		if have[k] {
			return api.Errorf("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", ruleText(r))
		}
		count[*r.IsEgress]++
		if count[*r.IsEgress] > maxRulesPerDirection {
			return api.Errorf("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
		}
	}
	for _, r := range rules {
		r.SecurityGroupRuleId = str(newRuleID())
		g.Rules = append(g.Rules, r)
	}
	return nil
}

// findRule returns the index in g.Rules of the rule matching r, or -1.
func findRule(g *securityGroupRecord, r *ec2api.SecurityGroupRule) int {
	k := ruleKey(r)
	for i, have := range g.Rules {
		if ruleKey(have) == k {
			return i
		}
	}
	return -1
}

// findRuleID returns the index in g.Rules of the rule with id in the
// direction, or the error AWS gives for an unknown rule id.
func findRuleID(g *securityGroupRecord, id string, egress bool) (int, error) {
	for i, r := range g.Rules {
		if deref(r.SecurityGroupRuleId) == id && *r.IsEgress == egress {
			return i, nil
		}
	}
	return -1, ruleNotFound(id)
}

var ruleIDRE = regexp.MustCompile(`^sgr-[0-9a-f]{8}([0-9a-f]{9})?$`)

func ruleNotFound(id string) error {
	if !ruleIDRE.MatchString(id) {
		return api.Errorf("InvalidSecurityGroupRuleId.Malformed", "Invalid id: \"%s\"", id)
	}
	return api.Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
}

// permissionsOf builds the IpPermissions of one direction from rules, as
// DescribeSecurityGroups shows them: rules with the same protocol and
// ports make one permission with several peers.
func permissionsOf(rules []*ec2api.SecurityGroupRule, egress bool) []*ec2api.IpPermission {
	out := []*ec2api.IpPermission{}
	byRange := map[string]*ec2api.IpPermission{}
	for _, r := range rules {
		if *r.IsEgress != egress {
			continue
		}
		k := fmt.Sprintf("%s|%d|%d", deref(r.IpProtocol), port(r.FromPort), port(r.ToPort))
		p, ok := byRange[k]
		if !ok {
			p = &ec2api.IpPermission{
				IpProtocol: r.IpProtocol, IpRanges: []*ec2api.IpRange{}, Ipv6Ranges: []*ec2api.Ipv6Range{},
				PrefixListIds: []*ec2api.PrefixListId{}, UserIdGroupPairs: []*ec2api.UserIdGroupPair{},
			}
			if deref(r.IpProtocol) != "-1" {
				p.FromPort, p.ToPort = r.FromPort, r.ToPort
			}
			byRange[k] = p
			out = append(out, p)
		}
		switch {
		case r.CidrIpv4 != nil:
			p.IpRanges = append(p.IpRanges, &ec2api.IpRange{CidrIp: r.CidrIpv4, Description: r.Description})
		case r.CidrIpv6 != nil:
			p.Ipv6Ranges = append(p.Ipv6Ranges, &ec2api.Ipv6Range{CidrIpv6: r.CidrIpv6, Description: r.Description})
		case r.PrefixListId != nil:
			p.PrefixListIds = append(p.PrefixListIds, &ec2api.PrefixListId{PrefixListId: r.PrefixListId, Description: r.Description})
		case r.ReferencedGroupInfo != nil:
			ref := r.ReferencedGroupInfo
			p.UserIdGroupPairs = append(p.UserIdGroupPairs, &ec2api.UserIdGroupPair{
				GroupId: ref.GroupId, UserId: ref.UserId, VpcId: ref.VpcId, Description: r.Description,
				VpcPeeringConnectionId: ref.VpcPeeringConnectionId, PeeringStatus: ref.PeeringStatus,
			})
		}
	}
	return out
}

// flatRule is the older single-rule form of Authorize and Revoke.
type flatRule struct {
	protocol, cidr, sourceName, sourceOwner *string
	from, to                                *int64
}

// permissions turns the flat form into IpPermissions. A source group named
// without protocol or ports grants all of ICMP, TCP and UDP, as AWS does.
func (f flatRule) permissions(perms []*ec2api.IpPermission) ([]*ec2api.IpPermission, error) {
	ports := f.protocol != nil || f.from != nil || f.to != nil
	if !ports && f.cidr == nil && f.sourceName == nil && f.sourceOwner == nil {
		return perms, nil
	}
	if len(perms) > 0 {
		return nil, api.Errorf("InvalidParameterCombination", "The parameter 'ipPermissions' may not be used in combination with 'ipProtocol', 'fromPort', 'toPort', 'cidrIp' or 'sourceSecurityGroupName'")
	}
	if f.sourceName != nil || f.sourceOwner != nil {
		if ports || f.cidr != nil {
			return nil, api.Errorf("InvalidParameterCombination", "The parameter 'sourceSecurityGroupName' may not be used in combination with 'ipProtocol', 'fromPort', 'toPort' or 'cidrIp'")
		}
		if f.sourceName == nil {
			return nil, api.Errorf("MissingParameter", "The request must contain the parameter sourceSecurityGroupName")
		}
		var out []*ec2api.IpPermission
		for _, p := range []struct {
			proto    string
			from, to int64
		}{{"icmp", -1, -1}, {"tcp", 0, 65535}, {"udp", 0, 65535}} {
			out = append(out, &ec2api.IpPermission{
				IpProtocol: str(p.proto), FromPort: i64(p.from), ToPort: i64(p.to),
				UserIdGroupPairs: []*ec2api.UserIdGroupPair{{GroupName: f.sourceName, UserId: f.sourceOwner}},
			})
		}
		return out, nil
	}
	if f.cidr == nil {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter cidrIp")
	}
	return []*ec2api.IpPermission{{IpProtocol: f.protocol, FromPort: f.from, ToPort: f.to, IpRanges: []*ec2api.IpRange{{CidrIp: f.cidr}}}}, nil
}
