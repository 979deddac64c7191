// Package nft describes an nftables table in plain Go values and installs it
// with one netlink transaction.
//
// cloudbox's VPC routers enforce security groups, network ACLs and NAT with
// nftables. The controllers compute the whole desired table of a router from
// the store and hand it to Apply, which replaces the kernel's table
// atomically: the old rules apply until the kernel commits the new ones, so a
// change never opens a gap. The model is deliberately small: only the
// matchers and statements those features need.
//
// Nothing here needs root except Apply, Delete and ReadCounters, which talk to
// the kernel through a *nftables.Conn the caller opened in the right network
// namespace.
package nft

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// DefaultTable is the name of cloudbox's table when Table.Name is empty.
const DefaultTable = "cloudbox"

// Table is one table of family inet (IPv4 and IPv6 together).
type Table struct {
	// Name of the table; empty means DefaultTable.
	Name   string
	Sets   []Set
	Chains []Chain
}

// TableName returns the table's name, DefaultTable when it is empty.
func (t *Table) TableName() string {
	if t.Name == "" {
		return DefaultTable
	}
	return t.Name
}

// Family is an address family.
type Family uint8

// Address families of sets and NAT targets.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ip"
	case IPv6:
		return "ip6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Set is a named set of addresses and prefixes, e.g. the private addresses
// of the members of one security group. Rules refer to it with AddrSet, so a
// change of membership is a change of elements, not of rules.
type Set struct {
	Name   string
	Family Family
	// Elements may overlap; they are merged into disjoint intervals. A plain
	// address is a /32 (or /128) prefix.
	Elements []netip.Prefix
}

// Hook attaches a base chain to a netfilter hook.
type Hook string

// Hooks of the inet family. NoHook marks a regular chain, reached only by
// jump or goto.
const (
	NoHook      Hook = ""
	Prerouting  Hook = "prerouting"
	Input       Hook = "input"
	Forward     Hook = "forward"
	Output      Hook = "output"
	Postrouting Hook = "postrouting"
)

// ChainType is the type of a base chain.
type ChainType string

// Chain types. Only nat chains may hold SNAT, DNAT and Masquerade.
const (
	Filter ChainType = "filter"
	NAT    ChainType = "nat"
)

// Policy is what a base chain does with a packet that no rule decided.
type Policy string

// Policies. The zero value accepts.
const (
	PolicyAccept Policy = ""
	PolicyDrop   Policy = "drop"
)

// Well-known priorities (as nft names them).
const (
	PriorityDstNAT = -100
	PriorityFilter = 0
	PrioritySrcNAT = 100
)

// Chain is a base chain (Hook set) or a regular chain (NoHook).
type Chain struct {
	Name string
	// Hook, Type, Priority and Policy apply to base chains only.
	Hook     Hook
	Type     ChainType // empty means Filter
	Priority int
	Policy   Policy
	Rules    []Rule
}

func (c *Chain) chainType() ChainType {
	if c.Type == "" {
		return Filter
	}
	return c.Type
}

// Rule is a conjunction of matchers, an optional counter and an optional
// action. A rule without action only counts (the packet goes on to the next
// rule).
type Rule struct {
	// ID names the rule within its chain. It is stored as the rule's nft
	// comment, and ReadCounters reports the rule's counter under it.
	// Optional, but required (and unique in the chain) when Counter is set.
	ID      string
	Match   []Match
	Counter bool
	Action  Action
}

// RuleID locates a rule for its counter.
type RuleID struct {
	Chain string
	ID    string
}

// Counter is a rule's packet and byte count since the table was applied.
type Counter struct {
	Packets uint64
	Bytes   uint64
}

// Validate reports the first problem that would make Apply fail or the
// table mean something else than it says: unknown chain or set references,
// mixed address families in a rule, ports without a protocol, NAT outside nat
// chains, bad names.
func (t *Table) Validate() error {
	_, err := compile(t)
	return err
}

func checkName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("nft: %s name is empty", kind)
	}
	if len(name) > 64 {
		return fmt.Errorf("nft: %s name %q is longer than 64 bytes", kind, name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("nft: %s name %q: only letters, digits, '-', '_' and '.' are allowed", kind, name)
		}
	}
	return nil
}

// String renders the table in nft's own syntax (what `nft list table inet
// cloudbox` would print, give or take spacing), for logs and debugging.
func (t *Table) String() string {
	var b strings.Builder
	fams := map[string]Family{}
	for _, s := range t.Sets {
		fams[s.Name] = s.Family
	}
	fmt.Fprintf(&b, "table inet %s {\n", t.TableName())
	for _, s := range t.Sets {
		typ := "ipv4_addr"
		if s.Family == IPv6 {
			typ = "ipv6_addr"
		}
		fmt.Fprintf(&b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", s.Name, typ)
		if ranges, err := setRanges(s); err == nil && len(ranges) > 0 {
			var els []string
			for _, p := range rangesToPrefixes(ranges) {
				if p.IsSingleIP() {
					els = append(els, p.Addr().String())
				} else {
					els = append(els, p.String())
				}
			}
			fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(els, ", "))
		}
		b.WriteString("\t}\n")
	}
	for _, c := range t.Chains {
		fmt.Fprintf(&b, "\tchain %s {\n", c.Name)
		if c.Hook != NoHook {
			pol := "accept"
			if c.Policy == PolicyDrop {
				pol = "drop"
			}
			fmt.Fprintf(&b, "\t\ttype %s hook %s priority %d; policy %s;\n", c.chainType(), c.Hook, c.Priority, pol)
		}
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "\t\t%s\n", r.render(fams))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// String renders the rule in nft syntax. A set's family is not known
// without its table, so sets print as IPv4 ("ip saddr @name"); Table.String
// prints them exactly.
func (r Rule) String() string { return r.render(nil) }

func (r Rule) render(fams map[string]Family) string {
	var parts []string
	for _, m := range r.Match {
		if s, ok := m.(AddrSet); ok {
			parts = append(parts, s.render(fams[s.Set]))
			continue
		}
		parts = append(parts, m.String())
	}
	if r.Counter {
		parts = append(parts, "counter")
	}
	if r.Action != nil {
		parts = append(parts, r.Action.String())
	}
	if r.ID != "" {
		parts = append(parts, fmt.Sprintf("comment %q", r.ID))
	}
	return strings.Join(parts, " ")
}

// Clone returns a deep copy of the table, so a caller may keep editing its
// own.
func (t *Table) Clone() *Table {
	if t == nil {
		return nil
	}
	c := &Table{Name: t.Name}
	for _, s := range t.Sets {
		s.Elements = slices.Clone(s.Elements)
		c.Sets = append(c.Sets, s)
	}
	for _, ch := range t.Chains {
		rules := make([]Rule, len(ch.Rules))
		for i, r := range ch.Rules {
			r.Match = slices.Clone(r.Match)
			rules[i] = r
		}
		ch.Rules = rules
		c.Chains = append(c.Chains, ch)
	}
	return c
}
