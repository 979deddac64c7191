package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

var pfx = netip.MustParsePrefix

func ifname(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

// ruleExprs compiles a one-rule table and returns the rule's expressions.
func ruleExprs(t *testing.T, ch Chain, sets ...Set) []expr.Any {
	t.Helper()
	c, err := compile(&Table{Sets: sets, Chains: []Chain{ch}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.rules) != 1 {
		t.Fatalf("%d rules", len(c.rules))
	}
	return c.rules[0].Exprs
}

func filterChain(r Rule) Chain { return Chain{Name: "f", Hook: Forward, Rules: []Rule{r}} }

var (
	nfproto4 = []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}}}
	nfproto6 = []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV6}}}
	tcp      = []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{6}}}
)

func cat(parts ...[]expr.Any) []expr.Any { return slices.Concat(parts...) }

func TestRuleExpressions(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		sets []Set
		want []expr.Any
	}{{
		name: "security group rule",
		rule: Rule{ID: "r", Match: []Match{IIFName("ea"), SrcIP(pfx("10.0.1.0/24")), TCP, DPort(8080), Established | Related}, Counter: true, Action: Accept()},
		want: cat(
			[]expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname("ea")}},
			nfproto4,
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 255, 0}, Xor: []byte{0, 0, 0, 0}},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 0, 1, 0}},
			},
			tcp,
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0x1f, 0x90}},
				&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binary.NativeEndian.AppendUint32(nil, 6), Xor: make([]byte, 4)},
				&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
				&expr.Counter{},
				&expr.Verdict{Kind: expr.VerdictAccept},
			}),
	}, {
		name: "group reference, negated, IPv6, port range, wildcard interface",
		rule: Rule{Match: []Match{OIFName("eni-*"), AddrSet{Set: "sg-1", Not: true}, TCP, DPortRange(1000, 2000)}, Action: Drop()},
		sets: []Set{{Name: "sg-1", Family: IPv6}},
		want: cat(
			[]expr.Any{&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eni-")}},
			nfproto6,
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16},
				&expr.Lookup{SourceRegister: 1, SetName: "sg-1", SetID: 1, Invert: true},
			},
			tcp,
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
				&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{0x03, 0xe8}, ToData: []byte{0x07, 0xd0}},
				&expr.Verdict{Kind: expr.VerdictDrop},
			}),
	}, {
		name: "host address, any address, all ports, icmp echo",
		rule: Rule{Match: []Match{DstIP(pfx("10.0.2.20/32")), SrcIP(pfx("0.0.0.0/0")), ICMP, ICMPType{Type: 8, Code: 0}, IfName{Name: "igw", Not: true}}},
		want: cat(nfproto4,
			[]expr.Any{
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 0, 2, 20}},
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{1}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{8}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 1, Len: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0}},
				&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname("igw")},
			}),
	}, {
		name: "every port is no match at all; jump",
		rule: Rule{Match: []Match{UDP, DPortRange(0, 65535)}, Action: Jump("sub")},
		want: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{17}},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: "sub"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := compile(&Table{Sets: tc.sets, Chains: []Chain{filterChain(tc.rule), {Name: "sub"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.rules[0].Exprs; !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("exprs:\n got %s\nwant %s", dump(got), dump(tc.want))
			}
		})
	}
}

func dump(es []expr.Any) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %T %+v", e, e)
	}
	return b.String()
}

func TestNATExpressions(t *testing.T) {
	snat := ruleExprs(t, Chain{Name: "post", Hook: Postrouting, Type: NAT, Priority: PrioritySrcNAT, Rules: []Rule{
		{Match: []Match{SrcIP(pfx("10.0.2.20/32"))}, Action: SNAT{To: netip.MustParseAddr("198.18.0.50")}},
	}})
	want := cat(nfproto4, []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 0, 2, 20}},
		&expr.Immediate{Register: 1, Data: []byte{198, 18, 0, 50}},
		&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	})
	if !reflect.DeepEqual(snat, want) {
		t.Fatalf("snat:%s\nwant%s", dump(snat), dump(want))
	}
	// DNAT with a port, and no address match before it: the family check
	// comes from the NAT address.
	dnat := ruleExprs(t, Chain{Name: "pre", Hook: Prerouting, Type: NAT, Priority: PriorityDstNAT, Rules: []Rule{
		{Match: []Match{TCP, DPort(80)}, Action: DNAT{To: netip.MustParseAddr("10.0.2.20"), Port: 8080}},
	}})
	want = cat(tcp, []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0, 80}},
	}, nfproto4, []expr.Any{
		&expr.Immediate{Register: 1, Data: []byte{10, 0, 2, 20}},
		&expr.Immediate{Register: 2, Data: []byte{0x1f, 0x90}},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2},
	})
	if !reflect.DeepEqual(dnat, want) {
		t.Fatalf("dnat:%s\nwant%s", dump(dnat), dump(want))
	}
	masq := ruleExprs(t, Chain{Name: "post", Hook: Postrouting, Type: NAT, Rules: []Rule{{Match: []Match{OIFName("igw")}, Action: Masquerade{}}}})
	if _, ok := masq[len(masq)-1].(*expr.Masq); !ok {
		t.Fatalf("masquerade: %s", dump(masq))
	}
}

func TestCompiledObjects(t *testing.T) {
	c, err := compile(&Table{
		Sets: []Set{
			{Name: "a", Family: IPv4, Elements: []netip.Prefix{pfx("10.0.1.10/32"), pfx("255.255.255.0/24")}},
			{Name: "b", Family: IPv6},
		},
		Chains: []Chain{
			{Name: "fwd", Hook: Forward, Priority: 5, Policy: PolicyDrop},
			{Name: "nat", Hook: Postrouting, Type: NAT, Priority: PrioritySrcNAT},
			{Name: "sub"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.table.Name != DefaultTable || c.table.Family != nftables.TableFamilyINet {
		t.Fatalf("table %+v", c.table)
	}
	fwd := c.chains[0]
	if *fwd.Hooknum != *nftables.ChainHookForward || *fwd.Priority != 5 || *fwd.Policy != nftables.ChainPolicyDrop || fwd.Type != nftables.ChainTypeFilter {
		t.Fatalf("fwd chain %+v", fwd)
	}
	if nat := c.chains[1]; nat.Type != nftables.ChainTypeNAT || *nat.Policy != nftables.ChainPolicyAccept {
		t.Fatalf("nat chain %+v", nat)
	}
	if sub := c.chains[2]; sub.Hooknum != nil || sub.Policy != nil {
		t.Fatalf("regular chain %+v", sub)
	}
	a := c.sets[0]
	if a.set.ID != 1 || c.sets[1].set.ID != 2 || !a.set.Interval || a.set.KeyType != nftables.TypeIPAddr || c.sets[1].set.KeyType != nftables.TypeIP6Addr {
		t.Fatalf("sets %+v %+v", a.set, c.sets[1].set)
	}
	// [10.0.1.10, 10.0.1.11) and [255.255.255.0, end of space): no end
	// element for the range that reaches the last address.
	want := []nftables.SetElement{
		{Key: []byte{10, 0, 1, 10}},
		{Key: []byte{10, 0, 1, 11}, IntervalEnd: true},
		{Key: []byte{255, 255, 255, 0}},
	}
	if !reflect.DeepEqual(a.elems, want) {
		t.Fatalf("elements %+v", a.elems)
	}
}

func TestSetRanges(t *testing.T) {
	rs, err := setRanges(Set{Name: "s", Family: IPv4, Elements: []netip.Prefix{
		pfx("10.3.0.0/16"), pfx("10.1.0.0/16"), pfx("10.1.255.7/32"), pfx("10.2.0.0/16"), // overlap, adjacency
		pfx("10.9.0.1/32"), pfx("10.9.0.5/32"), pfx("10.0.1.10/24"), // host bits are masked
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := rangesToPrefixes(rs)
	want := []netip.Prefix{pfx("10.0.1.0/24"), pfx("10.1.0.0/16"), pfx("10.2.0.0/15"), pfx("10.9.0.1/32"), pfx("10.9.0.5/32")}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if len(rs) != 4 {
		t.Fatalf("ranges %v: want 10.1-10.3 merged", rs)
	}
	all, _ := setRanges(Set{Name: "s", Family: IPv4, Elements: []netip.Prefix{pfx("0.0.0.0/0"), pfx("10.0.0.0/8")}})
	if len(all) != 1 || all[0].to != netip.MustParseAddr("255.255.255.255") {
		t.Fatalf("whole space: %v", all)
	}
	for _, bad := range []Set{
		{Name: "s", Family: IPv4, Elements: []netip.Prefix{pfx("fd00::/8")}},
		{Name: "s", Family: IPv6, Elements: []netip.Prefix{pfx("10.0.0.0/8")}},
		{Name: "s", Family: 0},
		{Name: "s", Family: IPv4, Elements: []netip.Prefix{{}}},
	} {
		if _, err := setRanges(bad); err == nil {
			t.Errorf("setRanges(%+v) accepted", bad)
		}
	}
}

func TestSplitElems(t *testing.T) {
	var prefixes []netip.Prefix
	for i := range 600 {
		prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}), 25))
	}
	prefixes = append(prefixes, pfx("255.0.0.0/8")) // open-ended last range
	c, err := compile(&Table{Sets: []Set{{Name: "big", Family: IPv4, Elements: prefixes}}})
	if err != nil {
		t.Fatal(err)
	}
	first, rest := splitElems(c.sets[0].elems)
	chunks := append([][]nftables.SetElement{first}, rest...)
	if len(chunks) != 3 {
		t.Fatalf("%d chunks", len(chunks))
	}
	total := 0
	for i, ch := range chunks {
		if ch[0].IntervalEnd {
			t.Fatalf("chunk %d starts with an end element", i)
		}
		total += len(ch)
	}
	if total != 601*2-1 || !reflect.DeepEqual(slices.Concat(chunks...), c.sets[0].elems) {
		t.Fatalf("chunks lose or reorder elements: %d", total)
	}
	if f, r := splitElems(nil); f != nil || r != nil {
		t.Fatal("empty set gave chunks")
	}
}

func TestValidate(t *testing.T) {
	fwd := func(rs ...Rule) Chain { return Chain{Name: "f", Hook: Forward, Rules: rs} }
	post := func(rs ...Rule) Chain { return Chain{Name: "p", Hook: Postrouting, Type: NAT, Rules: rs} }
	a := netip.MustParseAddr("198.18.0.5")
	bad := map[string]*Table{
		"unknown set":              {Chains: []Chain{fwd(Rule{Match: []Match{SrcInSet("nope")}})}},
		"unknown chain":            {Chains: []Chain{fwd(Rule{Action: Jump("nope")})}},
		"jump to base chain":       {Chains: []Chain{fwd(Rule{Action: Jump("g")}), {Name: "g", Hook: Input}}},
		"jump to itself":           {Chains: []Chain{fwd(), {Name: "s", Rules: []Rule{{Action: Goto("s")}}}}},
		"accept with a chain":      {Chains: []Chain{fwd(Rule{Action: Verdict{Kind: VerdictAccept, Chain: "x"}})}},
		"verdict kind":             {Chains: []Chain{fwd(Rule{Action: Verdict{}})}},
		"mixed families":           {Chains: []Chain{fwd(Rule{Match: []Match{SrcIP(pfx("10.0.0.0/8")), DstIP(pfx("fd00::/8"))}})}},
		"port without protocol":    {Chains: []Chain{fwd(Rule{Match: []Match{DPort(80)}})}},
		"port with icmp":           {Chains: []Chain{fwd(Rule{Match: []Match{ICMP, DPort(80)}})}},
		"icmp type without icmp":   {Chains: []Chain{fwd(Rule{Match: []Match{TCP, ICMPType{Type: 8, Code: -1}}})}},
		"icmp code range":          {Chains: []Chain{fwd(Rule{Match: []Match{ICMP, ICMPType{Type: 8, Code: 300}}})}},
		"icmp in IPv6":             {Chains: []Chain{fwd(Rule{Match: []Match{SrcIP(pfx("fd00::/8")), ICMP}})}},
		"two protocols":            {Chains: []Chain{fwd(Rule{Match: []Match{TCP, UDP}})}},
		"reversed ports":           {Chains: []Chain{fwd(Rule{Match: []Match{TCP, DPortRange(90, 80)}})}},
		"empty ct state":           {Chains: []Chain{fwd(Rule{Match: []Match{CTState(0)}})}},
		"unknown ct bit":           {Chains: []Chain{fwd(Rule{Match: []Match{CTState(1 << 20)}})}},
		"long interface name":      {Chains: []Chain{fwd(Rule{Match: []Match{IIFName("sixteen-chars-xx")}})}},
		"empty interface name":     {Chains: []Chain{fwd(Rule{Match: []Match{IIFName("")}})}},
		"not any interface":        {Chains: []Chain{fwd(Rule{Match: []Match{IfName{Name: "*", Not: true}}})}},
		"not any address":          {Chains: []Chain{fwd(Rule{Match: []Match{Addr{Prefix: pfx("0.0.0.0/0"), Not: true}}})}},
		"invalid prefix":           {Chains: []Chain{fwd(Rule{Match: []Match{SrcIP(netip.Prefix{})}})}},
		"nil matcher":              {Chains: []Chain{fwd(Rule{Match: []Match{nil}})}},
		"snat in filter chain":     {Chains: []Chain{fwd(Rule{Action: SNAT{To: a}})}},
		"dnat at postrouting":      {Chains: []Chain{post(Rule{Action: DNAT{To: a}})}},
		"masquerade at prerouting": {Chains: []Chain{{Name: "p", Hook: Prerouting, Type: NAT, Rules: []Rule{{Action: Masquerade{}}}}}},
		"nat in regular chain":     {Chains: []Chain{{Name: "s", Rules: []Rule{{Action: SNAT{To: a}}}}}},
		"nat port without proto":   {Chains: []Chain{post(Rule{Action: SNAT{To: a, Port: 1}})}},
		"nat invalid address":      {Chains: []Chain{post(Rule{Action: SNAT{}})}},
		"nat family mismatch":      {Chains: []Chain{post(Rule{Match: []Match{SrcIP(pfx("fd00::/8"))}, Action: SNAT{To: a}})}},
		"nat chain on forward":     {Chains: []Chain{{Name: "n", Hook: Forward, Type: NAT}}},
		"unknown chain type":       {Chains: []Chain{{Name: "n", Hook: Forward, Type: "route66"}}},
		"unknown hook":             {Chains: []Chain{{Name: "n", Hook: "ingress"}}},
		"unknown policy":           {Chains: []Chain{{Name: "n", Hook: Input, Policy: "reject"}}},
		"policy on regular chain":  {Chains: []Chain{{Name: "n", Policy: PolicyDrop}}},
		"counter without ID":       {Chains: []Chain{fwd(Rule{Counter: true})}},
		"duplicate rule ID":        {Chains: []Chain{fwd(Rule{ID: "x"}, Rule{ID: "x"})}},
		"long rule ID":             {Chains: []Chain{fwd(Rule{ID: strings.Repeat("x", 129)})}},
		"duplicate chain":          {Chains: []Chain{fwd(), fwd()}},
		"duplicate set":            {Sets: []Set{{Name: "s", Family: IPv4}, {Name: "s", Family: IPv4}}},
		"set element family":       {Sets: []Set{{Name: "s", Family: IPv4, Elements: []netip.Prefix{pfx("fd00::/8")}}}},
		"bad chain name":           {Chains: []Chain{{Name: "a b"}}},
		"bad set name":             {Sets: []Set{{Name: "", Family: IPv4}}},
		"bad table name":           {Name: "x;y"},
	}
	for name, tbl := range bad {
		if err := tbl.Validate(); err == nil {
			t.Errorf("%s: accepted:\n%s", name, tbl)
		}
	}
	if err := (*Table)(nil).Validate(); err == nil {
		t.Error("nil table accepted")
	}
	good := &Table{
		Sets: []Set{{Name: "sg-web", Family: IPv4, Elements: []netip.Prefix{pfx("10.0.1.10/32")}}},
		Chains: []Chain{
			fwd(Rule{ID: "est", Match: []Match{Established | Related}, Counter: true, Action: Accept()},
				Rule{Match: []Match{OIFName("eni-1")}, Action: Jump("sg-1-in")}),
			{Name: "sg-1-in", Rules: []Rule{{Match: []Match{SrcInSet("sg-web"), TCP, DPort(443)}, Action: Accept()}, {Action: Drop()}}},
			post(Rule{Match: []Match{OIFName("igw"), SrcIP(pfx("10.0.0.0/16"))}, Action: Masquerade{}}),
		},
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestString(t *testing.T) {
	tbl := &Table{
		Sets: []Set{{Name: "clients", Family: IPv4, Elements: []netip.Prefix{pfx("10.0.1.10/32"), pfx("10.0.3.0/24")}}, {Name: "v6", Family: IPv6}},
		Chains: []Chain{
			{Name: "forward", Hook: Forward, Policy: PolicyDrop, Rules: []Rule{
				{ID: "est", Match: []Match{Established | Related}, Counter: true, Action: Accept()},
				{Match: []Match{IIFName("ea"), SrcInSet("clients"), AddrSet{Dst: true, Set: "v6", Not: true}, TCP, DPortRange(8000, 8080)}, Action: Jump("x")},
				{Match: []Match{ICMP, ICMPType{Type: 8, Code: -1}}, Action: Drop()},
			}},
			{Name: "x", Rules: []Rule{{Action: Return()}}},
			{Name: "nat", Hook: Postrouting, Type: NAT, Priority: 100, Rules: []Rule{
				{Match: []Match{OIFName("igw"), SrcIP(pfx("10.0.2.20/32"))}, Action: SNAT{To: netip.MustParseAddr("198.18.0.50")}},
				{Match: []Match{Addr{Prefix: pfx("10.0.0.0/16"), Not: true}}, Action: Masquerade{}},
			}},
		},
	}
	want := `table inet cloudbox {
	set clients {
		type ipv4_addr
		flags interval
		elements = { 10.0.1.10, 10.0.3.0/24 }
	}
	set v6 {
		type ipv6_addr
		flags interval
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related counter accept comment "est"
		iifname "ea" ip saddr @clients ip6 daddr != @v6 meta l4proto tcp th dport 8000-8080 jump x
		meta l4proto icmp icmp type 8 drop
	}
	chain x {
		return
	}
	chain nat {
		type nat hook postrouting priority 100; policy accept;
		oifname "igw" ip saddr 10.0.2.20 snat ip to 198.18.0.50
		ip saddr != 10.0.0.0/16 masquerade
	}
}
`
	if got := tbl.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := (Rule{Match: []Match{DstInSet("s")}, Action: DNAT{To: netip.MustParseAddr("10.0.2.20"), Port: 80}}).String(); got != "ip daddr @s dnat ip to 10.0.2.20:80" {
		t.Fatalf("rule string %q", got)
	}
}

func TestComment(t *testing.T) {
	ud := appendComment(nil, "sg-1/rule-2")
	if got := comment(ud); got != "sg-1/rule-2" {
		t.Fatalf("round trip: %q", got)
	}
	// After another record; truncated or empty data yields "".
	other := append([]byte{7, 2, 'x', 'y'}, ud...)
	if got := comment(other); got != "sg-1/rule-2" {
		t.Fatalf("after another record: %q", got)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 10, 'a'}, {3, 200}} {
		if got := comment(bad); got != "" {
			t.Fatalf("comment(%v) = %q", bad, got)
		}
	}
}

func TestClone(t *testing.T) {
	orig := &Table{
		Sets:   []Set{{Name: "s", Family: IPv4, Elements: []netip.Prefix{pfx("10.0.0.0/8")}}},
		Chains: []Chain{{Name: "c", Rules: []Rule{{Match: []Match{TCP}}}}},
	}
	c := orig.Clone()
	c.Sets[0].Elements[0] = pfx("192.168.0.0/16")
	c.Chains[0].Rules[0].Match[0] = UDP
	c.Chains[0].Name = "d"
	if orig.Sets[0].Elements[0] != pfx("10.0.0.0/8") || orig.Chains[0].Rules[0].Match[0] != TCP || orig.Chains[0].Name != "c" {
		t.Fatal("clone shares memory with the original")
	}
	if (*Table)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}
