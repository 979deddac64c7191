package vpc

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/cloudbox/cloudbox/desired"
)

// The nodes of one cluster accept each other's connections before any
// security group; a lone node, or nodes of different clusters, do not.
func TestClusterRules(t *testing.T) {
	eni := func(id, cluster, ip string) *desired.ENI {
		return &desired.ENI{ID: id, Cluster: cluster, PrivateIPs: []netip.Addr{netip.MustParseAddr(ip)}}
	}
	enis := []*desired.ENI{
		eni("eni-a", "elasticache/web-cache", "10.0.2.10"),
		eni("eni-b", "elasticache/web-cache", "10.0.3.10"),
		eni("eni-db", "rds/bts-db", "10.0.2.20"),
		eni("eni-web", "", "10.0.1.10"),
	}
	wired := map[string]string{"eni-a": "ea", "eni-b": "eb", "eni-db": "edb", "eni-web": "eweb"}
	var tbl nft.Table
	fwd := nft.Chain{Name: chainForward}
	clusterRules(&tbl, &fwd, enis, nil, wired)

	if len(tbl.Sets) != 1 || !slices.Equal(tbl.Sets[0].Elements, []netip.Prefix{netip.MustParsePrefix("10.0.2.10/32"), netip.MustParsePrefix("10.0.3.10/32")}) {
		t.Fatalf("sets %+v, want the web-cache nodes' addresses only", tbl.Sets)
	}
	var ids []string
	for _, r := range fwd.Rules {
		ids = append(ids, r.ID)
		if len(r.Match) != 2 || r.Match[1] != (nft.AddrSet{Dst: true, Set: tbl.Sets[0].Name}) {
			t.Errorf("rule %s matches %+v", r.ID, r.Match)
		}
	}
	if !slices.Equal(ids, []string{"cluster-eni-a", "cluster-eni-b"}) {
		t.Errorf("rules %v, want one per web-cache node", ids)
	}
}

// A member in a peered VPC (a read replica in another region) is admitted
// to the local member, and the local member may reach it.
func TestClusterRulesAcrossPeering(t *testing.T) {
	local := []*desired.ENI{{ID: "eni-src", Cluster: "rds/db-SRC", PrivateIPs: []netip.Addr{netip.MustParseAddr("10.0.1.5")}}}
	remote := []*desired.ENI{
		{ID: "eni-replica", Cluster: "rds/db-SRC", PrivateIPs: []netip.Addr{netip.MustParseAddr("10.1.1.7")}},
		{ID: "eni-other", Cluster: "rds/db-OTHER", PrivateIPs: []netip.Addr{netip.MustParseAddr("10.1.1.8")}},
	}
	var tbl nft.Table
	fwd := nft.Chain{Name: chainForward}
	clusterRules(&tbl, &fwd, local, remote, map[string]string{"eni-src": "esrc"})
	if len(tbl.Sets) != 1 || !slices.Equal(tbl.Sets[0].Elements, []netip.Prefix{netip.MustParsePrefix("10.0.1.5/32"), netip.MustParsePrefix("10.1.1.7/32")}) {
		t.Fatalf("sets %+v, want the source's and its replica's addresses", tbl.Sets)
	}
	if len(fwd.Rules) != 2 || fwd.Rules[1].ID != "cluster-in-eni-src" ||
		!slices.Equal(fwd.Rules[1].Match, []nft.Match{nft.OIFName("esrc"), nft.AddrSet{Set: tbl.Sets[0].Name}}) {
		t.Fatalf("rules %+v", fwd.Rules)
	}
}
