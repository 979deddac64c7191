package reachability

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/desired"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

var allowAll = []desired.ACLEntry{{Number: 100, Protocol: desired.ProtoAll, CIDR: pfx("0.0.0.0/0"), Allow: true}}

// seedWorld is seed 003's shape: a public subnet (bastion, web), a
// private one (db) behind a NAT gateway, and a peered VPC.
func seedWorld() *desired.World {
	a := &desired.VPC{
		ID: "vpc-a", CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}, InternetGateway: "igw-a",
		Subnets: []*desired.Subnet{
			{ID: "subnet-pub", CIDR: pfx("10.0.1.0/24"), RouteTable: "rtb-pub", NetworkACL: "acl-default"},
			{ID: "subnet-priv", CIDR: pfx("10.0.2.0/24"), RouteTable: "rtb-priv", NetworkACL: "acl-db"},
		},
		RouteTables: []*desired.RouteTable{
			{ID: "rtb-pub", Routes: []desired.Route{{Dst: pfx("10.0.0.0/16"), Target: desired.TargetLocal}, {Dst: pfx("0.0.0.0/0"), Target: desired.TargetIGW, TargetID: "igw-a"}}},
			{ID: "rtb-priv", Routes: []desired.Route{{Dst: pfx("10.0.0.0/16"), Target: desired.TargetLocal}, {Dst: pfx("0.0.0.0/0"), Target: desired.TargetNAT, TargetID: "nat-1"},
				{Dst: pfx("10.1.0.0/16"), Target: desired.TargetPeering, TargetID: "pcx-1"}}},
		},
		NetworkACLs: []*desired.NetworkACL{
			{ID: "acl-default", Ingress: allowAll, Egress: allowAll},
			{ID: "acl-db", Ingress: allowAll, Egress: allowAll},
		},
		SecurityGroups: []*desired.SecurityGroup{
			{ID: "sg-web", Ingress: []desired.SGRule{{ID: "sgr-web80", Protocol: desired.ProtoTCP, FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}},
				Egress: []desired.SGRule{{ID: "sgr-webout", Protocol: desired.ProtoAll, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}},
			{ID: "sg-bastion", Ingress: []desired.SGRule{{ID: "sgr-ssh", Protocol: desired.ProtoTCP, FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}},
				{ID: "sgr-ping", Protocol: desired.ProtoICMP, FromPort: 8, ToPort: -1, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}},
				Egress: []desired.SGRule{{ID: "sgr-bout", Protocol: desired.ProtoAll, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}},
			{ID: "sg-db", Ingress: []desired.SGRule{{ID: "sgr-mysql", Protocol: desired.ProtoTCP, FromPort: 3306, ToPort: 3306, Groups: []string{"sg-web"}}},
				Egress: []desired.SGRule{{ID: "sgr-dbout", Protocol: desired.ProtoAll, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}},
		},
		ENIs: []*desired.ENI{
			{ID: "eni-web", Subnet: "subnet-pub", PrivateIPs: []netip.Addr{ip("10.0.1.10")}, PublicIPs: map[netip.Addr]netip.Addr{ip("10.0.1.10"): ip("203.0.113.10")},
				Groups: []string{"sg-web"}, OwnerKind: desired.OwnerInstance, OwnerID: "i-web", SourceDestCheck: true},
			{ID: "eni-bastion", Subnet: "subnet-pub", PrivateIPs: []netip.Addr{ip("10.0.1.5")}, PublicIPs: map[netip.Addr]netip.Addr{ip("10.0.1.5"): ip("203.0.113.5")},
				Groups: []string{"sg-bastion"}, OwnerKind: desired.OwnerInstance, OwnerID: "i-bastion", SourceDestCheck: true},
			{ID: "eni-db", Subnet: "subnet-priv", PrivateIPs: []netip.Addr{ip("10.0.2.20")}, Groups: []string{"sg-db"}, OwnerKind: "rds", OwnerID: "eni-db", SourceDestCheck: true},
			{ID: "eni-nat", Subnet: "subnet-pub", PrivateIPs: []netip.Addr{ip("10.0.1.99")}, PublicIPs: map[netip.Addr]netip.Addr{ip("10.0.1.99"): ip("203.0.113.99")},
				OwnerKind: desired.OwnerNATGateway, OwnerID: "nat-1"},
		},
		NATGateways: []*desired.NATGateway{{ID: "nat-1", Subnet: "subnet-pub", ENI: "eni-nat", Public: true}},
	}
	b := &desired.VPC{
		ID: "vpc-b", CIDRs: []netip.Prefix{pfx("10.1.0.0/16")},
		Subnets:     []*desired.Subnet{{ID: "subnet-b", CIDR: pfx("10.1.1.0/24"), RouteTable: "rtb-b", NetworkACL: "acl-b"}},
		RouteTables: []*desired.RouteTable{{ID: "rtb-b", Routes: []desired.Route{{Dst: pfx("10.1.0.0/16"), Target: desired.TargetLocal}}}},
		NetworkACLs: []*desired.NetworkACL{{ID: "acl-b", Ingress: allowAll, Egress: allowAll}},
		SecurityGroups: []*desired.SecurityGroup{{ID: "sg-b", Ingress: []desired.SGRule{{ID: "sgr-b", Protocol: desired.ProtoAll, CIDRs: []netip.Prefix{pfx("10.0.0.0/8")}}},
			Egress: []desired.SGRule{{ID: "sgr-bo", Protocol: desired.ProtoAll, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}}},
		ENIs: []*desired.ENI{{ID: "eni-b", Subnet: "subnet-b", PrivateIPs: []netip.Addr{ip("10.1.1.30")}, Groups: []string{"sg-b"}, OwnerKind: desired.OwnerInstance, OwnerID: "i-b"}},
	}
	return &desired.World{
		VPCs: []*desired.VPC{a, b},
		Instances: []*desired.Instance{{ID: "i-web", State: "running", ENIs: []string{"eni-web"}}, {ID: "i-bastion", State: "running", ENIs: []string{"eni-bastion"}},
			{ID: "i-b", State: "running", ENIs: []string{"eni-b"}}},
		Peerings: []*desired.Peering{{ID: "pcx-1", RequesterVPC: "vpc-a", AccepterVPC: "vpc-b"}},
		Names:    []*desired.Name{{Name: "bts-db.abc.ap-northeast-2.rds.amazonaws.com", VPCs: []string{"vpc-a"}, Addrs: []netip.Addr{ip("10.0.2.20")}}},
	}
}

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(w *desired.World)
		q        Query
		ok       bool
		deciding string // the last step's component, id and rule
		explains string
	}{
		{name: "web to the database", q: Query{From: "i-web", To: "bts-db.abc.ap-northeast-2.rds.amazonaws.com", Port: 3306}, ok: true},
		{name: "bastion refused by the database's group", q: Query{From: "i-bastion", To: "10.0.2.20", Port: 3306},
			deciding: "security-group sg-db ", explains: "no ingress rule of eni-db's security groups (sg-db) allows tcp/3306 from 10.0.1.5"},
		{name: "internet to web", q: Query{From: "internet", To: "203.0.113.10", Port: 80}, ok: true},
		{name: "internet to web on ssh", q: Query{From: "internet", To: "i-web", Port: 22}, deciding: "security-group sg-web "},
		{name: "ping the bastion", q: Query{From: "internet", To: "i-bastion", Protocol: "icmp"}, ok: true},
		{name: "internet to the database", q: Query{From: "internet", To: "eni-db", Port: 3306}, explains: "has no public IP"},
		{name: "database out through the NAT gateway", q: Query{From: "eni-db", To: "198.18.0.12", Port: 443}, ok: true},
		{name: "a network ACL entry denies", change: func(w *desired.World) {
			acl := w.VPCs[0].NetworkACLs[1]
			acl.Ingress = append([]desired.ACLEntry{{Number: 90, Protocol: desired.ProtoTCP, FromPort: 3306, ToPort: 3306, CIDR: pfx("10.0.1.0/24")}}, acl.Ingress...)
		}, q: Query{From: "i-web", To: "eni-db", Port: 3306}, deciding: "network-acl acl-db 90", explains: "inbound rule 90 denies tcp/3306 from 10.0.1.10"},
		{name: "a stateless ACL without the reply's ports", change: func(w *desired.World) {
			w.VPCs[0].NetworkACLs[1].Egress = []desired.ACLEntry{{Number: 100, Protocol: desired.ProtoTCP, FromPort: 1024, ToPort: 2000, CIDR: pfx("0.0.0.0/0"), Allow: true}}
		}, q: Query{From: "i-web", To: "eni-db", Port: 3306}, deciding: "network-acl acl-db *", explains: "ephemeral ports"},
		{name: "no route out", change: func(w *desired.World) {
			rt := w.VPCs[0].RouteTables[1]
			rt.Routes = rt.Routes[:1]
		}, q: Query{From: "eni-db", To: "internet", Port: 443}, deciding: "route-table rtb-priv ", explains: "has no route to 198.18.0.10"},
		{name: "peering without a route back", q: Query{From: "eni-db", To: "i-b", Port: 22}, deciding: "route-table rtb-b ", explains: "no route back to 10.0.2.20"},
		{name: "peering with a route back", change: func(w *desired.World) {
			rt := w.VPCs[1].RouteTables[0]
			rt.Routes = append(rt.Routes, desired.Route{Dst: pfx("10.0.0.0/16"), Target: desired.TargetPeering, TargetID: "pcx-1"})
		}, q: Query{From: "eni-db", To: "i-b", Port: 22}, ok: true},
		{name: "a private instance has no public IP for the gateway", change: func(w *desired.World) {
			w.VPCs[0].RouteTables[1].Routes[1] = desired.Route{Dst: pfx("0.0.0.0/0"), Target: desired.TargetIGW, TargetID: "igw-a"}
		}, q: Query{From: "eni-db", To: "internet", Port: 80}, deciding: "internet-gateway igw-a ", explains: "10.0.2.20 has no public IP"},
		{name: "a stopped instance", change: func(w *desired.World) { w.Instances[0].State = "stopped" },
			q: Query{From: "internet", To: "i-web", Port: 80}, deciding: "instance i-web ", explains: "is stopped"},
		{name: "the resolver answers everyone", q: Query{From: "i-bastion", To: "10.0.0.2", Protocol: "udp", Port: 53}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := seedWorld()
			if tc.change != nil {
				tc.change(w)
			}
			r, err := Analyze(w, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if r.Reachable != tc.ok {
				t.Fatalf("reachable = %v, want %v: %s\n%+v", r.Reachable, tc.ok, r.Explanation, r.Path)
			}
			last := r.Path[len(r.Path)-1]
			if got := last.Component + " " + last.ID + " " + last.Rule; !tc.ok && tc.deciding != "" && !strings.HasPrefix(got, tc.deciding) {
				t.Errorf("decided by %q, want %q: %s", got, tc.deciding, r.Explanation)
			}
			if !strings.Contains(r.Explanation, tc.explains) {
				t.Errorf("explanation %q lacks %q", r.Explanation, tc.explains)
			}
		})
	}
}

func TestAnalyzeRefuses(t *testing.T) {
	w := seedWorld()
	for _, q := range []Query{
		{From: "i-nope", To: "i-web", Port: 80},
		{From: "i-web", To: "i-web", Protocol: "sctp", Port: 80},
		{From: "i-web", To: "i-bastion", Port: 0},
		{From: "internet", To: "8.8.8.8", Port: 53},
		{From: "203.0.113.10", To: "i-bastion", Port: 22},
		{From: "i-web", To: "no.such.name", Port: 80},
	} {
		if _, err := Analyze(w, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("i-web", "10.0.2.20", "tcp", 3306)
	f.Add("internet", "203.0.113.10", "icmp", 0)
	f.Add("eni-db", "i-b", "udp", 53)
	f.Fuzz(func(t *testing.T, from, to, proto string, port int) {
		r, err := Analyze(seedWorld(), Query{From: from, To: to, Protocol: proto, Port: port})
		if err == nil && len(r.Path) == 0 && !r.Reachable {
			t.Fatalf("unreachable without a deciding step: %+v", r)
		}
	})
}
