package vpcdns

import (
	"net/netip"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
)

// WorldResolver resolves the Amazon-provided instance names from the world
// model, as the Amazon DNS server does:
//
//   - ip-10-0-1-54.<region>.compute.internal (ip-10-0-1-54.ec2.internal in
//     us-east-1) is the address itself when it lies in the asking VPC and
//     the VPC has DNS support;
//   - ec2-198-18-3-4.<region>.compute.amazonaws.com (compute-1 in
//     us-east-1) exists when the VPC owning that public address has DNS
//     hostnames, and resolves to the private address from inside that VPC
//     and to the public one from any other;
//   - PTR names the private name of an address of the asking VPC, or the
//     public name of a public address.
//
// A VPC without DNS support knows no names at all. The simulated
// internet's resolver asks as vpcID Internet: it knows public names only,
// and answers them with public addresses.
type WorldResolver struct {
	// World returns the current world; it is called once per lookup.
	World func() *desired.World
}

// Internet is the vpcID of lookups made from the simulated internet.
const Internet = ""

// LookupA implements Resolver.
func (wr WorldResolver) LookupA(vpcID, name string) ([]netip.Addr, bool) {
	w := wr.World()
	name = strings.TrimSuffix(name, ".")
	if vpcID != Internet {
		vpc := w.FindVPC(vpcID)
		if vpc == nil || !vpc.DNSSupport {
			return nil, false
		}
		if ip, ok := nameAddr(name, "ip-", privateDomain(vpc.Region)); ok && inVPC(vpc, ip) {
			return []netip.Addr{ip}, true
		}
	}
	host, _, _ := strings.Cut(name, ".")
	pub, ok := nameAddr(host, "ec2-", "")
	if !ok {
		return nil, false
	}
	priv, owner := publicOwner(w, pub)
	if owner == nil || !owner.DNSHostnames || name != publicName(pub, owner.Region) {
		return nil, false
	}
	if owner.ID == vpcID {
		return []netip.Addr{priv}, true
	}
	return []netip.Addr{pub}, true
}

// LookupPTR implements Resolver.
func (wr WorldResolver) LookupPTR(vpcID string, ip netip.Addr) (string, bool) {
	w := wr.World()
	if vpcID != Internet {
		vpc := w.FindVPC(vpcID)
		if vpc == nil || !vpc.DNSSupport {
			return "", false
		}
		if inVPC(vpc, ip) {
			return privateName(ip, vpc.Region) + ".", true
		}
	}
	if _, owner := publicOwner(w, ip); owner != nil && owner.DNSHostnames {
		return publicName(ip, owner.Region) + ".", true
	}
	return "", false
}

// nameAddr parses prefix + "a-b-c-d" + "." + domain (no "." without a
// domain) into a.b.c.d.
func nameAddr(name, prefix, domain string) (netip.Addr, bool) {
	if domain != "" {
		var ok bool
		if name, ok = strings.CutSuffix(name, "."+domain); !ok {
			return netip.Addr{}, false
		}
	}
	dashed, ok := strings.CutPrefix(name, prefix)
	if !ok || strings.Contains(dashed, ".") {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(dashed, "-", "."))
	if err != nil || !ip.Is4() {
		return netip.Addr{}, false
	}
	return ip, true
}

func inVPC(vpc *desired.VPC, ip netip.Addr) bool {
	for _, c := range vpc.CIDRs {
		if c.Contains(ip) {
			return true
		}
	}
	return false
}

// publicOwner returns the private address behind the public address pub
// and the VPC of its ENI, or nil.
func publicOwner(w *desired.World, pub netip.Addr) (netip.Addr, *desired.VPC) {
	for _, vpc := range w.VPCs {
		for _, eni := range vpc.ENIs {
			for priv, p := range eni.PublicIPs {
				if p == pub {
					return priv, vpc
				}
			}
		}
	}
	return netip.Addr{}, nil
}

func dashed(ip netip.Addr) string { return strings.ReplaceAll(ip.String(), ".", "-") }

// privateDomain is the domain of private instance names in region.
func privateDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

func privateName(ip netip.Addr, region string) string {
	return "ip-" + dashed(ip) + "." + privateDomain(region)
}

// publicName is the public DNS name of the public address ip in region.
func publicName(ip netip.Addr, region string) string {
	switch {
	case region == "us-east-1":
		return "ec2-" + dashed(ip) + ".compute-1.amazonaws.com"
	case strings.HasPrefix(region, "cn-"):
		return "ec2-" + dashed(ip) + "." + region + ".compute.amazonaws.com.cn"
	}
	return "ec2-" + dashed(ip) + "." + region + ".compute.amazonaws.com"
}

// NamesResolver answers the names services publish in the world
// (desired.Name): load balancers' now, Route 53's records and database
// endpoints later. A name resolves from the VPCs it lists, or from
// everywhere when it lists none.
type NamesResolver struct {
	// World returns the current world; it is called once per lookup.
	World func() *desired.World
}

// LookupA implements Resolver.
func (nr NamesResolver) LookupA(vpcID, name string) ([]netip.Addr, bool) {
	name = strings.TrimSuffix(name, ".")
	for _, n := range nr.World().Names {
		if strings.EqualFold(n.Name, name) && n.Resolves(vpcID) {
			return n.Addrs, true
		}
	}
	return nil, false
}

// LookupPTR implements Resolver: published names have no reverse records.
func (NamesResolver) LookupPTR(string, netip.Addr) (string, bool) { return "", false }
