package vpcdns

import (
	"net/netip"
	"testing"

	"github.com/cloudbox/cloudbox/desired"
)

func TestNamesResolver(t *testing.T) {
	w := &desired.World{Names: []*desired.Name{
		{Name: "www.example.com", Addrs: []netip.Addr{netip.MustParseAddr("198.18.1.5")}},
		{Name: "db01.vprofile.in", VPCs: []string{"vpc-1"}, Addrs: []netip.Addr{netip.MustParseAddr("10.0.1.9")}},
	}}
	r := NamesResolver{World: func() *desired.World { return w }}
	for _, tc := range []struct {
		vpc, name string
		want      string // "" when it must not resolve
	}{
		{"vpc-1", "WWW.example.com.", "198.18.1.5"},
		{Internet, "www.example.com.", "198.18.1.5"},
		{"vpc-1", "db01.vprofile.in.", "10.0.1.9"},
		{"vpc-2", "db01.vprofile.in.", ""},
		{Internet, "db01.vprofile.in.", ""},
		{"vpc-1", "other.example.com.", ""},
	} {
		addrs, ok := r.LookupA(tc.vpc, tc.name)
		if tc.want == "" {
			if ok {
				t.Errorf("%s from %q resolved to %v", tc.name, tc.vpc, addrs)
			}
			continue
		}
		if !ok || len(addrs) != 1 || addrs[0].String() != tc.want {
			t.Errorf("%s from %q = %v, %v; want %s", tc.name, tc.vpc, addrs, ok, tc.want)
		}
	}
}
