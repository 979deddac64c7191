package nft

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoTable is returned by ReadCounters for a table the kernel does not
// have.
var ErrNoTable = errors.New("nft: no such table")

// socketBuffer is the send and receive buffer of a connection. A whole
// table goes in one batch (one sendmsg) and every rule is echoed back, so
// the defaults (about 200 KiB) would cap a router at a few hundred rules.
const socketBuffer = 16 << 20

// elemChunk bounds the ranges per set-element message: one netlink
// attribute holds at most 64 KiB.
const elemChunk = 256

// NewConn opens a netfilter netlink connection in the network namespace of
// the calling OS thread (run it inside network.Do to pick the namespace; the
// socket stays in that namespace afterwards). Close it with CloseLasting.
func NewConn() (*nftables.Conn, error) {
	return nftables.New(nftables.AsLasting(), nftables.WithSockOptions(func(c *netlink.Conn) error {
		rc, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		err = rc.Control(func(fd uintptr) {
			// The FORCE variants need CAP_NET_ADMIN, which Apply needs anyway;
			// fall back to the capped ones so a read-only use still works.
			for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
				if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], socketBuffer); e != nil {
					if e2 := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], socketBuffer); e2 != nil {
						serr = e2
					}
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}))
}

// Apply makes the kernel's table equal to t in one transaction (one
// netlink batch, which the kernel applies all or nothing).
//
// It reads the table first and edits it in place rather than deleting and
// recreating it: every chain is flushed and refilled, every set flushed and
// refilled, chains and sets no longer wanted are deleted. Inside the kernel
// a rule or element change takes effect by a generation switch, so a packet
// sees either all the old rules or all the new ones. (Deleting and
// recreating a base chain instead leaves a moment, during the commit, where
// the old chain still sees packets with its rules already gone; with a drop
// policy that loses packets. The tests catch it.) A base chain whose hook,
// priority or type changes cannot be edited and is recreated.
//
// Connections tracked by conntrack survive; a new table that accepts "ct
// state established" keeps them flowing. Counters restart at zero.
//
// The table is read and then written: a change made by someone else in
// between makes the batch fail as a whole (and changes nothing); the caller
// may retry. c must not hold other queued messages; after an error it may,
// so close it.
func Apply(c *nftables.Conn, t *Table) error {
	ct, err := compile(t)
	if err != nil {
		return err
	}
	cur, err := readTable(c, ct.table)
	if err != nil {
		return err
	}
	if err := queue(c, ct, cur); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nft: apply table %s: %w", ct.table.Name, err)
	}
	return nil
}

// current is what the kernel has of a table.
type current struct {
	chains map[string]*nftables.Chain
	sets   map[string]*nftables.Set
}

func readTable(c *nftables.Conn, t *nftables.Table) (*current, error) {
	cur := &current{chains: map[string]*nftables.Chain{}, sets: map[string]*nftables.Set{}}
	if _, err := c.ListTableOfFamily(t.Name, t.Family); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return cur, nil
		}
		return nil, fmt.Errorf("nft: read table %s: %w", t.Name, err)
	}
	chains, err := c.ListChainsOfTableFamily(t.Family)
	if err != nil {
		return nil, fmt.Errorf("nft: list chains: %w", err)
	}
	for _, ch := range chains {
		if ch.Table != nil && ch.Table.Name == t.Name {
			cur.chains[ch.Name] = ch
		}
	}
	sets, err := c.GetSets(t)
	if err != nil {
		return nil, fmt.Errorf("nft: list sets: %w", err)
	}
	for _, s := range sets {
		if !s.Anonymous {
			cur.sets[s.Name] = s
		}
	}
	return cur, nil
}

func sameHook(a, b *nftables.Chain) bool {
	if (a.Hooknum == nil) != (b.Hooknum == nil) {
		return false
	}
	if a.Hooknum == nil {
		return true
	}
	return *a.Hooknum == *b.Hooknum && a.Priority != nil && b.Priority != nil && *a.Priority == *b.Priority && a.Type == b.Type
}

// queue puts the whole change on c: flush every existing chain (so no old
// rule refers to anything any more), create or update chains, replace set
// contents, delete what is no longer wanted, add the rules.
func queue(c *nftables.Conn, ct *compiled, cur *current) error {
	c.AddTable(ct.table)
	for _, ch := range cur.chains {
		c.FlushChain(&nftables.Chain{Name: ch.Name, Table: ct.table})
	}
	want := map[string]bool{}
	for _, ch := range ct.chains {
		want[ch.Name] = true
		if old, ok := cur.chains[ch.Name]; ok && !sameHook(old, ch) {
			c.DelChain(&nftables.Chain{Name: ch.Name, Table: ct.table})
		}
		c.AddChain(ch)
	}
	for name := range cur.chains {
		if !want[name] {
			c.DelChain(&nftables.Chain{Name: name, Table: ct.table})
		}
	}
	wantSet := map[string]bool{}
	for _, s := range ct.sets {
		wantSet[s.set.Name] = true
		first, rest := splitElems(s.elems)
		old, exists := cur.sets[s.set.Name]
		if exists && old.KeyType.Name == s.set.KeyType.Name && old.Interval == s.set.Interval && !old.Constant && !old.IsMap {
			c.FlushSet(s.set)
			rest = append([][]nftables.SetElement{first}, rest...)
		} else {
			if exists {
				c.DelSet(s.set)
			}
			if err := c.AddSet(s.set, first); err != nil {
				return fmt.Errorf("nft: set %q: %w", s.set.Name, err)
			}
		}
		for _, chunk := range rest {
			if len(chunk) == 0 {
				continue
			}
			if err := c.SetAddElements(s.set, chunk); err != nil {
				return fmt.Errorf("nft: set %q: %w", s.set.Name, err)
			}
		}
	}
	for name := range cur.sets {
		if !wantSet[name] {
			c.DelSet(&nftables.Set{Name: name, Table: ct.table})
		}
	}
	for _, r := range ct.rules {
		c.AddRule(r)
	}
	return nil
}

// splitElems cuts interval elements into messages of at most elemChunk
// ranges, never separating a range's start from its end.
func splitElems(elems []nftables.SetElement) (first []nftables.SetElement, rest [][]nftables.SetElement) {
	var chunks [][]nftables.SetElement
	var cur []nftables.SetElement
	ranges := 0
	for i, e := range elems {
		cur = append(cur, e)
		endsRange := e.IntervalEnd || i+1 == len(elems) || !elems[i+1].IntervalEnd
		if endsRange {
			ranges++
			if ranges == elemChunk {
				chunks, cur, ranges = append(chunks, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	if len(chunks) == 0 {
		return nil, nil
	}
	return chunks[0], chunks[1:]
}

// Delete removes the named table if it exists.
func Delete(c *nftables.Conn, name string) error {
	if name == "" {
		name = DefaultTable
	}
	t := &nftables.Table{Name: name, Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nft: delete table %s: %w", name, err)
	}
	return nil
}

// ReadCounters returns the counters of the named table's counted rules,
// keyed by chain and rule ID.
func ReadCounters(c *nftables.Conn, name string) (map[RuleID]Counter, error) {
	if name == "" {
		name = DefaultTable
	}
	if _, err := c.ListTableOfFamily(name, nftables.TableFamilyINet); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w: %s", ErrNoTable, name)
		}
		return nil, fmt.Errorf("nft: table %s: %w", name, err)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("nft: list chains: %w", err)
	}
	out := map[RuleID]Counter{}
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != name {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("nft: rules of chain %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			id := comment(r.UserData)
			if id == "" {
				continue
			}
			for _, e := range r.Exprs {
				if k, ok := e.(*expr.Counter); ok {
					out[RuleID{Chain: ch.Name, ID: id}] = Counter{Packets: k.Packets, Bytes: k.Bytes}
				}
			}
		}
	}
	return out, nil
}
