package nft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// compiled is a Table translated to google/nftables objects, ready to be
// queued on a connection.
type compiled struct {
	table  *nftables.Table
	sets   []compiledSet
	chains []*nftables.Chain
	rules  []*nftables.Rule
}

type compiledSet struct {
	set   *nftables.Set
	elems []nftables.SetElement
}

// ruleBuilder accumulates the expressions of one rule and the dependencies
// already emitted (address family, transport protocol), so that a matcher
// needing them adds them once, like nft does.
type ruleBuilder struct {
	chain  *Chain
	sets   map[string]Family
	setIDs map[string]uint32
	chains map[string]*Chain
	fam    Family // 0 while no matcher fixed it
	proto  int    // -1 while no matcher fixed it
	exprs  []expr.Any
}

const ifNameSize = 16 // IFNAMSIZ

func compile(t *Table) (*compiled, error) {
	if t == nil {
		return nil, fmt.Errorf("nft: nil table")
	}
	if err := checkName("table", t.TableName()); err != nil {
		return nil, err
	}
	c := &compiled{table: &nftables.Table{Name: t.TableName(), Family: nftables.TableFamilyINet}}

	fams := map[string]Family{}
	ids := map[string]uint32{}
	for i, s := range t.Sets {
		if err := checkName("set", s.Name); err != nil {
			return nil, err
		}
		if _, dup := fams[s.Name]; dup {
			return nil, fmt.Errorf("nft: set %q defined twice", s.Name)
		}
		ranges, err := setRanges(s)
		if err != nil {
			return nil, err
		}
		keyType := nftables.TypeIPAddr
		if s.Family == IPv6 {
			keyType = nftables.TypeIP6Addr
		}
		// Set IDs only need to be unique within one batch; setting them here
		// keeps google/nftables from using its process-wide counter.
		id := uint32(i + 1)
		ns := &nftables.Set{Table: c.table, Name: s.Name, ID: id, KeyType: keyType, Interval: true}
		var elems []nftables.SetElement
		for _, r := range ranges {
			elems = append(elems, nftables.SetElement{Key: r.from.AsSlice()})
			if next := r.to.Next(); next.IsValid() {
				elems = append(elems, nftables.SetElement{Key: next.AsSlice(), IntervalEnd: true})
			}
		}
		c.sets = append(c.sets, compiledSet{set: ns, elems: elems})
		fams[s.Name] = s.Family
		ids[s.Name] = id
	}

	chains := map[string]*Chain{}
	for i := range t.Chains {
		ch := &t.Chains[i]
		if err := checkName("chain", ch.Name); err != nil {
			return nil, err
		}
		if _, dup := chains[ch.Name]; dup {
			return nil, fmt.Errorf("nft: chain %q defined twice", ch.Name)
		}
		chains[ch.Name] = ch
		nc := &nftables.Chain{Name: ch.Name, Table: c.table}
		if ch.Hook != NoHook {
			hook, err := hookOf(ch.Hook)
			if err != nil {
				return nil, fmt.Errorf("nft: chain %q: %w", ch.Name, err)
			}
			switch ch.chainType() {
			case Filter:
				nc.Type = nftables.ChainTypeFilter
			case NAT:
				nc.Type = nftables.ChainTypeNAT
				if ch.Hook == Forward {
					return nil, fmt.Errorf("nft: chain %q: a nat chain cannot hook forward", ch.Name)
				}
			default:
				return nil, fmt.Errorf("nft: chain %q: unknown type %q", ch.Name, ch.Type)
			}
			prio := nftables.ChainPriority(ch.Priority)
			nc.Hooknum, nc.Priority = hook, &prio
			pol := nftables.ChainPolicyAccept
			switch ch.Policy {
			case PolicyAccept:
			case PolicyDrop:
				pol = nftables.ChainPolicyDrop
			default:
				return nil, fmt.Errorf("nft: chain %q: unknown policy %q", ch.Name, ch.Policy)
			}
			nc.Policy = &pol
		} else if ch.Type != "" || ch.Priority != 0 || ch.Policy != PolicyAccept {
			return nil, fmt.Errorf("nft: chain %q: type, priority and policy need a hook", ch.Name)
		}
		c.chains = append(c.chains, nc)
	}

	for i, ch := range t.Chains {
		seen := map[string]bool{}
		for j, r := range ch.Rules {
			if r.ID != "" {
				if len(r.ID) > 128 {
					return nil, fmt.Errorf("nft: chain %q rule %d: ID longer than 128 bytes", ch.Name, j)
				}
				if seen[r.ID] {
					return nil, fmt.Errorf("nft: chain %q: rule ID %q used twice", ch.Name, r.ID)
				}
				seen[r.ID] = true
			} else if r.Counter {
				return nil, fmt.Errorf("nft: chain %q rule %d: a counted rule needs an ID to read its counter by", ch.Name, j)
			}
			b := &ruleBuilder{chain: &t.Chains[i], sets: fams, setIDs: ids, chains: chains, proto: -1}
			exprs, err := b.build(r)
			if err != nil {
				name := r.ID
				if name == "" {
					name = fmt.Sprint(j)
				}
				return nil, fmt.Errorf("nft: chain %q rule %s: %w", ch.Name, name, err)
			}
			nr := &nftables.Rule{Table: c.table, Chain: c.chains[i], Exprs: exprs}
			if r.ID != "" {
				nr.UserData = appendComment(nil, r.ID)
			}
			c.rules = append(c.rules, nr)
		}
	}
	return c, nil
}

func hookOf(h Hook) (*nftables.ChainHook, error) {
	switch h {
	case Prerouting:
		return nftables.ChainHookPrerouting, nil
	case Input:
		return nftables.ChainHookInput, nil
	case Forward:
		return nftables.ChainHookForward, nil
	case Output:
		return nftables.ChainHookOutput, nil
	case Postrouting:
		return nftables.ChainHookPostrouting, nil
	}
	return nil, fmt.Errorf("unknown hook %q", h)
}

func (b *ruleBuilder) build(r Rule) ([]expr.Any, error) {
	for _, m := range r.Match {
		if m == nil {
			return nil, fmt.Errorf("nil matcher")
		}
		if err := m.compile(b); err != nil {
			return nil, err
		}
	}
	if r.Counter {
		b.exprs = append(b.exprs, &expr.Counter{})
	}
	if r.Action != nil {
		if err := r.Action.compileAction(b); err != nil {
			return nil, err
		}
	}
	return b.exprs, nil
}

// needFamily emits "meta nfproto ipv4|ipv6" the first time a matcher needs
// an address family, and refuses a rule that needs both.
func (b *ruleBuilder) needFamily(f Family) error {
	if f != IPv4 && f != IPv6 {
		return fmt.Errorf("unknown address family %d", f)
	}
	if b.fam == f {
		return nil
	}
	if b.fam != 0 {
		return fmt.Errorf("rule mixes %s and %s addresses", b.fam, f)
	}
	b.fam = f
	proto := byte(unix.NFPROTO_IPV4)
	if f == IPv6 {
		proto = unix.NFPROTO_IPV6
	}
	b.exprs = append(b.exprs,
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}})
	return nil
}

func (m IfName) compile(b *ruleBuilder) error {
	name, wildcard := m.Name, false
	if n := len(name); n > 0 && name[n-1] == '*' {
		name, wildcard = name[:n-1], true
	}
	if name == "" && !wildcard || len(name) >= ifNameSize || bytes.IndexByte([]byte(name), 0) >= 0 {
		return fmt.Errorf("bad interface name %q", m.Name)
	}
	key := expr.MetaKeyIIFNAME
	if m.Out {
		key = expr.MetaKeyOIFNAME
	}
	var data []byte
	if wildcard {
		if name == "" { // "*" matches every interface
			if m.Not {
				return fmt.Errorf("interface name != \"*\" matches nothing")
			}
			return nil
		}
		data = []byte(name)
	} else {
		data = make([]byte, ifNameSize)
		copy(data, name)
	}
	b.exprs = append(b.exprs,
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: cmpOp(m.Not), Register: 1, Data: data})
	return nil
}

func cmpOp(not bool) expr.CmpOp {
	if not {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

// addrOffset is where the source or destination address sits in the
// network header, and its length.
func addrOffset(f Family, dst bool) (off, n uint32) {
	if f == IPv4 {
		if dst {
			return 16, 4
		}
		return 12, 4
	}
	if dst {
		return 24, 16
	}
	return 8, 16
}

func (m Addr) compile(b *ruleBuilder) error {
	if !m.Prefix.IsValid() {
		return fmt.Errorf("invalid prefix")
	}
	p := m.Prefix.Masked()
	f := familyOf(p.Addr())
	if p.Addr().Is4In6() {
		return fmt.Errorf("IPv4-mapped prefix %s: use the IPv4 form", p)
	}
	if err := b.needFamily(f); err != nil {
		return err
	}
	if p.Bits() == 0 {
		if m.Not {
			return fmt.Errorf("%s matches nothing", m)
		}
		return nil // the family check is the whole match
	}
	off, n := addrOffset(f, m.Dst)
	b.exprs = append(b.exprs, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n})
	if p.Bits() < p.Addr().BitLen() {
		b.exprs = append(b.exprs, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n,
			Mask: prefixMask(p.Bits(), int(n)), Xor: make([]byte, n)})
	}
	b.exprs = append(b.exprs, &expr.Cmp{Op: cmpOp(m.Not), Register: 1, Data: p.Addr().AsSlice()})
	return nil
}

func prefixMask(bits, n int) []byte {
	m := make([]byte, n)
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

func (m AddrSet) compile(b *ruleBuilder) error {
	f, ok := b.sets[m.Set]
	if !ok {
		return fmt.Errorf("unknown set %q", m.Set)
	}
	if err := b.needFamily(f); err != nil {
		return err
	}
	off, n := addrOffset(f, m.Dst)
	b.exprs = append(b.exprs,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Lookup{SourceRegister: 1, SetName: m.Set, SetID: b.setIDs[m.Set], Invert: m.Not})
	return nil
}

func (m Proto) compile(b *ruleBuilder) error {
	if b.proto >= 0 {
		if b.proto == int(m) {
			return nil
		}
		return fmt.Errorf("rule matches two protocols (%s and %s)", protoName(uint8(b.proto)), protoName(uint8(m)))
	}
	switch uint8(m) {
	case ProtoICMP:
		if b.fam == IPv6 {
			return fmt.Errorf("icmp in an IPv6 rule (use ICMPv6)")
		}
	case ProtoICMPv6:
		if b.fam == IPv4 {
			return fmt.Errorf("ipv6-icmp in an IPv4 rule (use ICMP)")
		}
	}
	b.proto = int(m)
	b.exprs = append(b.exprs,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(m)}})
	return nil
}

func (m Port) compile(b *ruleBuilder) error {
	switch b.proto {
	case int(ProtoTCP), int(ProtoUDP), unix.IPPROTO_SCTP, unix.IPPROTO_UDPLITE:
	default:
		return fmt.Errorf("%s needs a TCP or UDP match before it", m)
	}
	if m.From > m.To {
		return fmt.Errorf("port range %d-%d is reversed", m.From, m.To)
	}
	if m.From == 0 && m.To == 65535 {
		return nil // every port
	}
	off := uint32(2)
	if m.Src {
		off = 0
	}
	b.exprs = append(b.exprs, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2})
	if m.From == m.To {
		b.exprs = append(b.exprs, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(m.From)})
	} else {
		b.exprs = append(b.exprs, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: be16(m.From), ToData: be16(m.To)})
	}
	return nil
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func (m ICMPType) compile(b *ruleBuilder) error {
	if b.proto != int(ProtoICMP) {
		return fmt.Errorf("%s needs an ICMP match before it", m)
	}
	if m.Code > 255 || m.Code < -1 {
		return fmt.Errorf("icmp code %d out of range", m.Code)
	}
	b.exprs = append(b.exprs,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{m.Type}})
	if m.Code >= 0 {
		b.exprs = append(b.exprs,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 1, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(m.Code)}})
	}
	return nil
}

func (m CTState) compile(b *ruleBuilder) error {
	if m == 0 || m&^(Invalid|Established|Related|New|Untracked) != 0 {
		return fmt.Errorf("bad conntrack state set %#x", uint32(m))
	}
	// The state is a host-endian bit field; "ct state a,b" is
	// "state & (a|b) != 0".
	b.exprs = append(b.exprs,
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binary.NativeEndian.AppendUint32(nil, uint32(m)), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)})
	return nil
}

func (v Verdict) compileAction(b *ruleBuilder) error {
	var k expr.VerdictKind
	switch v.Kind {
	case VerdictAccept:
		k = expr.VerdictAccept
	case VerdictDrop:
		k = expr.VerdictDrop
	case VerdictReturn:
		k = expr.VerdictReturn
	case VerdictJump, VerdictGoto:
		k = expr.VerdictJump
		if v.Kind == VerdictGoto {
			k = expr.VerdictGoto
		}
		target, ok := b.chains[v.Chain]
		if !ok {
			return fmt.Errorf("%s: no such chain", v)
		}
		if target.Hook != NoHook {
			return fmt.Errorf("%s: cannot jump to a base chain", v)
		}
		if target == b.chain {
			return fmt.Errorf("%s: a chain cannot jump to itself", v)
		}
	default:
		return fmt.Errorf("unknown verdict kind %d", v.Kind)
	}
	if v.Kind != VerdictJump && v.Kind != VerdictGoto && v.Chain != "" {
		return fmt.Errorf("%s names a chain", v)
	}
	b.exprs = append(b.exprs, &expr.Verdict{Kind: k, Chain: v.Chain})
	return nil
}

func (a SNAT) compileAction(b *ruleBuilder) error {
	return b.nat(expr.NATTypeSourceNAT, a.To, a.Port, Postrouting, Input)
}

func (a DNAT) compileAction(b *ruleBuilder) error {
	return b.nat(expr.NATTypeDestNAT, a.To, a.Port, Prerouting, Output)
}

func (b *ruleBuilder) natChain(hooks ...Hook) error {
	if b.chain.Hook == NoHook || b.chain.chainType() != NAT || !slices.Contains(hooks, b.chain.Hook) {
		return fmt.Errorf("only allowed in a nat chain hooked at %v", hooks)
	}
	return nil
}

func (b *ruleBuilder) nat(typ expr.NATType, to netip.Addr, port uint16, hooks ...Hook) error {
	if err := b.natChain(hooks...); err != nil {
		return err
	}
	if !to.IsValid() || to.Is4In6() {
		return fmt.Errorf("bad NAT address %v", to)
	}
	f := familyOf(to)
	if err := b.needFamily(f); err != nil {
		return err
	}
	nfproto := uint32(unix.NFPROTO_IPV4)
	if f == IPv6 {
		nfproto = unix.NFPROTO_IPV6
	}
	n := &expr.NAT{Type: typ, Family: nfproto, RegAddrMin: 1}
	b.exprs = append(b.exprs, &expr.Immediate{Register: 1, Data: to.AsSlice()})
	if port != 0 {
		if b.proto != int(ProtoTCP) && b.proto != int(ProtoUDP) {
			return fmt.Errorf("NAT to a port needs a TCP or UDP match before it")
		}
		b.exprs = append(b.exprs, &expr.Immediate{Register: 2, Data: be16(port)})
		n.RegProtoMin = 2
	}
	b.exprs = append(b.exprs, n)
	return nil
}

func (a Masquerade) compileAction(b *ruleBuilder) error {
	if err := b.natChain(Postrouting); err != nil {
		return err
	}
	b.exprs = append(b.exprs, &expr.Masq{})
	return nil
}

// addrRange is an inclusive range of addresses of one family.
type addrRange struct{ from, to netip.Addr }

// setRanges turns a set's prefixes into sorted, disjoint, non-adjacent
// ranges: the form an interval set is loaded in (the kernel refuses
// overlapping intervals).
func setRanges(s Set) ([]addrRange, error) {
	if s.Family != IPv4 && s.Family != IPv6 {
		return nil, fmt.Errorf("nft: set %q: family must be IPv4 or IPv6", s.Name)
	}
	var rs []addrRange
	for _, p := range s.Elements {
		if !p.IsValid() || p.Addr().Is4In6() {
			return nil, fmt.Errorf("nft: set %q: invalid element %v", s.Name, p)
		}
		if familyOf(p.Addr()) != s.Family {
			return nil, fmt.Errorf("nft: set %q: %s is not an %s address", s.Name, p, s.Family)
		}
		p = p.Masked()
		rs = append(rs, addrRange{p.Addr(), lastAddr(p)})
	}
	slices.SortFunc(rs, func(a, b addrRange) int { return a.from.Compare(b.from) })
	var out []addrRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next := last.to.Next()
			if !next.IsValid() || r.from.Compare(next) <= 0 { // overlaps or touches
				if r.to.Compare(last.to) > 0 {
					last.to = r.to
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(a)
	return last
}

// rangesToPrefixes splits ranges into the fewest CIDR prefixes, for display.
func rangesToPrefixes(rs []addrRange) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range rs {
		from, to := r.from, r.to
		for {
			bits := from.BitLen()
			// Grow the prefix while it starts at from and stays within to.
			best := netip.PrefixFrom(from, bits)
			for l := bits - 1; l >= 0; l-- {
				p := netip.PrefixFrom(from, l)
				if p.Masked().Addr() != from || lastAddr(p).Compare(to) > 0 {
					break
				}
				best = p
			}
			out = append(out, best)
			end := lastAddr(best)
			if end.Compare(to) >= 0 {
				break
			}
			from = end.Next()
		}
	}
	return out
}

// ruleCommentType is libnftnl's NFTNL_UDATA_RULE_COMMENT: nft prints the
// value as the rule's comment.
const ruleCommentType = 0

func appendComment(ud []byte, s string) []byte {
	ud = append(ud, ruleCommentType, byte(len(s)+1))
	ud = append(ud, s...)
	return append(ud, 0)
}

// comment reads the comment out of a rule's user data (type-length-value
// records), or "" when there is none or the data is malformed.
func comment(ud []byte) string {
	for len(ud) >= 2 {
		typ, n := ud[0], int(ud[1])
		if len(ud) < 2+n {
			return ""
		}
		if typ == ruleCommentType {
			return string(bytes.TrimRight(ud[2:2+n], "\x00"))
		}
		ud = ud[2+n:]
	}
	return ""
}
