package vpcdns

import (
	"net/netip"
	"strings"
)

// Static answers fixed public names, everywhere (every VPC and the
// internet): the addresses of the simulated internet's own services, such
// as the package mirror behind deb.debian.org.
type Static map[string][]netip.Addr

// LookupA implements Resolver; names are looked up without the trailing
// dot, case-insensitively.
func (s Static) LookupA(_ string, name string) ([]netip.Addr, bool) {
	addrs, ok := s[strings.ToLower(strings.TrimSuffix(name, "."))]
	return addrs, ok
}

// LookupPTR implements Resolver: the services have no reverse records.
func (Static) LookupPTR(string, netip.Addr) (string, bool) { return "", false }
