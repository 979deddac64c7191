package rds

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// MariaDB GTID positions, as the engine and its tools print them: a
// comma-separated list of domain-server-sequence triples ("0-1-57,1-2-3"),
// where a position is, per replication domain, the last transaction
// applied. A Gtid_list event shows one in brackets ("[0-1-57]").

// gtidPos is a position: per domain, its last GTID.
type gtidPos map[uint32]gtid

type gtid struct {
	Server uint32
	Seq    uint64
}

// parseGTIDList reads a GTID list, bracketed or not; an empty one is the
// position before any transaction. A domain named twice keeps its
// highest sequence (sequences grow within a domain in strict mode).
func parseGTIDList(s string) (gtidPos, bool) {
	s = strings.TrimSpace(s)
	if t, ok := strings.CutPrefix(s, "["); ok {
		if s, ok = strings.CutSuffix(t, "]"); !ok {
			return nil, false
		}
	}
	pos := gtidPos{}
	if strings.TrimSpace(s) == "" {
		return pos, true
	}
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), "-")
		if len(parts) != 3 {
			return nil, false
		}
		d, err1 := strconv.ParseUint(parts[0], 10, 32)
		sv, err2 := strconv.ParseUint(parts[1], 10, 32)
		seq, err3 := strconv.ParseUint(parts[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, false
		}
		if cur, ok := pos[uint32(d)]; !ok || seq > cur.Seq {
			pos[uint32(d)] = gtid{Server: uint32(sv), Seq: seq}
		}
	}
	return pos, true
}

// String is the position as mariadb-binlog's --start-position takes it:
// one GTID per domain, in domain order.
func (p gtidPos) String() string {
	domains := make([]uint32, 0, len(p))
	for d := range p {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	items := make([]string, len(domains))
	for i, d := range domains {
		items[i] = strconv.FormatUint(uint64(d), 10) + "-" + strconv.FormatUint(uint64(p[d].Server), 10) + "-" + strconv.FormatUint(p[d].Seq, 10)
	}
	return strings.Join(items, ",")
}

// covers is whether p has applied every transaction of q.
func (p gtidPos) covers(q gtidPos) bool {
	for d, g := range q {
		if p[d].Seq < g.Seq {
			return false
		}
	}
	return true
}

// advance is p moved on to q where q is further.
func (p gtidPos) advance(q gtidPos) gtidPos {
	out := gtidPos{}
	for d, g := range p {
		out[d] = g
	}
	for d, g := range q {
		if g.Seq > out[d].Seq {
			out[d] = g
		}
	}
	return out
}

// dumpTailLimit bounds how much of a dump's end is read for its
// position: mariadb-dump writes it after the data.
const dumpTailLimit = 64 << 10

// dumpPosition reads the GTID position a dump made with --gtid
// --master-data=2 records, commented out, after its data ("-- SET GLOBAL
// gtid_slave_pos='0-1-57';"), from r, the dump's end; ok is false when it
// records none.
func dumpPosition(r io.Reader) (string, bool) {
	sc := bufio.NewScanner(io.LimitReader(r, dumpTailLimit))
	sc.Buffer(make([]byte, 0, 4096), dumpTailLimit)
	const marker = "-- SET GLOBAL gtid_slave_pos='"
	pos, found := "", false
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), marker)
		if !ok {
			continue
		}
		list, _, ok := strings.Cut(rest, "'")
		if _, valid := parseGTIDList(list); ok && valid {
			pos, found = list, true
		}
	}
	return pos, found
}
