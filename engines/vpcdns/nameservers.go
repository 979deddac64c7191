package vpcdns

import (
	"net/netip"
	"regexp"

	"github.com/cloudbox/cloudbox/desired"
)

// Authoritative is the vpcID of the name servers of public hosted zones
// (the ns-N.awsdns-NN.tld names of their delegation sets): they answer
// only names within a public zone, authoritatively (AA, no recursion),
// and refuse the rest, as Route 53's name servers do. Within a zone the
// answer is the internet resolver's (aliases and CNAMEs resolved).
const Authoritative = "authoritative"

// NameServers resolves the name servers Route 53 gives public zones,
// ns-N.awsdns-NN.{com,net,org,co.uk}, to the address that serves their
// top-level domain's share (by "com", "net", "org", "co.uk").
type NameServers map[string]netip.Addr

var nameServerName = regexp.MustCompile(`^ns-[0-9]+\.awsdns-[0-9]+\.(com|net|org|co\.uk)\.$`)

// LookupA implements Resolver.
func (n NameServers) LookupA(_, name string) ([]netip.Addr, bool) {
	m := nameServerName.FindStringSubmatch(name)
	if m == nil {
		return nil, false
	}
	a, ok := n[m[1]]
	if !ok {
		return nil, false
	}
	return []netip.Addr{a}, true
}

// LookupPTR implements Resolver: name servers have no reverse names.
func (NameServers) LookupPTR(string, netip.Addr) (string, bool) { return "", false }

// hosts reports whether a public zone of the latest world holds name.
func (l *Lookup) hosts(name string) bool {
	q := &question{vpcID: Internet}
	if l.World != nil {
		q.w = l.World()
	}
	if q.w == nil {
		q.w = &desired.World{}
	}
	return q.zone(norm(name), false) != nil
}
