package vpc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
)

func newFake(t *testing.T) *network.Fake {
	t.Helper()
	f, err := network.NewFake("test")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustApply(t *testing.T, r *Reconciler, w *desired.World) {
	t.Helper()
	if err := r.Apply(w); err != nil {
		t.Fatal(err)
	}
}

func routesOf(t *testing.T, f *network.Fake, ns string, table int) []string {
	t.Helper()
	rs, err := f.Routes(ns, table)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

func wantAll(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %q in\n%s", what, w, strings.Join(got, "\n"))
		}
	}
}

func TestDesiredState(t *testing.T) {
	f := newFake(t)
	w := testWorld()
	addPeering(w, true, true)
	mustApply(t, New(f, nil), w)

	nss, _ := f.Namespaces()
	if want := []string{"i-bastion", "i-db", "i-peer", "i-web", "internet", "nat-1", "r-vpc-1", "r-vpc-2"}; !slices.Equal(nss, want) {
		t.Fatalf("namespaces %v, want %v (none for the detached ENI)", nss, want)
	}

	links, _ := f.Links("r-vpc-1")
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
		if l.Name == "lo" {
			wantAll(t, "router lo", prefixStrings(l.Addrs), "10.0.1.1/32", "10.0.2.1/32", "10.0.0.2/32", "169.254.169.254/32", "169.254.169.253/32")
		}
		if l.Name == "igw" && l.MAC.String() != igwMAC("vpc-1").String() {
			t.Errorf("igw MAC %s, want %s", l.MAC, igwMAC("vpc-1"))
		}
	}
	if want := []string{"ebastion", "edb", "enat", "eweb", "igw", "lo", "p1"}; !slices.Equal(names, want) {
		t.Errorf("router links %v, want %v", names, want)
	}
	ilinks, _ := f.Links("i-web")
	if len(ilinks) != 2 || ilinks[0].Name != "eth0" || ilinks[0].MAC.String() != "02:00:0a:00:01:0a" || !slices.Equal(prefixStrings(ilinks[0].Addrs), []string{"10.0.1.10/24"}) {
		t.Errorf("i-web links %+v", ilinks)
	}
	wantAll(t, "i-web routes", routesOf(t, f, "i-web", 0), "0.0.0.0/0 via 10.0.1.1 dev eth0 table 254")

	pub, priv := routeTableID("rtb-pub"), routeTableID("rtb-priv")
	wantAll(t, "router main", routesOf(t, f, "r-vpc-1", 0),
		"blackhole 10.0.0.0/16 table 254", "10.0.1.10/32 dev eweb table 254", "10.0.1.5/32 dev enat table 254", "10.0.2.30/32 dev edb table 254")
	wantAll(t, "rtb-pub", routesOf(t, f, "r-vpc-1", pub),
		fmt.Sprintf("0.0.0.0/0 dev igw table %d", pub), fmt.Sprintf("10.1.0.0/16 dev p1 table %d", pub))
	wantAll(t, "rtb-priv", routesOf(t, f, "r-vpc-1", priv), fmt.Sprintf("0.0.0.0/0 via 10.0.1.5 dev enat table %d", priv))
	wantAll(t, "rtb-peer", routesOf(t, f, "r-vpc-2", routeTableID("rtb-peer")), fmt.Sprintf("10.0.0.0/16 dev p1 table %d", routeTableID("rtb-peer")))

	rules, _ := f.Rules("r-vpc-1")
	var rs []string
	for _, r := range rules {
		rs = append(rs, r.String())
	}
	wantAll(t, "router rules", rs, "100: from all to 10.0.0.0/16 lookup 254",
		fmt.Sprintf("1000: from 10.0.1.0/24 lookup %d", pub), fmt.Sprintf("1000: from 10.0.2.0/24 lookup %d", priv))

	neighs, _ := f.Neighs("r-vpc-1")
	var ns []string
	for _, n := range neighs {
		ns = append(ns, n.String())
	}
	wantAll(t, "router neighbours", ns, "10.0.1.10 lladdr 02:00:0a:00:01:0a dev eweb", "10.0.2.30 lladdr 02:00:0a:00:02:1e dev edb")
	for _, k := range []string{"net.ipv4.conf.eweb.proxy_arp", "net.ipv4.ip_forward"} {
		if v, err := f.Sysctl("r-vpc-1", k); err != nil || v != "1" {
			t.Errorf("router %s = %q, %v", k, v, err)
		}
	}

	wantAll(t, "internet routes", routesOf(t, f, InternetNS, 0), "198.18.1.10/32 dev v1 table 254", "198.18.1.5/32 dev v1 table 254")
	inl, _ := f.Neighs(InternetNS)
	if len(inl) != 3 || inl[0].MAC.String() != igwMAC("vpc-1").String() {
		t.Errorf("internet neighbours %v: want one per public IP, to the router's igw", inl)
	}

	text := f.Table("r-vpc-1", "").String()
	for _, want := range []string{
		"set sg-web {", "elements = { 10.0.1.10, 10.0.2.99 }",
		"type filter hook forward priority 0; policy drop;",
		`iifname "igw" ip daddr 198.18.1.10 dnat ip to 10.0.1.10`,
		`oifname "igw" ip saddr 10.0.1.10 snat ip to 198.18.1.10`,
		`oifname "igw" ip saddr != @has-public-ip drop`,
		`iifname "edb" jump nacl-out-subnet-priv`,
		`oifname "edb" jump nacl-in-subnet-priv`,
		"ct state established,related accept",
		`iifname "eweb" jump sg-out-eweb`,
		`ip saddr @sg-web meta l4proto tcp th dport 3306 return comment "sgr-mysql"`,
		`ip saddr 10.0.2.0/24 return comment "same-subnet"`,
		`drop comment "final-deny"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("router table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "sg-out-enat") {
		t.Errorf("the NAT gateway's ENI has security group chains:\n%s", text)
	}
	// Network ACLs come before the conntrack shortcut, security groups after.
	if strings.Index(text, "jump nacl-in-subnet-priv") > strings.Index(text, "ct state established") ||
		strings.Index(text, "jump sg-in-edb") < strings.Index(text, "ct state established") {
		t.Errorf("forward chain order wrong:\n%s", text)
	}
	if nat := f.Table("nat-1", "").String(); !strings.Contains(nat, `oifname "eth0" ip saddr != 10.0.1.5 masquerade`) {
		t.Errorf("NAT gateway table:\n%s", nat)
	}
	if v, _ := f.Sysctl("nat-1", "net.ipv4.ip_forward"); v != "1" {
		t.Errorf("NAT gateway forwarding %q", v)
	}
}

func prefixStrings[T fmt.Stringer](ps []T) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestApplyTwiceIsNoOp(t *testing.T) {
	f := newFake(t)
	r := New(f, nil)
	mustApply(t, r, testWorld())
	f.ResetCalls()
	mustApply(t, r, testWorld())
	if calls := f.Calls(); len(calls) != 0 {
		t.Fatalf("second Apply of the same world made calls: %v", calls)
	}
}

// TestChangesAreMinimal: each kind of change makes only the calls it needs.
func TestChangesAreMinimal(t *testing.T) {
	f := newFake(t)
	r := New(f, nil)
	mustApply(t, r, testWorld())
	priv := routeTableID("rtb-priv")

	step := func(name string, edit func(w *desired.World), want ...string) {
		t.Helper()
		w := testWorld()
		edit(w)
		f.ResetCalls()
		mustApply(t, r, w)
		if got := f.Calls(); !slices.Equal(got, want) {
			t.Errorf("%s: calls\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		f.ResetCalls()
		mustApply(t, r, testWorld()) // back
	}
	step("revoke", func(w *desired.World) { w.VPCs[0].SecurityGroups[2].Ingress = nil },
		`ApplyTable("r-vpc-1", "cloudbox")`)
	step("membership", func(w *desired.World) { w.VPCs[0].ENIs[4].Groups = nil },
		`ApplyTable("r-vpc-1", "cloudbox")`)
	step("replace route", func(w *desired.World) {
		w.VPCs[0].RouteTables[1].Routes[1] = desired.Route{Dst: pfx("0.0.0.0/0"), Target: desired.TargetENI, TargetID: "eni-bastion"}
	}, fmt.Sprintf(`ReplaceRoute("r-vpc-1", 0.0.0.0/0 via 10.0.1.20 dev ebastion table %d)`, priv))
	step("remove route", func(w *desired.World) { w.VPCs[0].RouteTables[1].Routes = w.VPCs[0].RouteTables[1].Routes[:1] },
		fmt.Sprintf(`ReplaceRoute("r-vpc-1", blackhole 0.0.0.0/0 table %d)`, priv))
	step("associate", func(w *desired.World) { w.VPCs[0].Subnets[1].RouteTable = "rtb-pub" },
		fmt.Sprintf(`AddRule("r-vpc-1", 1000: from 10.0.2.0/24 lookup %d)`, routeTableID("rtb-pub")),
		fmt.Sprintf(`DeleteRule("r-vpc-1", 1000: from 10.0.2.0/24 lookup %d)`, priv))
	step("detach igw", func(w *desired.World) { w.VPCs[0].InternetGateway = "" },
		`ApplyTable("r-vpc-1", "cloudbox")`,
		fmt.Sprintf(`ReplaceRoute("r-vpc-1", blackhole 0.0.0.0/0 table %d)`, routeTableID("rtb-pub")),
		`DeleteLink("internet", "v1")`, // takes the router's end with it; the second call finds nothing
		`DeleteLink("r-vpc-1", "igw")`)
}

func TestRemovedInstance(t *testing.T) {
	f := newFake(t)
	r := New(f, nil)
	mustApply(t, r, testWorld())
	w := testWorld()
	w.VPCs[0].ENIs = slices.DeleteFunc(w.VPCs[0].ENIs, func(e *desired.ENI) bool { return e.ID == "eni-db" })
	mustApply(t, r, w)
	nss, _ := f.Namespaces()
	if slices.Contains(nss, "i-db") {
		t.Fatalf("i-db still there: %v", nss)
	}
	links, _ := f.Links("r-vpc-1")
	for _, l := range links {
		if l.Name == "edb" {
			t.Fatal("router end of the removed ENI still there")
		}
	}
	if strings.Contains(f.Table("r-vpc-1", "").String(), "edb") {
		t.Fatal("router table still names edb")
	}
}

// TestRestart: a fresh Reconciler over a world already in place reads the
// kernel, removes what is stale, and recreates no link.
func TestRestart(t *testing.T) {
	f := newFake(t)
	mustApply(t, New(f, nil), testWorld())
	must(t, f.EnsureNamespace("i-stale"))
	stale := network.Route{Table: routeTableID("rtb-pub"), Dst: pfx("10.9.0.0/16"), Type: network.Blackhole}
	must(t, f.ReplaceRoute("r-vpc-1", stale))
	staleRule := network.Rule{Priority: prioSubnet, From: pfx("10.0.9.0/24"), Table: 4242}
	must(t, f.AddRule("r-vpc-1", staleRule))
	must(t, f.DelAddr("r-vpc-1", "lo", pfx("169.254.169.254/32")))
	f.ResetCalls()

	mustApply(t, New(f, nil), testWorld())
	calls := strings.Join(f.Calls(), "\n")
	for _, want := range []string{
		`DeleteNamespace("i-stale")`,
		`DeleteRoute("r-vpc-1", ` + stale.String() + `)`,
		`DeleteRule("r-vpc-1", ` + staleRule.String() + `)`,
		`AddAddr("r-vpc-1", "lo", 169.254.169.254/32)`,
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("restart did not %s:\n%s", want, calls)
		}
	}
	for _, bad := range []string{"EnsureVeth", "EnsureNamespace", "DeleteLink"} {
		if strings.Contains(calls, bad) {
			t.Errorf("restart made a %s call:\n%s", bad, calls)
		}
	}
}

func TestFailedApplyIsRetried(t *testing.T) {
	f := newFake(t)
	r := New(f, nil)
	boom := errors.New("boom")
	f.FailNext("ApplyTable", boom)
	if err := r.Apply(testWorld()); !errors.Is(err, boom) {
		t.Fatalf("Apply: %v, want boom", err)
	}
	// The rest was applied regardless.
	if nss, _ := f.Namespaces(); len(nss) != 8 {
		t.Fatalf("namespaces after a failed table: %v", nss)
	}
	mustApply(t, r, testWorld())
	for _, ns := range []string{"r-vpc-1", "r-vpc-2", "nat-1"} {
		if f.Table(ns, "") == nil {
			t.Errorf("%s has no table after the retry", ns)
		}
	}
}

// TestGroupAcrossPeering: a rule referencing a group of the peered VPC
// matches that group's members there.
func TestGroupAcrossPeering(t *testing.T) {
	f := newFake(t)
	w := testWorld()
	addPeering(w, true, true)
	w.VPCs[1].SecurityGroups[0].Ingress[0] = desired.SGRule{ID: "sgr-from-web", Protocol: desired.ProtoTCP, FromPort: 80, ToPort: 80, Groups: []string{"sg-web"}}
	mustApply(t, New(f, nil), w)
	text := f.Table("r-vpc-2", "").String()
	for _, want := range []string{"set sg-web {", "elements = { 10.0.1.10, 10.0.2.99 }", `ip saddr @sg-web meta l4proto tcp th dport 80 return comment "sgr-from-web"`} {
		if !strings.Contains(text, want) {
			t.Errorf("peer router table lacks %q:\n%s", want, text)
		}
	}
}

func TestConcurrentApply(t *testing.T) {
	f := newFake(t)
	r := New(f, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			w := testWorld()
			if i%2 == 0 {
				addPeering(w, true, true)
			}
			if err := r.Apply(w); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mustApply(t, r, testWorld())
	f.ResetCalls()
	mustApply(t, r, testWorld())
	if calls := f.Calls(); len(calls) != 0 {
		t.Fatalf("calls after settling: %v", calls)
	}
}

func TestLinkNames(t *testing.T) {
	for id, want := range map[string]string{
		"eni-0123456789abcdef0": "e3456789abcdef0",
		"eni-a":                 "ea",
		"pcx-0123456789abcdef0": "p3456789abcdef0",
	} {
		if got := shortLink(id[0], id); got != want || len(got) > 15 {
			t.Errorf("shortLink(%q) = %q, want %q", id, got, want)
		}
	}
	w := testWorld()
	w.VPCs[0].ENIs[1].ID = "eni-x0123456789abcdef"
	w.VPCs[0].ENIs[2].ID = "eni-y0123456789abcdef"
	if err := New(newFake(t), nil).Apply(w); err == nil || !strings.Contains(err.Error(), "both map to link") {
		t.Fatalf("Apply with colliding link names: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
