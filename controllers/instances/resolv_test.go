package instances

import (
	"net/netip"
	"testing"

	"github.com/cloudbox/cloudbox/desired"
)

func TestResolvConf(t *testing.T) {
	v := &desired.VPC{CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}
	head := "# from the VPC's DHCP options\n"
	if got, want := resolvConf(v, "ap-northeast-2.compute.internal"), head+"search ap-northeast-2.compute.internal\nnameserver 10.0.0.2\n"; got != want {
		t.Errorf("AWS's defaults:\n%s\nwant\n%s", got, want)
	}
	v.DHCP = &desired.DHCPOptions{DomainName: "vprofile.in corp.example", DomainNameServers: []string{"10.0.5.5", "AmazonProvidedDNS"}}
	if got, want := resolvConf(v, "ignored"), head+"search vprofile.in corp.example\nnameserver 10.0.5.5\nnameserver 10.0.0.2\n"; got != want {
		t.Errorf("a DHCP options set:\n%s\nwant\n%s", got, want)
	}
	v.DHCP = &desired.DHCPOptions{}
	if got := resolvConf(v, "ignored"); got != head {
		t.Errorf("a set without servers or domain: %q", got)
	}
}
