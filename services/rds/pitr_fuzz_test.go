package rds

import (
	"strings"
	"testing"
)

// FuzzGTIDList: any list parses or is refused without a panic; one that
// parses prints as a list that parses to the same position.
func FuzzGTIDList(f *testing.F) {
	for _, s := range []string{"", "[]", "0-1-57", "[0-1-57,0-2-60]", "1-3-9, 0-1-5", "0-1", "[0-1-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseGTIDList(s)
		if !ok {
			return
		}
		q, ok := parseGTIDList(p.String())
		if !ok || q.String() != p.String() || !p.covers(q) || !q.covers(p) {
			t.Fatalf("%q: %q does not read back (%q)", s, p.String(), q.String())
		}
	})
}

// FuzzNodeOutputs: what a node prints (a binary log listing, binary log
// events, a dump's head) is read or refused without a panic; a listing
// read names only safe files in order.
func FuzzNodeOutputs(f *testing.F) {
	f.Add("/var/lib/mysql/mysql-bin\nmysql-bin.000001\t1234\nmysql-bin.000002\t345\n")
	f.Add("mysql-bin.000003\t256\tGtid_list\t1\t299\t[0-1-57]\n")
	f.Add("-- SET GLOBAL gtid_slave_pos='0-1-57';\n")
	f.Fuzz(func(t *testing.T, out string) {
		if dir, names, ok := parseBinaryLogs([]byte(out)); ok {
			if !strings.HasPrefix(dir, "/") || len(names) == 0 {
				t.Fatalf("%q: %q %q", out, dir, names)
			}
			for i, n := range names {
				if !binlogName.MatchString(n) || (i > 0 && n <= names[i-1]) {
					t.Fatalf("%q: names %q", out, names)
				}
			}
		}
		if lists, ok := parseGtidListEvents([]byte(out)); ok {
			for _, l := range lists {
				if _, ok := parseGTIDList(l); !ok {
					t.Fatalf("%q: list %q", out, l)
				}
			}
		}
		if pos, ok := dumpPosition(strings.NewReader(out)); ok {
			if _, ok := parseGTIDList(pos); !ok {
				t.Fatalf("%q: position %q", out, pos)
			}
		}
	})
}
