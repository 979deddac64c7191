// Package vpcdns is the Amazon-provided DNS server of a VPC, the resolver
// at the VPC's base address + 2 (and 169.254.169.253).
//
// It answers A queries for the names the VPC knows, which on AWS are the
// instances' private names (ip-10-0-1-54.<region>.compute.internal, or
// ip-10-0-1-54.ec2.internal in us-east-1) and their public names
// (ec2-198-18-3-4.<region>.compute.amazonaws.com), which resolve to the
// private address from inside the owning VPC and to the public one from
// elsewhere (split horizon); PTR queries for those addresses; an empty
// NOERROR answer for other types of a known name; and NXDOMAIN for names
// nobody knows, since the simulated world has no upstream internet to
// forward to. Negative answers carry an SOA in the authority section so
// stub resolvers can cache them. Route 53 private zones and load balancer
// names plug in as further Resolvers through Chain.
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

// Serve answers DNS queries for the VPC vpcID on udp and tcp (either may be
// nil) until ctx ends, when it returns nil, or until both sockets close,
// when it returns what made them fail other than being closed.
func Serve(ctx context.Context, vpcID string, r Resolver, udp net.PacketConn, tcp net.Listener) error {
	h := &handler{vpcID: vpcID, r: r}
	var servers []*dns.Server
	if udp != nil {
		servers = append(servers, &dns.Server{PacketConn: udp, Handler: h, UDPSize: dns.DefaultMsgSize})
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
	r     Resolver
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := h.answer(req)
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(dns.DefaultMsgSize, false)
	}
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); !tcp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
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
	name := strings.ToLower(dns.Fqdn(q.Name))
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Rrtype: q.Qtype, Ttl: ttl}
	addrs, knownA := h.r.LookupA(h.vpcID, name)
	var ptr string
	knownPTR := false
	if ip, ok := reverseAddr(name); ok {
		ptr, knownPTR = h.r.LookupPTR(h.vpcID, ip)
	}
	switch {
	case q.Qtype == dns.TypeA && knownA:
		for _, a := range addrs {
			if a.Is4() {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			}
		}
	case q.Qtype == dns.TypePTR && knownPTR:
		m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: dns.Fqdn(ptr)})
	case !knownA && !knownPTR:
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{negativeSOA()}
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
