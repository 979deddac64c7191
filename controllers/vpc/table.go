package vpc

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/cloudbox/cloudbox/desired"
)

// Names in a router's nftables table.
const (
	chainForward  = "forward"
	chainDstNAT   = "dstnat"
	chainSrcNAT   = "srcnat"
	setHasPublic  = "has-public-ip"
	naclOutPrefix = "nacl-out-"
	naclInPrefix  = "nacl-in-"
	sgOutPrefix   = "sg-out-"
	sgInPrefix    = "sg-in-"
	setOwnPrefix  = "own-"
	setCluster    = "cluster-"
)

// routerTable is the router's whole nftables table: the internet
// gateway's 1:1 NAT, network ACLs, and security groups.
func (b *builder) routerTable(x *vpcIndex) *nft.Table {
	v := x.v
	t := &nft.Table{}
	igw := v.InternetGateway != ""

	// ENIs with a link, in a stable order.
	var enis []*desired.ENI
	for _, e := range v.ENIs {
		if x.wired[e.ID] != "" {
			enis = append(enis, e)
		}
	}

	fwd := nft.Chain{Name: chainForward, Hook: nft.Forward, Priority: nft.PriorityFilter, Policy: nft.PolicyDrop}

	// Source/destination check: an ENI sends only from, and receives only
	// for, its own addresses, so a root user inside an instance cannot
	// take another's address to pass a security group. NAT gateways
	// forward for others, as do ENIs whose check is turned off.
	for _, e := range enis {
		if !e.SourceDestCheck || e.OwnerKind == desired.OwnerNATGateway {
			continue
		}
		link := x.wired[e.ID]
		own := setOwnPrefix + link
		var addrs []netip.Prefix
		for _, a := range e.PrivateIPs {
			if a.Is4() {
				addrs = append(addrs, netip.PrefixFrom(a, hostLen))
			}
		}
		t.Sets = append(t.Sets, nft.Set{Name: own, Family: nft.IPv4, Elements: addrs})
		fwd.Rules = append(fwd.Rules,
			nft.Rule{ID: "source-check-" + link, Match: []nft.Match{nft.IIFName(link), nft.AddrSet{Set: own, Not: true}}, Action: nft.Drop()},
			nft.Rule{ID: "dest-check-" + link, Match: []nft.Match{nft.OIFName(link), nft.AddrSet{Dst: true, Set: own, Not: true}}, Action: nft.Drop()},
		)
	}

	if igw {
		var mapped []netip.Prefix
		dnat := nft.Chain{Name: chainDstNAT, Hook: nft.Prerouting, Type: nft.NAT, Priority: nft.PriorityDstNAT}
		snat := nft.Chain{Name: chainSrcNAT, Hook: nft.Postrouting, Type: nft.NAT, Priority: nft.PrioritySrcNAT}
		for _, e := range enis {
			for _, priv := range e.PrivateIPs {
				pub, ok := e.PublicIPs[priv]
				if !ok || !pub.Is4() || !priv.Is4() {
					continue
				}
				mapped = append(mapped, netip.PrefixFrom(priv, hostLen))
				dnat.Rules = append(dnat.Rules, nft.Rule{ID: e.ID, Match: []nft.Match{nft.IIFName(igwLink), nft.DstIP(netip.PrefixFrom(pub, hostLen))}, Action: nft.DNAT{To: priv}})
				snat.Rules = append(snat.Rules, nft.Rule{ID: e.ID, Match: []nft.Match{nft.OIFName(igwLink), nft.SrcIP(netip.PrefixFrom(priv, hostLen))}, Action: nft.SNAT{To: pub}})
			}
		}
		t.Sets = append(t.Sets, nft.Set{Name: setHasPublic, Family: nft.IPv4, Elements: mapped})
		t.Chains = append(t.Chains, dnat, snat)
		// Only addresses with a public IP cross the internet gateway.
		fwd.Rules = append(fwd.Rules,
			nft.Rule{ID: "igw-out-needs-public-ip", Match: []nft.Match{nft.OIFName(igwLink), nft.AddrSet{Set: setHasPublic, Not: true}}, Action: nft.Drop()},
			nft.Rule{ID: "igw-in-needs-public-ip", Match: []nft.Match{nft.IIFName(igwLink), nft.AddrSet{Dst: true, Set: setHasPublic, Not: true}}, Action: nft.Drop()},
		)
	}

	// Network ACLs, stateless: every packet that enters or leaves a subnet,
	// return traffic included, so before the conntrack shortcut.
	naclChains := map[string]bool{}
	for _, e := range enis {
		s := x.subnets[e.Subnet]
		acl := x.acls[s.NetworkACL]
		if acl == nil {
			continue
		}
		link := x.wired[e.ID]
		fwd.Rules = append(fwd.Rules,
			nft.Rule{Match: []nft.Match{nft.IIFName(link)}, Action: nft.Jump(naclOutPrefix + s.ID)},
			nft.Rule{Match: []nft.Match{nft.OIFName(link)}, Action: nft.Jump(naclInPrefix + s.ID)},
		)
		if !naclChains[s.ID] {
			naclChains[s.ID] = true
			t.Chains = append(t.Chains, naclChain(naclOutPrefix+s.ID, s, acl.Egress, true), naclChain(naclInPrefix+s.ID, s, acl.Ingress, false))
		}
	}

	fwd.Rules = append(fwd.Rules, nft.Rule{ID: "tracked", Match: []nft.Match{nft.Established | nft.Related}, Action: nft.Accept()})
	clusterRules(t, &fwd, enis, b.peeredClusterENIs(v), x.wired)

	// Security groups, stateful: new connections only. NAT gateways' ENIs
	// have none (AWS does not apply security groups to them).
	referenced := map[string]bool{}
	for _, e := range enis {
		if e.OwnerKind == desired.OwnerNATGateway {
			continue
		}
		link := x.wired[e.ID]
		groups := slices.Clone(e.Groups)
		sort.Strings(groups)
		groups = slices.Compact(groups)
		out := nft.Chain{Name: sgOutPrefix + link}
		in := nft.Chain{Name: sgInPrefix + link}
		for _, g := range groups {
			sg := x.groups[g]
			if sg == nil {
				continue
			}
			out.Rules = append(out.Rules, sgRules(sg.Egress, true, referenced)...)
			in.Rules = append(in.Rules, sgRules(sg.Ingress, false, referenced)...)
		}
		out.Rules = append(out.Rules, nft.Rule{ID: "not-allowed", Action: nft.Drop()})
		in.Rules = append(in.Rules, nft.Rule{ID: "not-allowed", Action: nft.Drop()})
		t.Chains = append(t.Chains, out, in)
		fwd.Rules = append(fwd.Rules,
			nft.Rule{Match: []nft.Match{nft.IIFName(link)}, Action: nft.Jump(out.Name)},
			nft.Rule{Match: []nft.Match{nft.OIFName(link)}, Action: nft.Jump(in.Name)},
		)
	}
	fwd.Rules = append(fwd.Rules, nft.Rule{ID: "allowed", Action: nft.Accept()})

	for _, g := range slices.Sorted(func(yield func(string) bool) {
		for g := range referenced {
			if !yield(g) {
				return
			}
		}
	}) {
		t.Sets = append(t.Sets, nft.Set{Name: g, Family: nft.IPv4, Elements: b.groupMembers(v, g)})
	}
	t.Chains = append([]nft.Chain{fwd}, t.Chains...)
	return t
}

// clusterRules lets the nodes of one service cluster (desired.ENI.Cluster)
// open connections to each other before security groups are consulted:
// a replica following its primary is the service's own traffic, which
// AWS does not make the customer's groups admit. Network ACLs, before,
// and routes still apply. Members in peered VPCs (remote: a read replica
// in another region) are admitted to the local members too; peered VPCs'
// blocks do not overlap, so their addresses name no local interface.
func clusterRules(t *nft.Table, fwd *nft.Chain, enis, remote []*desired.ENI, wired map[string]string) {
	members := map[string][]*desired.ENI{}
	var names []string
	for _, e := range enis {
		if e.Cluster == "" {
			continue
		}
		if members[e.Cluster] == nil {
			names = append(names, e.Cluster)
		}
		members[e.Cluster] = append(members[e.Cluster], e)
	}
	remoteMembers := map[string][]*desired.ENI{}
	for _, e := range remote {
		if members[e.Cluster] != nil {
			remoteMembers[e.Cluster] = append(remoteMembers[e.Cluster], e)
		}
	}
	sort.Strings(names)
	for i, c := range names {
		es, far := members[c], remoteMembers[c]
		if len(es)+len(far) < 2 {
			continue
		}
		set := fmt.Sprintf("%s%d", setCluster, i)
		var addrs []netip.Prefix
		for _, e := range append(slices.Clone(es), far...) {
			for _, a := range e.PrivateIPs {
				if a.Is4() {
					addrs = append(addrs, netip.PrefixFrom(a, a.BitLen()))
				}
			}
		}
		t.Sets = append(t.Sets, nft.Set{Name: set, Family: nft.IPv4, Elements: addrs})
		for _, e := range es {
			fwd.Rules = append(fwd.Rules, nft.Rule{ID: "cluster-" + e.ID,
				Match: []nft.Match{nft.IIFName(wired[e.ID]), nft.AddrSet{Dst: true, Set: set}}, Action: nft.Accept()})
			if len(far) > 0 {
				fwd.Rules = append(fwd.Rules, nft.Rule{ID: "cluster-in-" + e.ID,
					Match: []nft.Match{nft.OIFName(wired[e.ID]), nft.AddrSet{Set: set}}, Action: nft.Accept()})
			}
		}
	}
}

// peeredClusterENIs are the cluster members in the VPCs peered with v.
func (b *builder) peeredClusterENIs(v *desired.VPC) []*desired.ENI {
	var out []*desired.ENI
	for _, p := range b.peers[v.ID] {
		other := p.AccepterVPC
		if other == v.ID {
			other = p.RequesterVPC
		}
		if ov := b.vpcs[other]; ov != nil {
			for _, e := range ov.ENIs {
				if e.Cluster != "" {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// naclChain evaluates one direction of a subnet's network ACL: first
// matching entry wins, then the final deny. Traffic that stays in the
// subnet is not subject to it. Outbound entries match the destination,
// inbound ones the source.
func naclChain(name string, s *desired.Subnet, entries []desired.ACLEntry, outbound bool) nft.Chain {
	c := nft.Chain{Name: name}
	inSubnet := nft.Addr{Dst: outbound, Prefix: s.CIDR.Masked()}
	c.Rules = append(c.Rules, nft.Rule{ID: "same-subnet", Match: []nft.Match{inSubnet}, Action: nft.Return()})
	for _, en := range entries {
		if !en.CIDR.Addr().Is4() {
			continue
		}
		m := []nft.Match{nft.Addr{Dst: outbound, Prefix: en.CIDR.Masked()}}
		m = append(m, protoMatch(en.Protocol, en.FromPort, en.ToPort, en.ICMPType, en.ICMPCode)...)
		var act nft.Action = nft.Drop()
		if en.Allow {
			act = nft.Return()
		}
		c.Rules = append(c.Rules, nft.Rule{ID: fmt.Sprintf("rule-%d", en.Number), Match: m, Action: act})
	}
	c.Rules = append(c.Rules, nft.Rule{ID: "final-deny", Action: nft.Drop()})
	return c
}

// sgRules turns a group's rules of one direction into nft rules that
// return (allowed so far) on a match. Egress rules match the destination,
// ingress ones the source; a group peer matches the group's set, which is
// recorded in referenced.
func sgRules(rules []desired.SGRule, egress bool, referenced map[string]bool) []nft.Rule {
	var out []nft.Rule
	for _, r := range rules {
		// For ICMP, a security group rule's ports are the type and code.
		proto := protoMatch(r.Protocol, r.FromPort, r.ToPort, r.FromPort, r.ToPort)
		for _, c := range r.CIDRs {
			if !c.Addr().Is4() {
				continue
			}
			m := append([]nft.Match{nft.Addr{Dst: egress, Prefix: c.Masked()}}, proto...)
			out = append(out, nft.Rule{ID: r.ID, Match: m, Action: nft.Return()})
		}
		for _, g := range r.Groups {
			referenced[g] = true
			m := append([]nft.Match{nft.AddrSet{Dst: egress, Set: g}}, proto...)
			out = append(out, nft.Rule{ID: r.ID, Match: m, Action: nft.Return()})
		}
	}
	return out
}

// protoMatch matches an AWS protocol number with its ports (TCP, UDP) or
// ICMP type and code; -1 or a full range matches any.
func protoMatch(proto, from, to, icmpType, icmpCode int) []nft.Match {
	switch {
	case proto == desired.ProtoAll || proto < 0 || proto > 255:
		return nil
	case proto == desired.ProtoTCP || proto == desired.ProtoUDP:
		m := []nft.Match{nft.Proto(uint8(proto))}
		if from < 0 || to < 0 || from > 65535 || (from == 0 && to >= 65535) {
			return m
		}
		return append(m, nft.DPortRange(uint16(from), uint16(min(to, 65535))))
	case proto == desired.ProtoICMP:
		m := []nft.Match{nft.ICMP}
		if icmpType >= 0 && icmpType <= 255 {
			code := icmpCode
			if code > 255 {
				code = -1
			}
			m = append(m, nft.ICMPType{Type: uint8(icmpType), Code: code})
		}
		return m
	}
	return []nft.Match{nft.Proto(uint8(proto))}
}

// natGatewayTable masquerades what a NAT gateway forwards to its own
// private address.
func natGatewayTable(eth string, own netip.Addr) *nft.Table {
	return &nft.Table{Chains: []nft.Chain{{
		Name: chainSrcNAT, Hook: nft.Postrouting, Type: nft.NAT, Priority: nft.PrioritySrcNAT,
		Rules: []nft.Rule{{ID: "masquerade", Match: []nft.Match{nft.OIFName(eth), nft.Addr{Prefix: netip.PrefixFrom(own, hostLen), Not: true}}, Action: nft.Masquerade{}}},
	}}}
}
