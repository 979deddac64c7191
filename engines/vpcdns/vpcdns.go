// Package vpcdns is the Amazon-provided DNS server of a VPC, the resolver
// at the VPC's base address + 2, and the simulated internet's resolver.
//
// A question is answered from the first of these sources that knows its
// name (Lookup):
//
//  1. Route 53 private hosted zones associated with the asking VPC (when
//     the VPC has DNS support); the most specific zone whose name is a
//     suffix of the question wins, and it is authoritative: a name it
//     lacks is NXDOMAIN, a type it lacks NODATA, both with the zone's SOA,
//     never asked further, as Route 53 Resolver does.
//  2. The AWS names (a Resolver, usually a Chain): the instances' private
//     names (ip-10-0-1-54.<region>.compute.internal, or
//     ip-10-0-1-54.ec2.internal in us-east-1) and public names
//     (ec2-198-18-3-4.<region>.compute.amazonaws.com), which resolve to
//     the private address from inside the owning VPC and to the public
//     one from elsewhere (split horizon), with PTR records for those
//     addresses; the names services publish (load balancers'); the
//     simulated internet's own (the package mirror's). A known name
//     without records of the asked type is NODATA.
//  3. Route 53 public hosted zones of any account, answered as private
//     ones are; of two zones of one name, the first in the world.
//
// Anything else is NXDOMAIN: the simulated world has no upstream internet
// to forward to. The internet's resolver (vpcID Internet) asks 2 and 3
// only, and sees public names only. The public zones' name servers
// (vpcID Authoritative, at the addresses NameServers gives their names)
// answer the names of public zones only.
//
// Zone records are built with dns.NewRR from their presentation values,
// with their TTLs. The answers are a recursive resolver's: a CNAME is
// followed through the same sources, the answer holding the CNAME and
// the target's records (and the target's rcode); a wildcard *.name
// answers names below it that do not exist (RFC 4592: the wildcard child
// of the closest encloser); an alias record answers its type with its
// target's records and TTL, the target being resolved through the same
// sources (a record of a zone the asker sees, or an AWS name such as a
// load balancer's, 60 s). Records with a set id follow their routing
// policy on every question: weighted (random by weight among the healthy,
// weight 0 only when all are 0), failover (the primary when healthy, else
// the secondary), multivalue (up to 8 healthy records, shuffled), latency
// (the record of the asking VPC's region, else the nearest region's),
// geolocation (the asking VPC's region's state, country, continent, else
// the default location "*"). A record is unhealthy
// when its health check is, or when it is an alias that evaluates target
// health and its target has no records or is a load balancer without a
// healthy target (Lookup.Targets); when all are unhealthy, all count
// as healthy (the failover primary is answered).
//
// Negative answers carry an SOA in the authority section (the zone's,
// with the lesser of its TTL and minimum; the root's outside any zone) so
// stub resolvers can cache them. Over UDP an answer is truncated (TC) to
// 512 bytes, or to the client's EDNS0 size up to 4096; over TCP it is
// whole. Nothing is cached: every question reads the world afresh.
package vpcdns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Resolver knows the names of VPCs.
type Resolver interface {
	// LookupA returns the IPv4 addresses of name as seen from inside the
	// VPC vpcID. name is fully qualified (trailing dot) and lowercase.
	// ok is false when the VPC does not know the name; a known name may
	// have no addresses.
	LookupA(vpcID, name string) (addrs []netip.Addr, ok bool)
	// LookupPTR returns the name of ip as seen from inside the VPC vpcID,
	// fully qualified (the trailing dot may be left off).
	LookupPTR(vpcID string, ip netip.Addr) (name string, ok bool)
}

// Chain asks its resolvers in order; the first that knows a name answers.
type Chain []Resolver

// LookupA implements Resolver.
func (c Chain) LookupA(vpcID, name string) ([]netip.Addr, bool) {
	for _, r := range c {
		if addrs, ok := r.LookupA(vpcID, name); ok {
			return addrs, true
		}
	}
	return nil, false
}

// LookupPTR implements Resolver.
func (c Chain) LookupPTR(vpcID string, ip netip.Addr) (string, bool) {
	for _, r := range c {
		if name, ok := r.LookupPTR(vpcID, ip); ok {
			return name, true
		}
	}
	return "", false
}

// ttl is the TTL of answers and of negative answers, as the Amazon DNS
// server gives for instance names.
const ttl = 60

// maxUDP is the largest UDP answer sent, and the EDNS0 size advertised.
const maxUDP = dns.DefaultMsgSize

// Serve answers DNS queries for the VPC vpcID on udp and tcp (either may be
// nil) until ctx ends, when it returns nil, or until both sockets close,
// when it returns what made them fail other than being closed. r is a
// *Lookup to answer zones; any other Resolver answers as a Lookup with r
// as its AWS names and no zones.
func Serve(ctx context.Context, vpcID string, r Resolver, udp net.PacketConn, tcp net.Listener) error {
	l, ok := r.(*Lookup)
	if !ok {
		l = &Lookup{Names: r}
	}
	h := &handler{vpcID: vpcID, l: l}
	var servers []*dns.Server
	if udp != nil {
		servers = append(servers, &dns.Server{PacketConn: udp, Handler: h, UDPSize: maxUDP})
	}
	if tcp != nil {
		servers = append(servers, &dns.Server{Listener: tcp, Handler: h})
	}
	errc := make(chan error, len(servers))
	shutdown := func(started []*dns.Server) {
		for _, s := range started {
			s.Shutdown() // a server whose socket already closed says so; nothing to do
		}
	}
	// Start one at a time and wait until each runs: a Shutdown before a
	// server has started would be ignored and leave it serving.
	for i, s := range servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { errc <- s.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			shutdown(servers[:i])
			for range i {
				<-errc
			}
			return err
		}
	}
	var errs []error
	for running := len(servers); running > 0; running-- {
		select {
		case <-ctx.Done():
			shutdown(servers)
			for ; running > 0; running-- {
				<-errc
			}
			return nil
		case err := <-errc:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

type handler struct {
	vpcID string
	l     *Lookup
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	opt := req.IsEdns0()
	var m *dns.Msg
	if opt != nil && opt.Version() != 0 {
		m = new(dns.Msg)
		m.SetReply(req)
		m.Rcode = dns.RcodeBadVers
	} else {
		m = h.answer(req)
	}
	if opt != nil {
		m.SetEdns0(maxUDP, false)
	}
	size := dns.MaxMsgSize
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); !tcp {
		size = dns.MinMsgSize
		if opt != nil && int(opt.UDPSize()) > size {
			size = min(int(opt.UDPSize()), maxUDP)
		}
	}
	m.Truncate(size)
	if err := w.WriteMsg(m); err != nil {
		// What could not be packed is a server failure, not silence.
		f := new(dns.Msg)
		f.SetRcode(req, dns.RcodeServerFailure)
		f.RecursionAvailable = true
		w.WriteMsg(f)
	}
}

// answer builds the reply to req.
func (h *handler) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	// Zone transfers and other classes (CHAOS version.bind, ...) are not
	// served by a recursive resolver.
	if q.Qclass != dns.ClassINET || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused
		return m
	}
	asker := h.vpcID
	if asker == Authoritative {
		if !h.l.hosts(q.Name) {
			m.Rcode = dns.RcodeRefused
			return m
		}
		m.Authoritative, m.RecursionAvailable, asker = true, false, Internet
	}
	a := h.l.resolve(asker, q.Name, q.Qtype)
	m.Rcode = a.rcode
	if a.rcode == dns.RcodeServerFailure {
		return m
	}
	// The answer keeps the asked name's case.
	asked := norm(q.Name) + "."
	for _, rr := range a.rrs {
		if rr.Header().Name == asked {
			rr.Header().Name = q.Name
		}
	}
	m.Answer = a.rrs
	if a.soa != nil {
		m.Ns = []dns.RR{a.soa}
	}
	return m
}

// negativeSOA is the SOA that accompanies NXDOMAIN and empty answers. With
// no upstream, the root zone stands as the authority for every name.
func negativeSOA() *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      "a.root-servers.net.",
		Mbox:    "nstld.verisign-grs.com.",
		Serial:  1,
		Refresh: 1800,
		Retry:   900,
		Expire:  604800,
		Minttl:  ttl,
	}
}

// reverseAddr parses an IPv4 reverse name, d.c.b.a.in-addr.arpa.
func reverseAddr(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	for i, j := 0, 3; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	ip, err := netip.ParseAddr(strings.Join(labels, "."))
	return ip, err == nil
}
