package vpc

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/dataplane/nft"
)

// nsState is what one namespace should hold (or, read back from the kernel,
// holds). Maps make the diff with the last applied state cheap.
type nsState struct {
	sysctls map[string]string
	// veths are the pairs this namespace creates, by local name; the other
	// end belongs to the peer namespace and is listed in its links.
	veths map[string]network.Veth
	// links are every veth end that belongs in this namespace.
	links  map[string]bool
	addrs  map[linkAddr]bool
	routes map[routeKey]network.Route
	rules  map[network.Rule]bool
	neighs map[neighKey]network.Neigh
	table  *nft.Table
	// tableText is table.String(), what the diff compares; "" when unknown.
	tableText string
	// tables are the kernel routing tables besides main that this namespace
	// uses, so that a restart reads them back.
	tables map[int]bool
}

type linkAddr struct {
	link string
	addr netip.Prefix
}

type routeKey struct {
	table int
	dst   netip.Prefix
}

type neighKey struct {
	dev string
	ip  netip.Addr
}

func newNS() *nsState {
	return &nsState{
		sysctls: map[string]string{},
		veths:   map[string]network.Veth{},
		links:   map[string]bool{},
		addrs:   map[linkAddr]bool{},
		routes:  map[routeKey]network.Route{},
		rules:   map[network.Rule]bool{},
		neighs:  map[neighKey]network.Neigh{},
		tables:  map[int]bool{},
	}
}

func (s *nsState) addRoute(r network.Route) {
	s.routes[routeKey{r.Table, r.Dst}] = r
	if r.Table != 0 {
		s.tables[r.Table] = true
	}
}

func (s *nsState) setNeigh(n network.Neigh) { s.neighs[neighKey{n.Dev, n.IP}] = n }

func (s *nsState) setTable(t *nft.Table) {
	s.table = t
	s.tableText = t.String()
}

// proxyARP makes link answer ARP, at once, for what its namespace routes
// out of another link.
func (s *nsState) proxyARP(link string) {
	s.sysctls["net.ipv4.conf."+link+".proxy_arp"] = "1"
	s.sysctls["net.ipv4.neigh."+link+".proxy_delay"] = "0"
	s.sysctls["net.ipv4.conf."+link+".rp_filter"] = "0"
}

// sysctlLink returns the link a sysctl key is about, "" for a namespace-wide
// one.
func sysctlLink(key string) string {
	parts := strings.Split(key, ".")
	if len(parts) == 5 && (parts[2] == "conf" || parts[2] == "neigh") && parts[3] != "all" && parts[3] != "default" {
		return parts[3]
	}
	return ""
}

func vethEqual(a, b network.Veth) bool {
	return a.NS == b.NS && a.Name == b.Name && a.PeerNS == b.PeerNS && a.PeerName == b.PeerName &&
		bytes.Equal(a.MAC, b.MAC) && bytes.Equal(a.PeerMAC, b.PeerMAC) && a.MTU == b.MTU
}

func neighEqual(a, b network.Neigh) bool {
	return a.Dev == b.Dev && a.IP == b.IP && bytes.Equal(a.MAC, b.MAC) && a.Proxy == b.Proxy
}
