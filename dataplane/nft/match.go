package nft

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Match is one condition of a rule. The implementations are the value types
// of this file; they compile to nftables expressions.
type Match interface {
	fmt.Stringer
	compile(b *ruleBuilder) error
}

// Action is what a rule does with a matching packet: a Verdict, SNAT, DNAT
// or Masquerade.
type Action interface {
	fmt.Stringer
	compileAction(b *ruleBuilder) error
}

// IfName matches the name of the input (or output) interface. A trailing
// '*' matches every name with that prefix ("eni-*").
type IfName struct {
	Out  bool // oifname instead of iifname
	Name string
	Not  bool
}

// IIFName matches packets that came in through the named interface.
func IIFName(name string) IfName { return IfName{Name: name} }

// OIFName matches packets that leave through the named interface.
func OIFName(name string) IfName { return IfName{Out: true, Name: name} }

func (m IfName) String() string {
	key := "iifname"
	if m.Out {
		key = "oifname"
	}
	return key + neg(m.Not) + strconv.Quote(m.Name)
}

// Addr matches the source (or destination) address against a prefix.
type Addr struct {
	Dst    bool
	Prefix netip.Prefix
	Not    bool
}

// SrcIP matches a source address in p.
func SrcIP(p netip.Prefix) Addr { return Addr{Prefix: p} }

// DstIP matches a destination address in p.
func DstIP(p netip.Prefix) Addr { return Addr{Dst: true, Prefix: p} }

func (m Addr) String() string {
	p := m.Prefix.Masked()
	s := p.String()
	if p.IsSingleIP() {
		s = p.Addr().String()
	}
	return familyOf(m.Prefix.Addr()).String() + " " + dir(m.Dst) + neg(m.Not) + s
}

// AddrSet matches the source (or destination) address against a named set
// of the table.
type AddrSet struct {
	Dst bool
	Set string
	Not bool
}

// SrcInSet matches a source address that is in the named set.
func SrcInSet(set string) AddrSet { return AddrSet{Set: set} }

// DstInSet matches a destination address that is in the named set.
func DstInSet(set string) AddrSet { return AddrSet{Dst: true, Set: set} }

func (m AddrSet) String() string { return m.render(IPv4) }

func (m AddrSet) render(f Family) string {
	if f == 0 {
		f = IPv4
	}
	return f.String() + " " + dir(m.Dst) + neg(m.Not) + "@" + m.Set
}

// IP protocol numbers.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// Proto matches the transport protocol (meta l4proto), IPv4 or IPv6.
type Proto uint8

// TCP, UDP and ICMP match those protocols.
const (
	TCP    = Proto(ProtoTCP)
	UDP    = Proto(ProtoUDP)
	ICMP   = Proto(ProtoICMP)
	ICMPv6 = Proto(ProtoICMPv6)
)

func (m Proto) String() string { return "meta l4proto " + protoName(uint8(m)) }

func protoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}

// Port matches the destination (or source) port in [From, To]. The rule
// must match TCP or UDP before it.
type Port struct {
	Src      bool
	From, To uint16
}

// DPort matches one destination port.
func DPort(p uint16) Port { return Port{From: p, To: p} }

// DPortRange matches destination ports from..to, inclusive.
func DPortRange(from, to uint16) Port { return Port{From: from, To: to} }

func (m Port) String() string {
	key := "th dport "
	if m.Src {
		key = "th sport "
	}
	if m.From == m.To {
		return key + strconv.Itoa(int(m.From))
	}
	return key + strconv.Itoa(int(m.From)) + "-" + strconv.Itoa(int(m.To))
}

// ICMPType matches an ICMP (IPv4) type and, when Code >= 0, code; the rule
// must match ICMP before it. AWS security groups and network ACLs filter
// ICMP this way.
type ICMPType struct {
	Type uint8
	Code int // -1: any code
}

func (m ICMPType) String() string {
	s := "icmp type " + strconv.Itoa(int(m.Type))
	if m.Code >= 0 {
		s += " icmp code " + strconv.Itoa(m.Code)
	}
	return s
}

// CTState is a set of conntrack states; a packet matches when its state is
// one of them.
type CTState uint32

// Conntrack states, with the kernel's bit values.
const (
	Invalid     CTState = 1
	Established CTState = 2
	Related     CTState = 4
	New         CTState = 8
	Untracked   CTState = 64
)

func (m CTState) String() string {
	var names []string
	for _, s := range []struct {
		bit  CTState
		name string
	}{{Invalid, "invalid"}, {Established, "established"}, {Related, "related"}, {New, "new"}, {Untracked, "untracked"}} {
		if m&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	return "ct state " + strings.Join(names, ",")
}

// VerdictKind is the kind of a Verdict.
type VerdictKind uint8

// Verdict kinds.
const (
	VerdictAccept VerdictKind = iota + 1
	VerdictDrop
	VerdictJump
	VerdictGoto
	VerdictReturn
)

// Verdict ends (accept, drop) or redirects (jump, goto, return) the
// evaluation.
type Verdict struct {
	Kind  VerdictKind
	Chain string // jump and goto
}

// Accept, Drop, Jump, Goto and Return build verdicts.
func Accept() Verdict            { return Verdict{Kind: VerdictAccept} }
func Drop() Verdict              { return Verdict{Kind: VerdictDrop} }
func Jump(chain string) Verdict  { return Verdict{Kind: VerdictJump, Chain: chain} }
func Goto(chain string) Verdict  { return Verdict{Kind: VerdictGoto, Chain: chain} }
func Return() Verdict            { return Verdict{Kind: VerdictReturn} }
func (v Verdict) String() string { return v.render() }

func (v Verdict) render() string {
	switch v.Kind {
	case VerdictAccept:
		return "accept"
	case VerdictDrop:
		return "drop"
	case VerdictJump:
		return "jump " + v.Chain
	case VerdictGoto:
		return "goto " + v.Chain
	case VerdictReturn:
		return "return"
	}
	return fmt.Sprintf("verdict(%d)", v.Kind)
}

// SNAT rewrites the source address (and port, when Port is not 0); only in
// a nat chain at postrouting or input.
type SNAT struct {
	To   netip.Addr
	Port uint16
}

// DNAT rewrites the destination address (and port, when Port is not 0);
// only in a nat chain at prerouting or output.
type DNAT struct {
	To   netip.Addr
	Port uint16
}

// Masquerade rewrites the source to the address of the output interface;
// only in a nat chain at postrouting.
type Masquerade struct{}

func (a SNAT) String() string       { return natString("snat", a.To, a.Port) }
func (a DNAT) String() string       { return natString("dnat", a.To, a.Port) }
func (a Masquerade) String() string { return "masquerade" }

func natString(kind string, to netip.Addr, port uint16) string {
	if !to.IsValid() {
		return kind + " to <invalid>"
	}
	s := to.String()
	if port != 0 {
		s = netip.AddrPortFrom(to, port).String()
	}
	return kind + " " + familyOf(to).String() + " to " + s
}

func neg(not bool) string {
	if not {
		return " != "
	}
	return " "
}

func dir(dst bool) string {
	if dst {
		return "daddr"
	}
	return "saddr"
}
