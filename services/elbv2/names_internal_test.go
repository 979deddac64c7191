package elbv2

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/cloudbox/cloudbox/desired"
)

// A load balancer's record: public addresses for an internet-facing one,
// private ones for an internal one, visible from everywhere.
func TestLBName(t *testing.T) {
	pub := &desired.LoadBalancer{DNSName: "Pub-1.us-east-1.elb.amazonaws.com", Scheme: "internet-facing", Nodes: []*desired.LBNode{
		{ENI: "eni-1", PrivateIP: netip.MustParseAddr("10.0.1.5"), PublicIP: netip.MustParseAddr("198.18.1.5")},
		{ENI: "eni-2", PrivateIP: netip.MustParseAddr("10.0.2.5"), PublicIP: netip.MustParseAddr("198.18.2.5")},
	}}
	internal := &desired.LoadBalancer{DNSName: "internal-int-2.us-east-1.elb.amazonaws.com", Scheme: "internal", Nodes: []*desired.LBNode{
		{ENI: "eni-3", PrivateIP: netip.MustParseAddr("10.0.1.6")},
	}}
	for _, tc := range []struct {
		lb   *desired.LoadBalancer
		name string
		want []netip.Addr
	}{
		{pub, "pub-1.us-east-1.elb.amazonaws.com", []netip.Addr{netip.MustParseAddr("198.18.1.5"), netip.MustParseAddr("198.18.2.5")}},
		{internal, "internal-int-2.us-east-1.elb.amazonaws.com", []netip.Addr{netip.MustParseAddr("10.0.1.6")}},
	} {
		n := lbName(tc.lb)
		if n.Name != tc.name || !slices.Equal(n.Addrs, tc.want) || !n.Resolves("vpc-1") || !n.Resolves("") {
			t.Errorf("%s: %+v", tc.name, n)
		}
	}
}
